import chalk from '../output/color.js';
import { approveCampaign } from '../../approve.js';
import { describeVersions } from '../../core/approval.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { out, plural } from '../output/terminal.js';

export interface ApproveOptions {
  by: string;
  note?: string;
}

export async function approveCommand(dir: string, options: ApproveOptions): Promise<ExitCode> {
  const by = options.by.trim();
  if (by === '') throw new UsageError('--by needs the reviewer\'s name', 'bulletin approve --by "Priya Reviewer"');
  const outcome = await approveCampaign(dir, by, options.note, new Date());
  if (!outcome.ok) throw new UsageError(`cannot approve: ${outcome.reason}`, outcome.hint);
  const { record } = outcome;
  out(`${chalk.green('✔ approved')} by ${record.by} at ${record.at}`);
  out(`  ${plural(record.counts.messages, 'message')} to send, ${plural(record.counts.suppressed, 'suppressed recipient')}, ${plural(record.counts.warnings, 'warning')}`);
  out(`  content digest ${record.digest.slice(0, 12)} (recorded in approvals.jsonl)`);
  if (record.versions) {
    out(`  ${describeVersions(record.versions)}, digests ${record.versions.map((v) => v.digest.slice(0, 12)).join(', ')}`);
  }
  out('Any change to the settings, template, partials, recipients or attachments needs a new preview and approval.');
  return EXIT.ok;
}
