import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewCampaign, type PreviewResult } from '../../src/preview.js';
import { exampleCampaign } from '../helpers/cli.js';
import { launchChromium } from './chromium.js';

const ROWS = 1_500;
const NOTE = 'Extra patrols are in place near the school gates at the start and end of the day.';

/** Fictional schools: every fifth has a note, every tenth reads Welsh; one name is much longer. */
function rows(): string {
  const lines = ['email,contact_name,school,area,school_ref,language,note'];
  for (let i = 1; i <= ROWS; i++) {
    const school = i === 1_234 ? 'Ysgol Gymraeg Llanfair-ym-Muallt a Chwm Elan Community Primary' : `School number ${i}`;
    lines.push(`head${i}@school${i % 7}.example.org,Head Teacher ${i},${school},Area ${i % 4},HS-${1000 + i},${i % 10 === 0 ? 'cy' : 'en'},${i % 5 === 0 ? `"${NOTE}"` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The preview folder over HTTP on 127.0.0.1, as a reviewer's local server would serve it. */
function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = path.join(root, decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    stat(file).then(
      () => {
        const type = file.endsWith('.html') ? 'text/html; charset=utf-8' : file.endsWith('.txt') ? 'text/plain; charset=utf-8' : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type });
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('versions and every recipient, in Chromium', () => {
  let campaign: string;
  let result: PreviewResult;
  let server: Server;
  let origin: string;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    campaign = await exampleCampaign({ recipients: rows() });
    result = await previewCampaign(campaign, { now: new Date('2026-11-27T10:00:00Z') });
    expect(result.plan.ok).toBe(true);
    server = await serve(result.outDir!);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${origin}/index.html`);
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (campaign) await rm(path.dirname(campaign), { recursive: true, force: true });
  });

  it('lists each version once, and the versions add up to the recipient count', async () => {
    const counts = await page.locator('[data-testid=version-count]').evaluateAll((nodes) => nodes.map((n) => Number((n as { dataset: Record<string, string> }).dataset.count)));
    // English, English with the note, Welsh with the note (every tenth is also every fifth).
    expect(counts).toEqual([1_200, 150, 150]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(ROWS);
    expect(await page.locator('[data-count=recipients] dd').innerText()).toBe('1,500');
    expect(await page.locator('#versions-title').innerText()).toBe('3 versions of this message');
    // Virtualised: the page holds the rows in view, not 1,500.
    expect(await page.locator('#shown-count').innerText()).toBe('1,500 of 1,500 shown');
    expect(await page.locator('[data-testid=recipient]').count()).toBeLessThan(60);
    expect(await page.locator('[data-version="2"] .version-diff').innerText()).toContain('{{#if note}}');
  });

  it('finds a recipient beyond the first 1,000 and shows their version\'s example with their values', async () => {
    await page.fill('#search', 'head1237@');
    await expect.poll(() => page.locator('#shown-count').innerText()).toBe('1 of 1,500 shown');
    await page.locator('[data-testid=recipient]', { hasText: 'Head Teacher 1237' }).click();
    const own = page.locator('#own-values');
    await expect.poll(() => own.isVisible()).toBe(true);
    expect(await own.innerText()).toContain('Files were not written for Head Teacher 1237 <head1237@school5.example.org> (CSV line 1238)');
    expect(await own.innerText()).toContain('They get version 1 (en)');
    expect(await own.innerText()).toContain('School number 1237');
    // The example, recipient 1, is in the frame.
    await expect.poll(() => page.frameLocator('#preview-frame').locator('body').innerText().catch(() => ''), { timeout: 5_000 }).toContain('Dear Head Teacher 1,');
  });

  it('lists one version\'s recipients, and opens an extreme past the first 1,000 in its own message', async () => {
    await page.fill('#search', '');
    await page.locator('[data-version="3"] [data-filter-version]').click();
    await expect.poll(() => page.locator('#shown-count').innerText()).toBe('150 of 1,500 shown (version 3)');
    await page.locator('#version-filter-clear').click();
    await expect.poll(() => page.locator('#shown-count').innerText()).toBe('1,500 of 1,500 shown');
    await page.locator('[data-version="1"] button', { hasText: /Longest school \(/ }).click();
    await expect.poll(() => page.frameLocator('#preview-frame').locator('body').innerText().catch(() => ''), { timeout: 5_000 }).toContain('Chwm Elan Community Primary');
    expect(await page.locator('#own-values').isVisible()).toBe(false);
    expect(await page.locator('[data-testid=recipient][aria-selected=true]').innerText()).toContain('Head Teacher 1234');
  });

  it('sends no request anywhere but 127.0.0.1, and logs no errors', () => {
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
