import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchPreview, type PreviewWatch } from '../../src/watch.js';
import { exampleCampaign, schoolRows } from '../helpers/cli.js';
import { launchChromium } from './chromium.js';

const ROWS = 1_300;

/**
 * The live gallery of a list longer than preview.maxFiles: any recipient past the written ones
 * is rendered by the watch server the moment they are picked, with the same renderer as send.
 */
describe('the live gallery renders any recipient on demand, in Chromium', () => {
  let browser: Browser;
  let campaign: string;
  let watch: PreviewWatch;
  let page: Page;
  const requests: string[] = [];
  const foreign: string[] = [];

  beforeAll(async () => {
    campaign = await exampleCampaign({ recipients: schoolRows(ROWS) });
    watch = await watchPreview(campaign, { now: () => new Date(), onRound: () => undefined, onError: (e) => { throw e; }, debounceMs: 50 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      requests.push(url.pathname);
      if (url.hostname !== '127.0.0.1') {
        foreign.push(url.href);
        await route.abort();
      } else await route.continue();
    });
    await page.goto(watch.url);
    await page.waitForFunction(() => /watching/.test(document.getElementById('live-status')?.textContent ?? ''));
  });
  afterAll(async () => {
    await watch?.close();
    await browser?.close();
  });

  async function pick(query: string): Promise<void> {
    await page.fill('#search', query);
    await expect.poll(() => page.locator('[data-testid=recipient]').count()).toBe(1);
    await page.locator('[data-testid=recipient]').first().click();
  }

  it('writes files for the first 1,000 only, and a click on recipient 1,234 shows their own message', async () => {
    const written = (await readdir(path.join(watch.outDir, 'messages'))).filter((f) => f.endsWith('.html'));
    expect(written.some((f) => f.includes('head1234@'))).toBe(false);

    await pick('head1234@');
    const frame = page.frameLocator('#preview-frame');
    await expect.poll(() => frame.locator('body').innerText().catch(() => ''), { timeout: 15_000 }).toContain('Dear Head Teacher 1234,');
    await expect.poll(() => page.locator('#selected-to').textContent()).toContain('head1234@school2.example.org');
    expect(await page.locator('#own-values').isHidden()).toBe(true);
    expect(await page.locator('#not-written').isHidden()).toBe(true);
    // The rendered row is no longer marked as shown by example.
    expect(await page.locator('[data-testid=recipient] .badge-unwritten').count()).toBe(0);

    await page.click('#tab-text');
    await expect.poll(() => page.frameLocator('#text-frame').locator('body').innerText().catch(() => '')).toContain('Head Teacher 1234');
    await page.click('#tab-headers');
    expect(await page.locator('#headers-table').innerText()).toContain('head1234@school2.example.org');
    // Its .eml is the message as send builds it.
    const href = (await page.locator('#download-eml').getAttribute('href')) ?? '';
    expect(href).toMatch(/^\/__bulletin\/render\/\d+\/1233\.eml$/);
    const eml = await page.evaluate(async (url) => (await fetch(url)).text(), href);
    expect(eml).toMatch(/^To: .*head1234@school2\.example\.org/m);
    expect(eml).toMatch(/^MIME-Version: 1\.0/m);
    await page.click('#tab-html');
  });

  it('renders from the template as last saved', async () => {
    const file = path.join(campaign, 'message.mjml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('<p>Dear {{contact_name}},</p>', '<p>Good afternoon {{contact_name}},</p>'));
    // The page follows the save; then recipient 1,250 is rendered with the new wording.
    await expect.poll(() => page.frameLocator('#preview-frame').locator('body').innerText().catch(() => ''), { timeout: 15_000 }).toContain('Good afternoon Head Teacher 1234,');
    await pick('head1250@');
    await expect.poll(() => page.frameLocator('#preview-frame').locator('body').innerText().catch(() => ''), { timeout: 15_000 }).toContain('Good afternoon Head Teacher 1250,');
  });

  it('answers a page made before the last save with 410, not an old rendering, and nothing it was not asked for', async () => {
    const base = watch.url.replace(/\/$/, '');
    const stale = await fetch(`${base}/__bulletin/render/1/1200.json`);
    expect(stale.status).toBe(410);
    // The rendering the page shows now (it takes new ones in place).
    const version = await page.locator('#live-status').getAttribute('data-version');
    const current = `/__bulletin/render/${version}/{seq}.{ext}`;
    expect((await fetch(`${base}${current.replace('{seq}', '99999').replace('{ext}', 'json')}`)).status).toBe(404);
    expect((await fetch(`${base}${current.replace('{seq}', '5').replace('{ext}', 'exe')}`)).status).toBe(404);
    const ok = await fetch(`${base}${current.replace('{seq}', '1200').replace('{ext}', 'json')}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ email: 'head1201@school4.example.org', line: 1202 });
  });

  it('made no request to anything but 127.0.0.1, and fetched renders only for the recipients picked', () => {
    expect(foreign).toEqual([]);
    const rendered = new Set(requests.filter((p) => p.startsWith('/__bulletin/render/')).map((p) => p.replace(/^.*\/(\d+)\.\w+$/, '$1')));
    expect([...rendered].sort()).toEqual(['1233', '1249']);
  });
});
