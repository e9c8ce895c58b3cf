/**
 * `bulletin validate DIR --json` on a generated 100,000-row campaign, through the real CLI:
 * wall time (median of RUNS) and peak RSS of the whole process.
 */
import { join } from 'node:path';
import { BIN, ROOT, measureProcess, median, result, round, withTempDir } from './harness.js';
import { createCampaign } from './campaign.js';

export const name = 'validate-large';
const RUNS = 3;

export async function run({ quick }) {
  const rows = quick ? 20_000 : 100_000;
  return withTempDir('validate', async (dir) => {
    await createCampaign(dir, rows);
    // In Node's default environment, as bench/startup.js: this machine's NODE_EXTRA_CA_CERTS makes
    // every node process parse a certificate bundle first (+0.1 to 0.25 s here).
    const options = { env: { NODE_EXTRA_CA_CERTS: '' } };
    await measureProcess(process.execPath, [BIN, 'validate', dir, '--json'], options); // warm the file cache
    // This machine's speed swings by 2x from one second to the next (other tenants): three runs,
    // the median reported, each beside a run of the floor (the same file through csv-parse alone).
    const runs = [];
    const floors = [];
    for (let i = 0; i < RUNS; i++) {
      const m = await measureProcess(process.execPath, [BIN, 'validate', dir, '--json'], options);
      const report = parseJson(m.stdout);
      if (m.code !== 0 || !report?.ok || report.recipients !== rows) {
        throw new Error(`validate exited ${m.code}, ok ${report?.ok}, ${report?.recipients} recipients (expected ${rows}): ${m.stderr.slice(0, 500)}`);
      }
      runs.push(m);
      const floor = await measureProcess(process.execPath, [join(ROOT, 'bench', 'csv-parse-alone.js'), join(dir, 'recipients.csv')], options);
      if (floor.code !== 0) throw new Error(`csv-parse alone exited ${floor.code}: ${floor.stderr.slice(0, 500)}`);
      floors.push(floor);
    }
    const ms = median(runs.map((r) => r.ms));
    const floorMs = median(floors.map((r) => r.ms));
    const label = `${rows.toLocaleString('en-GB')} rows`;
    return [
      result(`validate ${label}: wall time`, round(ms), 'ms', { op: '<', value: quick ? 400 : 2000 }, `median of ${RUNS} runs (${runs.map((r) => round(r.ms)).join(', ')} ms), ${round(rows / (ms / 1000))} rows/s end to end, without NODE_EXTRA_CA_CERTS`),
      result(`validate ${label}: peak RSS`, round(Math.max(...runs.map((r) => r.peakMb)), 1), 'MB', quick ? undefined : { op: '<', value: 150 }, `the highest of ${RUNS} runs (${runs.map((r) => round(r.peakMb, 1)).join(', ')} MB), whole CLI process, its worker threads included`),
      result(`csv-parse alone on the same ${label}`, round(floorMs), 'ms', undefined, `node + csv-parse in one thread, nothing else; median of ${RUNS} (peak RSS ${round(floors[0].peakMb, 1)} MB)`),
      result('validate ÷ csv-parse alone', round(ms / floorMs, 1), '×', undefined, 'validate parses in a worker beside MJML and the row checks'),
    ];
  });
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
