/**
 * `node bench/watch.js`: preview --watch, from a save to the updated page in Chromium, for the
 * init example (12 recipients) and for a 10,000-row list. Targets: < 300 ms and < 2 s.
 * Needs Debian's chromium (/usr/bin/chromium), so it is not in bench/run.js's default set.
 * Options: `--case init` or `--case large` runs one case only; `--saves N` (default 7).
 * Run it under `node --cpu-prof` to profile the watch process (it runs in this process).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BIN, ensureBuilt, fromDist } from './harness.js';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const args = process.argv.slice(2);
const option = (name) => { const at = args.indexOf(name); return at === -1 ? undefined : args[at + 1]; };
const SAVES = Number(option('--saves') ?? 7);
const only = option('--case');

ensureBuilt();
const { watchPreview } = await fromDist('watch.js');
const scratch = await mkdtemp(join(tmpdir(), 'bulletin-bench-watch-'));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
const results = [];
process.stderr.write(`load average before: ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).cpus().length} cores\n`);
try {
  if (only !== 'large') results.push(await measure('init example (12 recipients)', 12, 300));
  if (only !== 'init') results.push(await measure('10,000-row list', 10_000, 2_000));
} finally {
  await browser.close();
  await rm(scratch, { recursive: true, force: true });
}
for (const r of results) {
  process.stdout.write(`${r.name}: save → updated message median ${r.median} ms (min ${r.min}, max ${r.max}; whole page updated median ${r.completeMedian} ms; render round median ${r.roundMedian} ms; CPU of this process per save median ${r.cpuMedian} ms) over ${SAVES} saves; target < ${r.target} ms: ${r.median < r.target ? 'met' : 'MISSED'}\n`);
}

async function measure(name, rows, target) {
  const campaign = join(scratch, `c${rows}`);
  spawnSync(process.execPath, [BIN, 'init', campaign], { stdio: 'ignore' });
  if (rows > 12) {
    const lines = ['email,contact_name,school,area,school_ref,language,note'];
    for (let i = 1; i <= rows; i++) lines.push(`head${i}@school${i % 7}.example.org,Head Teacher ${i},School number ${i},Area ${i % 4},HS-${1000 + i},en,`);
    await writeFile(join(campaign, 'recipients.csv'), `${lines.join('\n')}\n`);
  }
  const rounds = [];
  const watch = await watchPreview(campaign, { now: () => new Date(), onRound: (r) => rounds.push(r.ms), onError: (e) => { throw e; } });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(watch.url);
  await page.waitForFunction(() => document.getElementById('live-status')?.textContent?.includes('watching'));
  const file = join(campaign, 'message.mjml');
  const original = await readFile(file, 'utf8');
  const times = [];
  const complete = [];
  const cpu = [];
  // One save to warm up (the first compile in this process loads MJML), then the measured ones.
  for (let i = 0; i <= SAVES; i++) {
    const marker = `Saved-${i}-${Date.now()}`;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    // A page that reloads on every save (before in-place updates) has no data-version: it is whole once the message shows.
    const versionBefore = await page.locator('#live-status').getAttribute('data-version');
    await writeFile(file, original.replace('<p>Dear {{contact_name}},</p>', `<p>${marker} {{contact_name}},</p>`));
    await page.waitForFunction((m) => document.getElementById('preview-frame')?.contentDocument?.body?.innerText.includes(m), marker, { polling: 10, timeout: 30_000 });
    const shown = performance.now();
    // The rest of the page (counts, warnings, versions) follows the message on screen.
    if (versionBefore !== null) await page.waitForFunction((v) => Number(document.getElementById('live-status')?.getAttribute('data-version')) > v, Number(versionBefore), { polling: 10, timeout: 60_000 });
    const whole = performance.now();
    await watch.settled();
    const used = process.cpuUsage(cpuBefore);
    if (i > 0) {
      times.push(Math.round(shown - started));
      complete.push(Math.round(whole - started));
      cpu.push(Math.round((used.user + used.system) / 1000));
    }
  }
  await page.close();
  await watch.close();
  const sorted = [...times].sort((a, b) => a - b);
  const measuredRounds = rounds.slice(2).sort((a, b) => a - b);
  const cpuSorted = [...cpu].sort((a, b) => a - b);
  const completeSorted = [...complete].sort((a, b) => a - b);
  return { name, target, completeMedian: completeSorted[Math.floor(completeSorted.length / 2)], cpuMedian: cpuSorted[Math.floor(cpuSorted.length / 2)], median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1), roundMedian: measuredRounds[Math.floor(measuredRounds.length / 2)] };
}
