/**
 * `bulletin preview DIR --json` on a generated 100,000-row campaign, through the real CLI: wall
 * time and peak RSS for every message rendered and checked, the versions found, the gallery's
 * index of every recipient written, and files for the first preview.maxFiles (1,000) plus each
 * version's example and extremes. Then the gallery in Debian's Chromium (playwright-core):
 * time to the first rows on screen, and a search's time, for all 100,000 recipients.
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, measureProcess, median, pending, result, round, withTempDir } from './harness.js';
import { createCampaign } from './campaign.js';

export const name = 'preview-large';
const CHROMIUM = '/usr/bin/chromium';
const SEARCHES = ['head99321@', 'marrowford academy no. 4321', 'line 87654', 'Pettifer'];

export async function run({ quick }) {
  const rows = quick ? 20_000 : 100_000;
  return withTempDir('preview', async (dir) => {
    await createCampaign(dir, rows);
    const options = { env: { NODE_EXTRA_CA_CERTS: '' } };
    const m = await measureProcess(process.execPath, [BIN, 'preview', dir, '--json'], options);
    const report = parseJson(m.stdout);
    if (m.code !== 0 || !report?.ok || report.recipients !== rows) {
      throw new Error(`preview exited ${m.code}, ok ${report?.ok}, ${report?.recipients} recipients (expected ${rows}): ${m.stderr.slice(0, 500)}`);
    }
    const inVersions = report.versions.reduce((n, v) => n + v.count, 0);
    if (inVersions !== rows) throw new Error(`the versions hold ${inVersions} recipients, not ${rows}`);
    const index = join(dir, 'preview', 'index.html');
    const pageMb = (await stat(index)).size / 1e6;
    const files = (await readdir(join(dir, 'preview', 'messages'))).length / 3;
    const label = `${rows.toLocaleString('en-GB')} rows`;
    const out = [
      result(`preview ${label}: wall time`, round(m.ms), 'ms', { op: '<', value: quick ? 2000 : 10_000 }, `CPU ${round(m.cpuMs / 1000, 1)} s; every message rendered and checked, ${report.versions.length} versions, files for ${files} recipients (${report.written} written), index.html ${round(pageMb, 1)} MB`),
      result(`preview ${label}: peak RSS`, round(m.peakMb, 1), 'MB', { op: '<', value: 200 }, 'whole CLI process, its worker threads included'),
    ];
    out.push(...(await inChromium(index, rows, label, pageMb)));
    return out;
  });
}

/** First rows on screen and search times, in the gallery the preview wrote. */
async function inChromium(index, rows, label, pageMb) {
  if (!existsSync(CHROMIUM)) {
    const why = `no ${CHROMIUM}: apt-get install chromium`;
    return [pending(`gallery ${label}: first rows on screen`, 'ms', { op: '<', value: 2000 }, why), pending(`gallery ${label}: a search`, 'ms', { op: '<', value: 150 }, why)];
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const outside = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) outside.push(r.url());
    });
    // In the page, from navigation start: when the first list row is in the document, and the
    // next frame after it (the rows painted). Playwright itself sees them later: its calls wait
    // behind the parser, which goes on reading the index of every recipient after the script.
    await page.addInitScript(() => {
      const seen = { rows: 0, painted: 0 };
      window.__benchFirstRows = seen;
      const observer = new MutationObserver(() => {
        if (seen.rows || !document.querySelector('[data-testid=recipient]')) return;
        seen.rows = performance.now();
        observer.disconnect();
        requestAnimationFrame(() => requestAnimationFrame(() => (seen.painted = performance.now())));
      });
      observer.observe(document, { subtree: true, childList: true });
    });
    const started = Date.now();
    await page.goto(pathToFileURL(index).href, { waitUntil: 'commit' });
    await page.waitForSelector('[data-testid=recipient]');
    // Two frames after the rows exist: they have been painted.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const seenByPlaywright = Date.now() - started;
    await page.waitForFunction(() => window.__benchFirstRows.painted > 0);
    const firstRows = Math.round(await page.evaluate(() => window.__benchFirstRows.painted));
    // The index of every recipient follows the page script in the page: searched once it is read.
    await page.waitForSelector('html[data-index=read]', { state: 'attached', timeout: 60_000 });
    const allRead = Date.now() - started;
    const shown = await page.locator('#shown-count').innerText();
    const times = [];
    for (const query of SEARCHES) {
      times.push(
        await page.evaluate(async (q) => {
          const input = document.getElementById('search');
          const t = performance.now();
          input.value = q;
          input.dispatchEvent(new Event('input'));
          await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
          return performance.now() - t;
        }, query),
      );
    }
    const found = await page.locator('[data-testid=recipient]').count();
    const domRows = await page.evaluate(() => document.querySelectorAll('#recipient-list li').length);
    if (outside.length > 0) throw new Error(`the gallery made requests outside its folder: ${outside.join(', ')}`);
    return [
      result(`gallery ${label}: first rows on screen`, firstRows, 'ms', { op: '<', value: 2000 }, `navigation start to the frame after the first rows are in the page (Playwright saw them at ${seenByPlaywright} ms); "${shown}"; ${domRows} list rows in the DOM; index.html ${round(pageMb, 1)} MB`),
      result(`gallery ${label}: every recipient read`, allRead, 'ms', undefined, 'navigation until the whole index is read and searchable'),
      result(`gallery ${label}: a search`, round(Math.max(...times.slice(1))), 'ms', { op: '<', value: 150 }, `slowest of ${SEARCHES.length - 1} searches, each until the list is drawn (median ${round(median(times.slice(1)))} ms); the first, which builds the packed index, took ${round(times[0])} ms; last search matched ${found} rows in view`),
    ];
  } finally {
    await browser.close();
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
