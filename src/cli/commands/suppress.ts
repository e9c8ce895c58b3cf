import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { suppressionReason } from '../../core/inbox.js';
import { parseSuppressionList, suppressionLines } from '../../core/suppression.js';
import { loadCampaign } from '../../io/campaign.js';
import { loadRun } from '../../runs.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { out, plural } from '../output/terminal.js';

export interface SuppressAddOptions {
  fromRun: string;
}

/** Append a run's permanent failures, and what `inbox` found that must not be mailed again, to the campaign's suppression list. */
export async function suppressAddCommand(dir: string, options: SuppressAddOptions): Promise<ExitCode> {
  const { campaign } = await loadCampaign(dir);
  if (!campaign) throw new UsageError('cannot read the campaign', 'run `bulletin validate` to see why');
  const file = campaign.config.suppress;
  if (!file) throw new UsageError('bulletin.json has no "suppress" list', 'add "suppress": "suppressed.csv" to bulletin.json, then run this again');
  const run = await loadRun(dir, options.fromRun);
  const target = path.join(campaign.dir, file);
  const existingText = await readFile(target, 'utf8').catch(() => undefined);
  const existing = existingText === undefined ? new Set<string>() : parseSuppressionList(existingText);
  const added = run.summary.failures
    .filter((f) => f.code !== undefined && f.code >= 500 && !existing.has(f.key))
    .map((f) => ({ email: f.email, reason: `${f.code} ${f.response ?? ''} (run ${run.info.id})`.trim() }));
  // what came back after the send: hard bounces, complaints, unsubscribe requests (soft bounces are only counted)
  const emailOf = new Map(run.records.map((r) => [r.key, r.email]));
  for (const [key, inbox] of run.inbox) {
    const reason = suppressionReason(inbox);
    if (reason === undefined || existing.has(key) || added.some((a) => a.email.toLowerCase() === key)) continue;
    added.push({ email: emailOf.get(key) ?? key, reason: `${reason} (run ${run.info.id}, bulletin inbox)` });
  }
  if (added.length > 0) await appendFile(target, suppressionLines(added, existingText === undefined || existingText.trim() === ''));
  out(`Added ${plural(added.length, 'address', 'addresses')} from run ${run.info.id} to ${file}${added.length === 0 ? ' (nothing new: no permanent failures, hard bounces, complaints or unsubscribe requests that are not already listed)' : ''}.`);
  for (const a of added) out(`  ${a.email}: ${a.reason}`);
  return EXIT.ok;
}
