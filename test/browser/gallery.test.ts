import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderGalleryHtml, type GalleryEntry } from '../../src/core/gallery.js';
import { launchChromium } from './chromium.js';
import { scratchDir } from '../helpers/scratch.js';

const people = [
  { name: 'Alex Morgan', email: 'head@ashfield-primary.example.org', school: 'Ashfield Primary' },
  { name: 'Bethan Llewelyn', email: 'pennaeth@ysgol-y-bryn.example.org', school: 'Ysgol y Bryn', language: 'cy' },
  { name: 'Chidi Okafor', email: 'office@brookside.example.org', school: 'Brookside Academy' },
  { name: 'Dana Whitfield', email: 'head@brookside-infants.example.org', school: 'Brookside Infants' },
  { name: 'Eilidh Fraser', email: 'e.fraser@hartmoor-high.example.com', school: 'Hartmoor High School' },
];
const subject = 'A message to headteachers from Hartmoor Community Safety';

let dir: string;
let browser: Browser;
let page: Page;

async function writeCampaignPreview(): Promise<string> {
  dir = await scratchDir('bulletin-gallery-');
  await mkdir(path.join(dir, 'messages'));
  const entries: GalleryEntry[] = [];
  for (const [i, person] of people.entries()) {
    const base = `messages/${String(i + 2).padStart(4, '0')}-${person.email.replace(/[^a-z0-9]+/gi, '-')}`;
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="font-family: Arial, sans-serif; margin: 0; background: #eef1f4">
<div style="max-width: 600px; margin: 0 auto; background: #fff; padding: 24px">
<p style="color:#1d4e89;font-weight:bold">Hartmoor Community Safety</p>
<p>Dear ${person.name},</p>
<p>We are writing to all schools in the area, including ${person.school}, to share what we know and the support available to pupils and staff this week.</p>
<p>Officers will visit schools on request. Call 01632 960123 or reply to this message.</p>
<p>With thanks,<br>Jordan Hale<br>Partnerships Officer</p>
</div></body></html>`;
    const text = `Dear ${person.name},\n\nWe are writing to all schools in the area, including ${person.school} — croeso.\n\nWith thanks,\nJordan Hale\n`;
    const eml = `From: Hartmoor Community Safety <community@example.org>\r\nTo: ${person.name} <${person.email}>\r\nSubject: ${subject}\r\n\r\n${text}`;
    await writeFile(path.join(dir, `${base}.html`), html);
    await writeFile(path.join(dir, `${base}.txt`), text);
    await writeFile(path.join(dir, `${base}.eml`), eml);
    entries.push({
      email: person.email,
      name: person.name,
      line: i + 2,
      ...(person.language ? { language: person.language } : {}),
      subject,
      files: { html: `${base}.html`, text: `${base}.txt`, eml: `${base}.eml` },
      headers: [
        ['From', 'Hartmoor Community Safety <community@example.org>'],
        ['To', `${person.name} <${person.email}>`],
        ['Subject', subject],
        ['Auto-Submitted', 'auto-generated'],
        ['X-Auto-Response-Suppress', 'OOF, AutoReply'],
      ],
      warnings: i === 3 ? ['image without alt text (message.mjml:41)'] : [],
    });
  }
  const html = renderGalleryHtml({
    campaign: 'Statement to headteachers, March',
    generatedAt: '2025-03-03T14:05:00.000Z',
    counts: { recipients: 5, written: 5, warnings: 1, errors: 0, suppressed: 0 },
    diagnostics: [{ location: 'message.mjml:41', severity: 'warning', message: 'image without alt text' }],
    approval: { state: 'none', command: 'bulletin approve --by "Your Name"' },
    entries,
  });
  const index = path.join(dir, 'index.html');
  await writeFile(index, html);
  return pathToFileURL(index).href;
}

const frameText = (id: string) => () => page.frameLocator(id).locator('body').innerText({ timeout: 2_000 }).catch(() => '');
const visibleRecipients = () => page.locator('[data-testid=recipient]:visible');

describe('preview gallery in Chromium', () => {
  const problems: string[] = [];

  beforeAll(async () => {
    const url = await writeCampaignPreview();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request outside the preview folder: ${r.url()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists every recipient and opens the first one', async () => {
    await expect.poll(() => visibleRecipients().count()).toBe(5);
    expect(await page.locator('#shown-count').innerText()).toBe('5 of 5 shown');
    await expect.poll(frameText('#preview-frame')).toContain('Dear Alex Morgan,');
    expect(await page.locator('#approval').innerText()).toContain('Not approved yet');
  });

  it('filters the list as you type', async () => {
    await page.locator('#search').fill('brookside');
    await expect.poll(() => visibleRecipients().count()).toBe(2);
    expect(await page.locator('#shown-count').innerText()).toBe('2 of 5 shown');
    await page.locator('#search').fill('chidi');
    await expect.poll(() => visibleRecipients().count()).toBe(1);
    expect(await page.locator('#shown-count').innerText()).toBe('1 of 5 shown');
    await page.locator('#search').fill('');
    await expect.poll(() => visibleRecipients().count()).toBe(5);
  });

  it('shows the clicked recipient inside the iframe, and moves with the arrow keys', async () => {
    await page.locator('[data-testid=recipient]', { hasText: 'Eilidh Fraser' }).click();
    await expect.poll(frameText('#preview-frame')).toContain('Dear Eilidh Fraser,');
    await page.keyboard.press('ArrowUp');
    await expect.poll(frameText('#preview-frame')).toContain('Dear Dana Whitfield,');
    expect(await page.locator('[data-testid=recipient][aria-selected=true]').innerText()).toContain('Dana Whitfield');
    expect(await page.locator('#selected-warnings').innerText()).toContain('image without alt text');
  });

  it('switches between desktop and mobile width', async () => {
    const width = async () => (await page.locator('#preview-frame').boundingBox())?.width;
    expect(await width()).toBeGreaterThan(700);
    await page.locator('#toggle-mobile').click();
    expect(await width()).toBe(375);
    expect(await page.locator('#toggle-mobile').getAttribute('aria-pressed')).toBe('true');
    await page.locator('#toggle-desktop').click();
    expect(await width()).toBeGreaterThan(700);
  });

  it('shows the text part and the headers', async () => {
    await page.locator('[data-tab=text]').click();
    await expect.poll(frameText('#text-frame')).toContain('Dear Dana Whitfield,');
    await expect.poll(frameText('#text-frame')).toContain('— croeso');
    await page.locator('[data-tab=headers]').click();
    expect(await page.locator('#toggle-mobile').isVisible()).toBe(false);
    const headers = await page.locator('#headers-table').innerText();
    expect(headers).toContain('Subject');
    expect(headers).toContain(subject);
    expect(await page.locator('#preview-frame').isVisible()).toBe(false);
    await page.locator('[data-tab=html]').click();
    expect(await page.locator('#download-eml').getAttribute('href')).toMatch(/\.eml$/);
  });

  it('loads nothing from outside and logs no errors; screenshot for review', async () => {
    await page.locator('[data-testid=recipient]', { hasText: 'Bethan Llewelyn' }).click();
    await expect.poll(frameText('#preview-frame')).toContain('Dear Bethan Llewelyn,');
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/gallery.png' });
    await page.locator('#toggle-mobile').click();
    await page.screenshot({ path: 'test-results/gallery-mobile.png' });
    await page.locator('#toggle-desktop').click();
    expect(problems).toEqual([]);
  });
});
