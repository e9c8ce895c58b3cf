/**
 * `bulletin inbox`: read what came back after a send (a folder of .eml files, an mbox, a
 * Maildir or an IMAP folder), classify each message, match it to its run and recipient, and
 * record it. Read-only unless asked: the mailbox changes only with markSeen / moveTo, and only
 * for messages classified and on record (synced) first.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { recipientKey } from './core/address.js';
import type { Config } from './core/config.js';
import type { Classification } from './core/inbox-classify.js';
import { emptyInboxSummary, matchMessage, RecipientIndex, verpTokenFor, type InboxRecord, type InboxSummary } from './core/inbox.js';
import { safeFileName } from './core/file-names.js';
import { CampaignError, loadCampaign } from './io/campaign.js';
import { sha256 } from './io/digest.js';
import { InboxStore } from './io/inbox-store.js';
import { parseInbound, type ParsedInbound } from './io/inbox-parse.js';
import { describeSource, IMAP_PASSWORD_VARIABLE, MailSourceError, openMailSource, parseSourceSpec, type OpenSourceOptions, type SourceMessage, type SourceSpec } from './io/mail-source.js';
import { SignInSetupError } from './io/oauth-tokens.js';
import { imapSignInFor, resolveImapSignIn, type ImapSignInMethod } from './io/transport-setup.js';
import { listRuns, manifestPath, readManifest, runDir } from './io/manifest-store.js';

export interface InboxRequest {
  dir: string;
  /** The source as the user wrote it; default: the `inbox` setting. */
  from?: string;
  /** BULLETIN_* settings (the process environment over the campaign's .env): the IMAP password or the OAuth2 credentials. */
  env?: Record<string, string | undefined>;
  /** How to sign in to an IMAP server; default: OAuth2 for Exchange Online and Gmail hosts, else a password. */
  signIn?: ImapSignInMethod;
  markSeen?: boolean;
  moveTo?: string;
  /** Write the replies found as .eml files here. */
  exportDir?: string;
  now: () => Date;
  onStart?: (total: number | undefined, source: string) => void;
  onMessage?: (done: number) => void;
}

/** One message read, as `--json` and the listing show it. */
export interface InboxMessage {
  source: string;
  kind: Classification['kind'];
  recipients: { email: string; line?: number; status?: string; action?: string; diagnostic?: string }[];
  originalMessageId?: string;
  run?: string;
  line?: number;
  matchedBy?: InboxRecord['matchedBy'];
  /** `new`: recorded now; `already`: recorded by an earlier inbox; `unreadable`: could not be parsed. */
  recorded: 'new' | 'already' | 'unreadable';
  note?: string;
  from?: string;
  subject?: string;
  date?: string;
  snippet?: string;
  /** Where --export wrote it. */
  exported?: string;
}

export interface InboxResult {
  source: string;
  messages: InboxMessage[];
  summary: InboxSummary;
  /** What was done to the mailbox (markSeen / moveTo), counted. */
  changed: { seen: number; moved: number };
  /** What could not be read of the source itself (bytes before the first mbox From line, a cut-off last message), one line each. */
  problems: string[];
}

/** The password, or the OAuth2 tokens, for an IMAP source: what the request asks, or what its host needs. */
async function imapSignIn(spec: Extract<SourceSpec, { kind: 'imap' }>, request: InboxRequest, config: Config, dir: string): Promise<Pick<OpenSourceOptions, 'password' | 'oauth'>> {
  const env = request.env ?? {};
  const method = request.signIn ?? imapSignInFor(spec.host);
  if (method === 'password') {
    const password = env[IMAP_PASSWORD_VARIABLE];
    return password ? { password } : {};
  }
  try {
    const { tokens, scrubber } = await resolveImapSignIn(method, { env, settings: config.transport, dir, user: spec.user, host: spec.host });
    return { oauth: { provider: method, tokens, scrubber } };
  } catch (error) {
    if (error instanceof SignInSetupError) throw new CampaignError(`signing in to ${spec.host} with ${method === 'google' ? 'Google' : 'Microsoft 365'} OAuth2: ${error.message}`, error.hint);
    throw error;
  }
}

export async function readInbox(request: InboxRequest): Promise<InboxResult> {
  const loaded = await loadCampaign(request.dir);
  const config = loaded.campaign?.config ?? loaded.config;
  if (!config) throw new CampaignError('bulletin.json is not valid, so the campaign\'s runs cannot be matched', 'run `bulletin validate` to see why');
  const campaignDir = path.resolve(request.dir);
  const sourceText = request.from ?? config.inbox;
  if (!sourceText) {
    throw new CampaignError('no mailbox to read: give --from', 'e.g. --from exported-bounces/ (a folder of .eml files), --from bounces.mbox, or --from imaps://comms@mail.example.org/INBOX; or set "inbox" in bulletin.json');
  }
  // --from is relative to where the user is; the setting, to the campaign folder
  const spec = await parseSourceSpec(sourceText, request.from === undefined ? campaignDir : process.cwd()).catch(rethrowAsCampaignError);
  const write = request.markSeen === true || request.moveTo !== undefined;
  if (write && (spec.kind === 'eml-folder' || spec.kind === 'mbox')) {
    throw new CampaignError(`--mark-seen and --move-to work on IMAP folders and Maildirs, not on ${spec.kind === 'mbox' ? 'an mbox file' : 'a folder of .eml files'}`, 'leave them out: reading never changes these files');
  }

  const index = new RecipientIndex(config.returnPath ? { pattern: config.returnPath, token: (run, key) => verpTokenFor(run, key, sha256) } : undefined);
  for (const run of await listRuns(campaignDir)) index.addRun(run.id, (await readManifest(manifestPath(runDir(campaignDir, run.id)))).records);
  const unsubscribeAddresses = config.unsubscribe?.mailto ? [config.unsubscribe.mailto.replace(/\?.*$/, '')] : [];

  const store = await InboxStore.open(campaignDir);
  const options: OpenSourceOptions = { write };
  if (spec.kind === 'imap') Object.assign(options, await imapSignIn(spec, request, config, campaignDir));
  const source = await openMailSource(spec, options).catch(rethrowAsCampaignError);
  const messages: InboxMessage[] = [];
  const summary = emptyInboxSummary();
  const classified: SourceMessage[] = [];
  const changed = { seen: 0, moved: 0 };
  const problems: string[] = [];
  try {
    request.onStart?.(await source.count(), describeSource(spec));
    if (request.exportDir) await mkdir(request.exportDir, { recursive: true });
    const context: ProcessContext = { index, store, now: request.now, exportDir: request.exportDir };
    for await (const message of source.messages()) {
      const parsed = await parseInbound(message.raw, unsubscribeAddresses);
      const shown = await processMessage(message, parsed, context);
      messages.push(shown);
      summary.messages++;
      if (shown.recorded === 'unreadable') summary.unreadable++;
      else {
        summary[shown.recorded]++;
        summary.byKind[shown.kind]++;
        if (shown.run === undefined) summary.unmatched++;
        if (shown.kind !== 'unknown') classified.push({ source: message.source, raw: Buffer.alloc(0), ...(message.uid === undefined ? {} : { uid: message.uid }) });
      }
      request.onMessage?.(summary.messages);
    }
    problems.push(...source.problems);
    // on record before the mailbox changes: a crash between the two leaves mail unmoved, never unrecorded
    await store.flush();
    if (request.markSeen && classified.length > 0) {
      await source.markSeen(classified);
      changed.seen = classified.length;
    }
    if (request.moveTo !== undefined && classified.length > 0) {
      await source.moveTo(classified, request.moveTo);
      changed.moved = classified.length;
    }
  } catch (err) {
    if (err instanceof MailSourceError) throw new CampaignError(err.message, err.hint);
    throw err;
  } finally {
    await store.close();
    await source.close();
  }
  return { source: describeSource(spec), messages, summary, changed, problems };
}

interface ProcessContext {
  index: RecipientIndex;
  store: InboxStore;
  now: () => Date;
  exportDir: string | undefined;
}

async function processMessage(message: SourceMessage, parsed: ParsedInbound, context: ProcessContext): Promise<InboxMessage> {
  if (!parsed.ok) return { source: message.source, kind: 'unknown', recipients: [], recorded: 'unreadable', note: parsed.problem };
  const { classification } = parsed;
  const match = matchMessage(classification, context.index);
  const id = parsed.messageId ?? `sha256:${sha256(message.raw)}`;
  const record: InboxRecord = { id, source: message.source, kind: classification.kind, recipients: match.recipients, at: context.now().toISOString() };
  if (match.unmatched.length > 0) record.unmatched = match.unmatched;
  if (classification.originalMessageId) record.originalMessageId = classification.originalMessageId;
  if (match.run !== undefined) record.run = match.run;
  if (match.matchedBy !== undefined) record.matchedBy = match.matchedBy;
  if (match.note !== undefined) record.note = match.note;
  if (parsed.from) record.from = parsed.from;
  if (parsed.subject) record.subject = parsed.subject;
  if (parsed.date) record.date = parsed.date;
  if (classification.kind === 'reply') record.snippet = firstLines(parsed.text ?? '');

  const already = context.store.has(id);
  if (!already) await context.store.append(record);
  const shown: InboxMessage = {
    source: message.source,
    kind: classification.kind,
    recipients: match.recipients.length > 0 ? match.recipients.map(({ key: _key, ...r }) => r) : match.unmatched,
    recorded: already ? 'already' : 'new',
  };
  for (const field of ['originalMessageId', 'run', 'matchedBy', 'note', 'from', 'subject', 'date', 'snippet'] as const) {
    if (record[field] !== undefined) (shown as unknown as Record<string, unknown>)[field] = record[field];
  }
  if (match.recipients[0]) shown.line = match.recipients[0].line;
  if (context.exportDir && classification.kind === 'reply') {
    const who = match.recipients[0]?.email ?? record.from ?? 'unknown';
    const file = path.join(context.exportDir, `${safeFileName(`${String(shown.line ?? 0).padStart(5, '0')}-${recipientKey(who)}-${message.source}`)}.eml`);
    await writeFile(file, message.raw);
    shown.exported = file;
  }
  return shown;
}

/** The first few lines of a reply's own text, without the quoted message below it. */
function firstLines(text: string): string {
  const lines: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('>') || /^(On .+ wrote:|-----Original Message-----|From: )/.test(line)) break;
    if (line === '') {
      if (lines.length > 0 && lines.at(-1) !== '') lines.push('');
      continue;
    }
    lines.push(line);
    if (lines.filter((l) => l !== '').length >= 3) break;
  }
  return lines.join('\n').trim().slice(0, 300);
}

function rethrowAsCampaignError(err: unknown): never {
  if (err instanceof MailSourceError) throw new CampaignError(err.message, err.hint);
  throw err;
}
