import chalk from '../output/color.js';
import { countInboxOutcomes } from '../../core/inbox.js';
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
  const inboxCounts = countInboxOutcomes(run.inbox);
  // sent, and nothing of note came back (an auto-reply or reply means it arrived)
  const sentNothingBack = [...run.records.reduce((last, r) => last.set(r.key, r.state), new Map<string, string>())].filter(([key, state]) => state === 'sent' && !run.inbox.has(key)).length;
  if (options.json) {
    const afterSend = [...run.inbox.entries()].map(([key, r]) => ({ key, ...r }));
    printJson({
      run: info,
      finished: info.finishedAt !== undefined,
      recipients: summary.recipients,
      counts: { ...summary.counts, uncertain: summary.counts.sending },
      inbox: { counts: { ...inboxCounts, sentNothingBack: sentNothingBack }, recipients: afterSend },
      failures: summary.failures,
      uncertain: summary.uncertain,
      deferred: summary.deferred,
      unreadableLines: run.unreadable,
      manifest: run.dir,
    });
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
  if (run.inbox.size > 0) {
    const i = inboxCounts;
    out(`  after the send (bulletin inbox): nothing back ${sentNothingBack} · bounced ${i.bounced} · delayed ${i.delayed} · auto-replied ${i['auto-replied']} · replied ${i.replied} · complained ${i.complained} · unsubscribed ${i.unsubscribed}${i.softBounces > 0 ? ` (${plural(i.softBounces, 'soft bounce')} counted)` : ''}`);
  }
  const hard = [...run.inbox.entries()].filter(([, r]) => r.outcome === 'bounced' || r.outcome === 'complained' || r.outcome === 'unsubscribed');
  if (hard.length > 0) {
    const byKey = new Map(run.records.map((r) => [r.key, r]));
    out(chalk.red('\nBounced, complained or unsubscribed since the send (`bulletin suppress add --from-run` keeps them off the next campaign):'));
    for (const [key, r] of hard.slice(0, 50)) {
      const rec = byKey.get(key);
      out(`  ${rec?.email ?? key} (line ${rec?.line ?? '?'}): ${r.outcome}${r.status ? ` ${r.status}` : ''}${r.diagnostic ? `: ${r.diagnostic}` : ''}`);
    }
    if (hard.length > 50) out(`  … and ${hard.length - 50} more: \`bulletin report\` lists them all`);
  }
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
