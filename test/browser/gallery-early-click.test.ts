import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewCampaign } from '../../src/preview.js';
import { exampleCampaign, schoolRows } from '../helpers/cli.js';
import { launchChromium } from './chromium.js';

/**
 * A long list's page draws its first rows before the browser has read every recipient (the
 * second data block, after the page script). A recipient picked in that moment is shown as soon
 * as the rest is read, not left blank. The page is served in two parts, the second held back
 * until the test lets it go, so the moment is not left to timing.
 */
describe('a recipient picked before the whole list is read, in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let page: Page;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    const campaign = await exampleCampaign({ recipients: schoolRows(1_500) });
    const result = await previewCampaign(campaign, { now: new Date('2026-12-02T10:00:00Z') });
    const root = result.outDir!;
    const html = await readFile(path.join(root, 'index.html'), 'utf8');
    const cut = html.indexOf('<script type="application/json" id="gallery-index">');
    expect(cut).toBeGreaterThan(0);
    const held = new Promise<void>((resolve) => (release = resolve));
    server = createServer((req, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/' || url.pathname === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.write(html.slice(0, cut));
        void held.then(() => res.end(html.slice(cut)));
        return;
      }
      readFile(path.join(root, decodeURIComponent(url.pathname))).then(
        (body) => res.writeHead(200, { 'content-type': url.pathname.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    release();
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('shows their message once every recipient is read', async () => {
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { waitUntil: 'commit' });
    await page.waitForSelector('[data-testid=recipient]');
    expect(await page.evaluate(() => document.documentElement.getAttribute('data-index'))).toBeNull();

    // Recipient 101 (seq 100): among the first rows drawn, but past the entries the first block holds.
    await page.evaluate(() => {
      document.getElementById('recipient-list')!.scrollTop = 100 * 56;
    });
    await page.locator('#recipient-100').click();
    await expect.poll(() => page.locator('#selected-subject').textContent()).toBe('Reading the list\u2026');
    expect(await page.locator('#selected-to').textContent()).toContain('head101@');

    release();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-index') === 'read');
    await expect.poll(() => page.frameLocator('#preview-frame').locator('body').innerText().catch(() => ''), { timeout: 15_000 }).toContain('Dear Head Teacher 101,');
    expect(await page.locator('#selected-to').textContent()).toContain('head101@');
    expect(await page.locator('#recipient-100').getAttribute('aria-selected')).toBe('true');
  });
});
