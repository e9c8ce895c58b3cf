import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { previewCampaign } from '../../src/preview.js';
import { exampleCampaign, ROOT } from '../helpers/cli.js';
import { launchChromium } from './chromium.js';

/** The gallery as `bulletin preview` really writes it, for the partnership example. */
describe('a real preview gallery in Chromium', () => {
  let browser: Browser;
  let index: string;

  beforeAll(async () => {
    const campaign = await exampleCampaign({ example: 'faith-groups' });
    const result = await previewCampaign(campaign, { now: new Date('2026-11-27T10:00:00Z') });
    expect(result.plan.ok).toBe(true);
    index = path.join(result.outDir!, 'index.html');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('finds the Welsh recipient, shows their Welsh message in the frame, at mobile width too', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`file://${index}`);
    // The list is virtualised: the count says how many it holds, the DOM has the rows in view.
    await expect.poll(() => page.locator('#shown-count').innerText()).toBe('15 of 15 shown');
    await page.fill('#search', 'Gwenllian');
    await expect.poll(() => page.locator('[data-testid=recipient]:visible').count()).toBe(1);
    await page.locator('[data-testid=recipient]:visible').first().click();
    const frame = page.frameLocator('#preview-frame');
    await expect.poll(() => frame.locator('body').innerText().catch(() => ''), { timeout: 5_000 }).toContain('Gwenllian Morgan');
    expect(await frame.locator('body').innerText()).toMatch(/Annwyl/);
    await page.click('#toggle-mobile');
    await expect.poll(async () => (await page.locator('#preview-frame').boundingBox())?.width).toBe(375);
    await mkdir(path.join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-results', 'preview-gallery-welsh.png') });
    await page.close();
  });
});
