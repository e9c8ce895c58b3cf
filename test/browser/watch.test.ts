import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchPreview, type PreviewWatch, type WatchRound } from '../../src/watch.js';
import { exampleCampaign } from '../helpers/cli.js';
import { launchChromium } from './chromium.js';

/** `preview --watch` in Chromium: the real server, the real watcher, the init example. */
describe('the watch server in Chromium', () => {
  let browser: Browser;
  let campaign: string;
  let watch: PreviewWatch;
  const rounds: WatchRound[] = [];
  const foreign: string[] = [];

  beforeAll(async () => {
    campaign = await exampleCampaign();
    watch = await watchPreview(campaign, { now: () => new Date(), onRound: (r) => void rounds.push(r), onError: (e) => { throw e; }, debounceMs: 50 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await watch?.close();
    await browser?.close();
  });

  async function openGallery(recipients = 12): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // Every request the page (and its frames) makes must go to the watch server.
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname !== '127.0.0.1') {
        foreign.push(url.href);
        await route.abort();
      } else await route.continue();
    });
    await page.goto(watch.url);
    await expect.poll(() => page.locator('[data-testid=recipient]').count()).toBe(recipients);
    await expect.poll(() => page.locator('#live-status').textContent()).toMatch(/watching/);
    return page;
  }

  async function edit(file: string, change: (text: string) => string): Promise<void> {
    const full = path.join(campaign, file);
    await writeFile(full, change(await readFile(full, 'utf8')));
  }

  it('after a save the page shows the new message, on the same recipient, tab and width', async () => {
    const page = await openGallery();
    const recipient = page.locator('[data-testid=recipient]').nth(4);
    const email = (await recipient.locator('.r-email').textContent()) ?? '';
    await recipient.click();
    await page.click('#toggle-mobile');
    await page.click('#tab-text');
    const text = page.frameLocator('#text-frame');
    await expect.poll(() => text.locator('body').innerText().catch(() => '')).toContain('Dear');

    await edit('message.mjml', (t) => t.replace('<p>Dear {{contact_name}},</p>', '<p>Good morning {{contact_name}},</p>'));
    await expect.poll(() => page.frameLocator('#text-frame').locator('body').innerText().catch(() => ''), { timeout: 15_000 }).toContain('Good morning');
    expect(await page.locator('[aria-selected=true][data-testid=recipient] .r-email').textContent()).toBe(email);
    expect(await page.locator('#tab-text').getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('#toggle-mobile').getAttribute('aria-pressed')).toBe('true');
    expect(rounds.at(-1)).toMatchObject({ changed: ['message.mjml'], rendered: true, reused: { recipients: true, template: false } });
    await page.close();
  });

  it('shows an MJML or Handlebars error with its line and source and the hint, keeps the last good preview, and clears it when fixed', async () => {
    const page = await openGallery();
    await page.locator('[data-testid=recipient]').nth(2).click();
    const lines = (await readFile(path.join(campaign, 'message.mjml'), 'utf8')).split('\n');
    const line = lines.findIndex((l) => l.includes('{{contact_name}},</p>')) + 1;

    await edit('message.mjml', (t) => t.replace('{{contact_name}},</p>', '{{#if contact_name}},</p>'));
    const problem = page.locator('[data-testid=live-problem]').first();
    await expect.poll(() => problem.textContent().catch(() => ''), { timeout: 15_000 }).toContain(`message.mjml:${line}`);
    expect(await problem.locator('.live-problem-source').textContent()).toContain(`${line} |`);
    expect(await problem.locator('.live-problem-hint').textContent()).toMatch(/^hint: /);
    // The last good preview stays, on the same recipient.
    expect(await page.locator('[data-testid=recipient]').count()).toBe(12);
    expect(await page.locator('[data-testid=recipient]').nth(2).getAttribute('aria-selected')).toBe('true');
    expect(rounds.at(-1)).toMatchObject({ rendered: false });

    await edit('message.mjml', (t) => t.replace('{{#if contact_name}},</p>', '{{contact_name}},</p>'));
    await expect.poll(() => page.locator('#live-problems').count(), { timeout: 15_000 }).toBe(0);
    expect(await page.locator('[data-testid=recipient]').nth(2).getAttribute('aria-selected')).toBe('true');
    await page.close();
  });

  it('reads the recipient list again only when it changed, and shows the new row', async () => {
    const page = await openGallery();
    await edit('recipients.csv', (t) => `${t.trimEnd()}\nhead@new-school.example.org,Nia Okafor,Brookfield Primary,Hartmoor North,HS-2001,en,\n`);
    await expect.poll(() => page.locator('[data-testid=recipient]').count(), { timeout: 15_000 }).toBe(13);
    expect(rounds.at(-1)).toMatchObject({ changed: ['recipients.csv'], rendered: true, reused: { recipients: false, template: true } });
    await page.close();
  });

  it('keeps the scroll position of the message after a save', async () => {
    const page = await openGallery(13);
    await page.locator('[data-testid=recipient]').nth(1).click();
    const frame = page.frameLocator('#preview-frame');
    await expect.poll(() => frame.locator('body').innerText().catch(() => '')).toContain('Good morning');
    // The message's own frame (same origin under --watch, still without scripts).
    const messageFrame = async () => (await page.locator('#preview-frame').elementHandle())?.contentFrame();
    await (await messageFrame())?.evaluate('window.scrollTo(0, 400)');
    await edit('message.mjml', (t) => t.replace('{{contact_name}},</p>', '{{contact_name}}.</p>'));
    await expect.poll(() => page.frameLocator('#preview-frame').locator('body').innerText().catch(() => ''), { timeout: 15_000 }).toMatch(/Good morning [^,\n]+\./);
    await expect.poll(async () => Number(await (await messageFrame())?.evaluate('window.scrollY'))).toBeGreaterThanOrEqual(390);
    await page.close();
  });

  /** Each message file's modification time, by name. */
  async function messageTimes(): Promise<Map<string, number>> {
    const dir = path.join(campaign, 'preview', 'messages');
    const times = new Map<string, number>();
    for (const name of await readdir(dir)) times.set(name, (await stat(path.join(dir, name))).mtimeMs);
    return times;
  }

  it('takes a save in place, without reloading the page, and rewrites only the files of the messages that changed', async () => {
    const page = await openGallery(13);
    const welsh = page.locator('[data-testid=recipient]', { hasText: 'pennaeth@ysgol-bryn-hartmoor.example.org' });
    await welsh.click();
    await page.click('#tab-text');
    await expect.poll(() => page.frameLocator('#text-frame').locator('body').innerText().catch(() => '')).toContain('Annwyl');
    // A reload would lose this.
    await page.evaluate(() => Object.assign(window, { keptAcrossSaves: 'the same page' }));
    const versionBefore = Number(await page.locator('#live-status').getAttribute('data-version'));
    const before = await messageTimes();

    await edit('message.cy.mjml', (t) => t.replace('<p>Annwyl {{contact_name}},</p>', '<p>Bore da {{contact_name}},</p>'));
    await expect.poll(() => page.frameLocator('#text-frame').locator('body').innerText().catch(() => ''), { timeout: 15_000 }).toContain('Bore da');
    await expect.poll(() => page.locator('#live-status').getAttribute('data-version'), { timeout: 15_000 }).toBe(String(versionBefore + 1));
    expect(await page.evaluate(() => (window as unknown as { keptAcrossSaves?: string }).keptAcrossSaves)).toBe('the same page');
    expect(await page.locator('[aria-selected=true][data-testid=recipient] .r-email').textContent()).toBe('pennaeth@ysgol-bryn-hartmoor.example.org');
    expect(await page.locator('#tab-text').getAttribute('aria-selected')).toBe('true');
    expect(rounds.at(-1)).toMatchObject({ changed: ['message.cy.mjml'], rendered: true });
    // The message on screen (its .html and .txt, and those earlier pages showed) went to the page before the rest of the round.
    expect(rounds.at(-1)!.early).toBeGreaterThanOrEqual(2);

    await watch.settled();
    const after = await messageTimes();
    const rewritten = [...after].filter(([name, time]) => before.get(name) !== time).map(([name]) => name).sort();
    expect(rewritten).toEqual(['0008-pennaeth@ysgol-bryn-hartmoor.example.org.eml', '0008-pennaeth@ysgol-bryn-hartmoor.example.org.html', '0008-pennaeth@ysgol-bryn-hartmoor.example.org.txt']);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    await page.close();
  });

  it('made no request to anything but 127.0.0.1', () => {
    expect(foreign).toEqual([]);
  });
});
