import chalk from '../output/color.js';
import { loadRun } from '../../runs.js';
import { describeVersions, type ApprovedVersion } from '../../core/approval.js';
import { EXIT, type ExitCode } from '../errors.js';
import { out, plural, printJson } from '../output/terminal.js';

export interface StatusOptions {
  run?: string;
  json?: boolean;
}

export async function statusCommand(dir: string, options: StatusOptions): Promise<ExitCode> {
  const run = await loadRun(dir, options.run);
  const { info, summary } = run;
  const problems = summary.counts.failed > 0 || summary.counts.sending > 0;
  const exitCode = problems ? EXIT.problems : EXIT.ok;
  if (options.json) {
    printJson({ run: info, finished: info.finishedAt !== undefined, recipients: summary.recipients, counts: { ...summary.counts, uncertain: summary.counts.sending }, failures: summary.failures, uncertain: summary.uncertain, deferred: summary.deferred, unreadableLines: run.unreadable, manifest: run.dir });
    return exitCode;
  }
  const state = info.finishedAt ? chalk.green(`finished ${info.finishedAt}`) : chalk.yellow('unfinished (`bulletin send --resume` continues it)');
  out(`${info.test ? 'Test run' : 'Run'} ${chalk.bold(info.id)}: ${state}`);
  out(`  started      ${info.startedAt} with bulletin ${info.toolVersion}`);
  out(`  transport    ${info.transport}`);
  const approval = info.approval as { by?: string; at?: string; digest?: string; versions?: ApprovedVersion[] } | undefined;
  if (approval?.by) out(`  approved by  ${approval.by} on ${approval.at ?? '?'}${approval.digest ? ` (content ${approval.digest.slice(0, 12)})` : ''}`);
  if (approval?.versions) {
    out(`  versions     ${describeVersions(approval.versions)}`);
    for (const v of approval.versions) out(`               ${v.number}. ${v.language}, ${plural(v.count, 'recipient')}, digest ${v.digest.slice(0, 12)}`);
  }
  out(`  recipients   ${plural(summary.recipients, 'recipient')} recorded`);
  const c = summary.counts;
  out(`  sent ${c.sent} · failed ${c.failed} · uncertain ${c.sending} · deferred ${c.deferred} · suppressed ${c.suppressed}`);
  if (summary.failures.length > 0) {
    out(chalk.red('\nFailed (the server refused these; they are not retried unless you resume with --retry-failed):'));
    for (const f of summary.failures) out(`  ${f.email} (line ${f.line}): ${[f.code, f.response ?? f.error].filter(Boolean).join(' ')}`);
  }
  if (summary.uncertain.length > 0) {
    out(chalk.yellow('\nUncertain (the server may have accepted these; check before resending with --resume --resend-uncertain):'));
    for (const u of summary.uncertain) out(`  ${u.email} (line ${u.line}, ${u.messageId}): ${u.response ?? u.error ?? 'no reply recorded'}`);
  }
  if (summary.deferred.length > 0) {
    out('\nDeferred (temporary failures, tried again on --resume):');
    for (const d of summary.deferred.slice(0, 20)) out(`  ${d.email} (line ${d.line}): ${[d.code, d.response ?? d.error].filter(Boolean).join(' ')}`);
  }
  if (run.unreadable > 0) out(chalk.yellow(`\n${run.unreadable} unreadable manifest line(s) skipped (a crash mid-write leaves one).`));
  out(`\nManifest: ${run.dir}/manifest.jsonl`);
  return exitCode;
}
