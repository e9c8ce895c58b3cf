import cliProgress from 'cli-progress';
import path from 'node:path';
import chalk from '../output/color.js';
import { INBOX_KINDS, type InboxKind } from '../../core/inbox.js';
import { readInbox, type InboxMessage, type InboxRequest, type InboxResult } from '../../inbox.js';
import { forEachRecipient } from '../../campaign-recipients.js';
import { loadCampaign } from '../../io/campaign.js';
import { IMAP_SIGN_IN_METHODS, readCampaignEnvironment } from '../../io/transport-setup.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { formatCount, log, out, plural, printJson } from '../output/terminal.js';

export interface InboxOptions {
  from?: string;
  markSeen?: boolean;
  moveTo?: string;
  replies?: boolean;
  export?: string;
  json?: boolean;
  signIn?: string;
}

const KIND_LABEL: Record<InboxKind, string> = {
  bounce: 'bounced (permanent failure)',
  delay: 'delayed (temporary failure or delay warning)',
  'auto-reply': 'automatic replies (out of office)',
  complaint: 'complaints (marked as spam)',
  unsubscribe: 'unsubscribe requests',
  reply: 'replies from people',
  unknown: 'not recognised',
};

export async function inboxCommand(dir: string, options: InboxOptions): Promise<ExitCode> {
  const request: InboxRequest = { dir, now: () => new Date() };
  if (options.from !== undefined) request.from = options.from;
  if (options.markSeen) request.markSeen = true;
  if (options.moveTo !== undefined) request.moveTo = options.moveTo;
  if (options.export !== undefined) request.exportDir = path.resolve(options.export);
  // the process environment over the campaign's .env, as for the transport's secrets
  request.env = (await readCampaignEnvironment(dir, process.env)).env;
  if (options.signIn !== undefined) {
    const method = IMAP_SIGN_IN_METHODS.find((m) => m === options.signIn);
    if (!method) throw new UsageError(`--sign-in must be one of ${IMAP_SIGN_IN_METHODS.join(', ')}, not "${options.signIn}"`, 'microsoft365 and google use the sign-in settings `send` uses (BULLETIN_TENANT_ID…, BULLETIN_GOOGLE_…); password uses BULLETIN_IMAP_PASSWORD');
    request.signIn = method;
  }

  let bar: cliProgress.SingleBar | undefined;
  request.onStart = (total, source) => {
    if (!options.json) log(`Reading ${source}${total === undefined ? '' : ` (${plural(total, 'message')})`}…`);
    if (total !== undefined && total >= 200 && process.stderr.isTTY) {
      bar = new cliProgress.SingleBar({ stream: process.stderr, format: '{bar} {value}/{total} messages', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
      bar.start(total, 0);
    }
  };
  request.onMessage = (done) => bar?.update(done);
  let result: InboxResult;
  try {
    result = await readInbox(request);
  } finally {
    bar?.stop();
  }

  if (options.json) {
    printJson({ source: result.source, messages: result.messages, summary: result.summary, changed: result.changed, problems: result.problems });
    return EXIT.ok;
  }
  printSummary(result);
  if (options.replies) await printReplies(dir, result.messages.filter((m) => m.kind === 'reply'));
  return EXIT.ok;
}

function printSummary(result: InboxResult): void {
  const { summary } = result;
  out(`${chalk.bold(plural(summary.messages, 'message'))} read from ${result.source}: ${formatCount(summary.new)} new, ${formatCount(summary.already)} already recorded${summary.unreadable > 0 ? `, ${formatCount(summary.unreadable)} unreadable` : ''}.`);
  for (const kind of INBOX_KINDS) {
    const n = summary.byKind[kind];
    if (n > 0) out(`  ${String(n).padStart(6)}  ${KIND_LABEL[kind]}`);
  }
  const bounces = result.messages.filter((m) => m.recorded === 'new' && m.run !== undefined && (m.kind === 'bounce' || m.kind === 'complaint' || m.kind === 'unsubscribe'));
  if (bounces.length > 0) {
    out('');
    out('New bounces, complaints and unsubscribe requests:');
    for (const m of bounces.slice(0, 20)) {
      for (const r of m.recipients) out(`  ${chalk.red(m.kind)} ${r.email} (line ${r.line ?? '?'})${r.status ? ` ${r.status}` : ''}${r.diagnostic ? `: ${r.diagnostic}` : ''}`);
    }
    if (bounces.length > 20) out(`  … and ${bounces.length - 20} more: \`bulletin report\` lists them all`);
  }
  const unmatched = result.messages.filter((m) => m.recorded !== 'unreadable' && m.run === undefined && m.kind !== 'unknown');
  if (unmatched.length > 0) {
    out('');
    out(chalk.yellow(`Matched to no run of this campaign (kept in inbox/unmatched.jsonl, nothing marked):`));
    for (const m of unmatched.slice(0, 20)) out(`  ${m.source}: ${m.kind}${m.recipients[0] ? ` for ${m.recipients.map((r) => r.email).join(', ')}` : ''}${m.note ? ` (${m.note})` : ''}`);
    if (unmatched.length > 20) out(`  … and ${unmatched.length - 20} more (--json lists them all)`);
  }
  const unreadable = result.messages.filter((m) => m.recorded === 'unreadable');
  for (const m of unreadable.slice(0, 10)) out(chalk.yellow(`  could not read ${m.source}: ${m.note ?? 'unreadable'}`));
  for (const problem of result.problems) out(chalk.yellow(`  ${problem}`));
  if (result.changed.seen > 0) out(`Marked ${plural(result.changed.seen, 'message')} as seen.`);
  if (result.changed.moved > 0) out(`Moved ${plural(result.changed.moved, 'message')}.`);
  if (summary.new > 0) out(`\n\`bulletin status\` shows each recipient's outcome; \`bulletin suppress add --from-run latest\` adds hard bounces, complaints and unsubscribe requests to the suppression list.`);
}

/** Who replied, with their row's columns, so the team can follow up. */
async function printReplies(dir: string, replies: InboxMessage[]): Promise<void> {
  out('');
  if (replies.length === 0) {
    out('No replies from people in this mailbox.');
    return;
  }
  const rows = new Map<string, Record<string, string>>();
  const { campaign } = await loadCampaign(dir);
  if (campaign) await forEachRecipient(campaign, [], (row) => void rows.set(row.email.toLowerCase(), row.fields));
  out(chalk.bold(`${plural(replies.length, 'reply', 'replies')}:`));
  for (const m of replies) {
    const who = m.recipients[0];
    const fields = who ? rows.get(who.email.toLowerCase()) : undefined;
    const columns = fields ? Object.entries(fields).filter(([, v]) => v !== '').map(([k, v]) => `${k}: ${v}`).join(', ') : '';
    out(`  ${who ? `line ${who.line ?? '?'} ${who.email}` : `${m.from ?? 'unknown sender'} (not matched to a recipient)`}${m.from && who && m.from.toLowerCase() !== who.email.toLowerCase() ? ` (from ${m.from})` : ''}`);
    if (columns) out(`    ${columns}`);
    out(`    ${m.date ?? ''}  ${m.subject ?? '(no subject)'}`);
    for (const line of (m.snippet ?? '').split('\n').filter((l) => l !== '')) out(`    > ${line}`);
    if (m.exported) out(`    saved as ${m.exported}`);
  }
}
