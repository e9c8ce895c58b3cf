/**
 * `bulletin validate DIR --json` on a generated 100,000-row campaign, through the real CLI:
 * wall time and peak RSS of the whole process. Once the render engine lands, validate renders
 * every message too, and this figure covers that without changing.
 */
import { join } from 'node:path';
import { BIN, ROOT, measureProcess, result, round, withTempDir } from './harness.js';
import { createCampaign } from './campaign.js';

export const name = 'validate-large';

export async function run({ quick }) {
  const rows = quick ? 20_000 : 100_000;
  return withTempDir('validate', async (dir) => {
    await createCampaign(dir, rows);
    await measureProcess(process.execPath, [BIN, 'validate', dir, '--json']); // warm the file cache
    const m = await measureProcess(process.execPath, [BIN, 'validate', dir, '--json']);
    const report = parseJson(m.stdout);
    if (m.code !== 0 || !report?.ok || report.recipients !== rows) {
      throw new Error(`validate exited ${m.code}, ok ${report?.ok}, ${report?.recipients} recipients (expected ${rows}): ${m.stderr.slice(0, 500)}`);
    }
    const label = `${rows.toLocaleString('en-GB')} rows`;
    // The floor: the same file through csv-parse alone, in its own process, measured in this run.
    const floor = await measureProcess(process.execPath, [join(ROOT, 'bench', 'csv-parse-alone.js'), join(dir, 'recipients.csv')]);
    if (floor.code !== 0) throw new Error(`csv-parse alone exited ${floor.code}: ${floor.stderr.slice(0, 500)}`);
    return [
      result(`validate ${label}: wall time`, round(m.ms), 'ms', { op: '<', value: quick ? 400 : 2000 }, `${round(rows / (m.ms / 1000))} rows/s end to end`),
      result(`validate ${label}: peak RSS`, round(m.peakMb, 1), 'MB', undefined, 'whole CLI process'),
      result(`csv-parse alone on the same ${label}`, round(floor.ms), 'ms', undefined, `node + csv-parse, nothing else (peak RSS ${round(floor.peakMb, 1)} MB)`),
      result('validate ÷ csv-parse alone', round(m.ms / floor.ms, 1), '×', undefined, 'what validate adds: MJML, checks, subject per row'),
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
