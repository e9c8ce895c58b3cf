/**
 * `bulletin validate DIR --json` on a generated 100,000-row campaign, through the real CLI:
 * wall time and peak RSS of the whole process. Once the render engine lands, validate renders
 * every message too, and this figure covers that without changing.
 */
import { BIN, measureProcess, result, round, withTempDir } from './harness.js';
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
    return [
      result(`validate ${label}: wall time`, round(m.ms), 'ms', { op: '<', value: quick ? 400 : 2000 }, `${round(rows / (m.ms / 1000))} rows/s end to end`),
      result(`validate ${label}: peak RSS`, round(m.peakMb, 1), 'MB', undefined, 'whole CLI process'),
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
