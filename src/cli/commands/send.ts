import chalk from '../output/color.js';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { adviseTransport } from '../../core/transport-advice.js';
import { chooseTransport, readCampaignEnvironment } from '../../io/transport-setup.js';
import { DEFAULT_TRANSPORT, sendCampaign, type SendRequest, type SendResult, type SendSummary } from '../../send.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { diagnosticsJson, printDiagnostics, problemSummary } from '../output/diagnostics.js';
import { createProgress } from '../output/progress.js';
import { formatCount, log, out, plural, printJson } from '../output/terminal.js';
import { parsePositive } from '../options.js';

export interface SendOptions {
  transport?: string;
  yes?: boolean;
  testTo?: string;
  limit?: string;
  rate?: string;
  concurrency?: string;
  resume?: string | boolean;
  resendUncertain?: boolean;
  retryFailed?: boolean;
  newRun?: boolean;
  json?: boolean;
}

export async function sendCommand(dir: string, options: SendOptions): Promise<ExitCode> {
  const environment = await readCampaignEnvironment(dir, process.env);
  const transport = chooseTransport(options.transport, environment) ?? { url: DEFAULT_TRANSPORT, source: 'default' };
  const interactive = process.stdin.isTTY && process.stderr.isTTY;
  const controller = new AbortController();
  const progress = createProgress(process.stderr);
  const stop = installSignalHandlers(controller, (line) => progress.log(line));
  const request: SendRequest = {
    dir,
    transport: transport.url,
    env: environment.env,
    now: () => new Date(),
    signal: controller.signal,
    confirm: (summary) => confirm(summary, summary.transportSource ?? transport.source, options.yes ?? false, interactive),
    onStart: (total) => progress.start(total),
    onNotice: (message) => progress.log(`Note: ${message}`),
    onEvent: (event) => progress.update(event),
  };
  if (options.testTo !== undefined) request.testTo = options.testTo;
  if (options.limit !== undefined) request.limit = parsePositive(options.limit, '--limit');
  if (options.concurrency !== undefined) request.concurrency = parsePositive(options.concurrency, '--concurrency');
  if (options.rate !== undefined) request.rate = options.rate;
  if (options.resume !== undefined) request.resume = options.resume === true ? true : String(options.resume);
  if (options.resendUncertain) request.resendUncertain = true;
  if (options.retryFailed) request.retryFailed = true;
  if (options.newRun) request.newRun = true;
  if (options.testTo !== undefined && (options.resume !== undefined || options.newRun)) {
    throw new UsageError('--test-to cannot be combined with --resume or --new-run', 'a test send is separate from the real run');
  }
  let result: SendResult;
  try {
    result = await sendCampaign(request);
  } finally {
    progress.stop();
    stop();
  }
  return report(result, options.json ?? false, controller.signal.aborted);
}

async function confirm(summary: SendSummary, source: string, yes: boolean, interactive: boolean): Promise<boolean> {
  printSummary(summary, source);
  if (yes) return true;
  if (!interactive) {
    throw new UsageError('refusing to send without confirmation: no terminal to ask on', 'check the summary above, then run again with --yes');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Send ${plural(summary.toSend, 'message')} now? Type "yes" to send: `);
    return answer.trim().toLowerCase() === 'yes' || answer.trim().toLowerCase() === 'y';
  } finally {
    rl.close();
  }
}

function printSummary(s: SendSummary, source: string): void {
  const outbox = s.transport.startsWith('outbox:');
  log('');
  log(chalk.bold(`${s.test ? 'Test send' : s.resuming ? 'Resuming' : 'Ready to send'}: ${s.campaign}`));
  log(`  run          ${s.runId}${s.resuming ? ' (resumed)' : ''}`);
  log(`  recipients   ${formatCount(s.recipients)}${s.suppressed > 0 ? ` (+${s.suppressed} suppressed, not mailed)` : ''}`);
  if (s.resuming) {
    log(`  already      ${s.skipped.sent} sent, ${s.skipped.failed} failed (kept), ${s.skipped.uncertain} uncertain (not resent)`);
  }
  log(`  to send now  ${chalk.bold(formatCount(s.toSend))}`);
  log(`  from         ${s.from}`);
  log(`  subject      ${s.subject}`);
  log(`  transport    ${s.transport} ${chalk.dim(`(from ${source})`)}`);
  if (outbox) log(chalk.yellow('               outbox: messages are written as .eml files; nothing leaves this machine'));
  for (const step of s.checked ?? []) log(`               ${chalk.green('✔')} ${step}`);
  if (s.paced) log(`  pace         ${s.concurrency} at once${s.rate ? `, at most ${s.rate}` : ''}${s.limits?.paced ? ` (${s.limits.service}'s limit)` : ''}; about ${formatDuration(s.estimatedSeconds)}`);
  else log(`  pace         not paced: outbox (files on this machine)${s.rate ? `; ${s.rate} applies only to mail that leaves it` : ''}; about ${formatDuration(s.estimatedSeconds)}`);
  if (s.rateWarning) log(chalk.yellow(`  note         ${s.rateWarning}`));
  if (s.dailyLimit) log(chalk.yellow(`  daily limit  ${s.dailyLimit.advice}`));
  if (s.approval) log(`  approved by  ${s.approval.by} on ${s.approval.at}`);
  if (s.warnings.length > 0) {
    log('');
    printDiagnostics(s.warnings, log);
  }
  if (s.uncertain.length > 0 && s.skipped.uncertain > 0) {
    log(chalk.yellow(`  ${plural(s.uncertain.length, 'recipient')} uncertain (the server may have accepted them); not resent without --resend-uncertain:`));
    for (const u of s.uncertain.slice(0, 10)) log(`    ${u.email} (line ${u.line})`);
  }
  log('');
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Ctrl-C / SIGTERM: stop taking new messages, finish those in flight. A second Ctrl-C quits at once. */
function installSignalHandlers(controller: AbortController, notice: (line: string) => void): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      notice('Stopping now; recipients in flight are recorded as uncertain. `bulletin status` lists them.');
      process.exit(EXIT.interrupted);
    }
    notice(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: finishing the messages in flight, then stopping (press Ctrl-C again to quit at once).`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

function report(result: SendResult, json: boolean, interrupted: boolean): ExitCode {
  switch (result.kind) {
    case 'invalid': {
      const { plan } = result;
      if (json) printJson({ ok: false, sent: 0, diagnostics: diagnosticsJson(plan.diagnostics) });
      else {
        printDiagnostics(plan.diagnostics);
        out(`\n${chalk.red('✖ nothing was sent')}: ${problemSummary(plan.diagnostics)}. Fix them and run send again.`);
      }
      return plan.configLoaded ? EXIT.problems : EXIT.cannotStart;
    }
    case 'declined':
      if (json) printJson({ ok: false, declined: true, sent: 0 });
      else out('Not sent: you did not confirm. Nothing left this machine.');
      return interrupted ? EXIT.interrupted : EXIT.cannotStart;
    case 'nothing-to-do':
      if (json) printJson({ ok: true, run: result.summary.runId, sent: 0, toSend: 0 });
      else out(`Nothing to send in run ${result.summary.runId}: every recipient already has an outcome. \`bulletin status\` shows it.`);
      return EXIT.ok;
    case 'done':
      return reportDone(result, json);
  }
}

function reportDone(result: Extract<SendResult, { kind: 'done' }>, json: boolean): ExitCode {
  const { delivery, run, summary } = result;
  const problems = run.counts.failed > 0 || run.counts.sending > 0 || run.counts.deferred > 0 || delivery.stoppedBecause !== undefined;
  const exitCode = delivery.stoppedBecause === 'interrupted' ? EXIT.interrupted : problems ? EXIT.problems : EXIT.ok;
  if (json) {
    printJson({
      ok: exitCode === EXIT.ok,
      run: summary.runId,
      runDir: result.runDir,
      test: summary.test,
      finished: result.finished,
      transport: summary.transport,
      thisRun: { sent: delivery.sent, failed: delivery.failed, deferred: delivery.deferred, uncertain: delivery.uncertain.length, attempts: delivery.attempts },
      total: run.counts,
      stoppedBecause: delivery.stoppedBecause ?? null,
      stopDetail: delivery.stopDetail ?? null,
      dailyLimit: summary.dailyLimit ?? null,
      failures: run.failures,
      uncertain: run.uncertain,
    });
    return exitCode;
  }
  out(`${summary.test ? 'Test run' : 'Run'} ${summary.runId}: ${delivery.sent} sent, ${delivery.failed} failed, ${delivery.deferred} deferred, ${delivery.uncertain.length} uncertain this time.`);
  out(`All recipients so far: ${run.counts.sent} sent, ${run.counts.failed} failed, ${run.counts.sending} uncertain, ${run.counts.deferred} deferred, ${run.counts.suppressed} suppressed.`);
  for (const f of run.failures.slice(0, 10)) out(`  ${chalk.red('failed')} ${f.email} (line ${f.line}): ${f.code ?? ''} ${f.response ?? f.error ?? ''}`.trimEnd());
  if (run.failures.length > 10) out(`  … and ${run.failures.length - 10} more: \`bulletin report\` lists them all`);
  for (const u of run.uncertain.slice(0, 10)) out(`  ${chalk.yellow('uncertain')} ${u.email} (line ${u.line}): the connection dropped after the message was sent, before the server answered`);
  if (delivery.stoppedBecause) {
    const why = {
      interrupted: 'interrupted',
      auth: 'the server refused the login',
      connection: 'the server could not be reached with these settings',
      'consecutive-failures': 'too many failures in a row',
      error: 'an unexpected error',
    }[delivery.stoppedBecause];
    out(chalk.yellow(`Stopped: ${why}${delivery.stopDetail ? ` (${delivery.stopDetail})` : ''}.`));
    const provider = /^(microsoft365|graph|google) /.exec(summary.transport)?.[1] as 'microsoft365' | 'graph' | 'google' | undefined;
    const advice = delivery.stopDetail ? adviseTransport(delivery.stopDetail, { provider: provider ?? 'smtp', now: Date.now() }) : undefined;
    if (advice) out(`  ${advice.problem}; what to do: ${advice.fix}`);
  }
  if (summary.transport.startsWith('outbox:')) out(`Messages written to ${summary.transport.slice('outbox:'.length)} (outbox: nothing left this machine).`);
  if (!result.finished && !summary.test) out(`The run is not finished: \`bulletin send --resume\` continues it${run.counts.sending > 0 ? '; add --resend-uncertain only once you know the uncertain ones did not arrive' : ''}.`);
  out(`Manifest: ${path.join(result.runDir, 'manifest.jsonl')}`);
  return exitCode;
}
