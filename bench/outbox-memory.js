/**
 * `bulletin send DIR --yes --transport outbox:…` of 100,000 recipients through the real CLI:
 * peak RSS of the whole process (the plan is streamed, never every message in memory), and
 * its throughput. Needs `bulletin send` (src/send.ts); pending until it is built.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, hasDist, measureProcess, pending, result, round, withTempDir } from './harness.js';
import { createCampaign } from './campaign.js';

export const name = 'outbox-memory';
const TARGET = { op: '<', value: 150 };

export async function run({ quick }) {
  const rows = quick ? 10_000 : 100_000;
  const label = `send ${rows.toLocaleString('en-GB')} to the outbox: peak RSS`;
  if (!hasDist('send.js') || !hasDist('core/template.js')) return [pending(label, 'MB', TARGET, 'pending: bulletin send (src/send.ts, src/core/template.ts) not built')];
  return withTempDir('outbox', async (dir) => {
    const campaign = join(dir, 'campaign');
    const outbox = join(dir, 'outbox');
    await createCampaign(campaign, rows);
    const m = await measureProcess(process.execPath, [BIN, 'send', campaign, '--yes', '--transport', `outbox:${outbox}`]);
    const written = (await readdir(outbox)).filter((n) => n.endsWith('.eml')).length;
    if (m.code !== 0 || written !== rows) throw new Error(`send exited ${m.code} with ${written} of ${rows} messages in the outbox: ${m.stderr.slice(-500)}`);
    return [result(label, round(m.peakMb, 1), 'MB', TARGET, `${round(rows / (m.ms / 1000))} msg/s end to end (one fsync'd .eml per message), ${round(m.ms / 1000, 1)} s`)];
  });
}
