/**
 * What came back after a send, as values: matching a classified message to a run and its
 * recipients, the `inbox.jsonl` record, and what each recipient's mail says in the end. Pure:
 * reading mailboxes is src/io/mail-source.ts, classifying a parsed message is
 * src/core/inbox-classify.ts, recording is src/inbox.ts.
 */
import { recipientKey } from './address.js';
import type { InboxKind } from './inbox-classify.js';
import type { ManifestRecord } from './manifest.js';

export type { InboxKind };

export const INBOX_KINDS: readonly InboxKind[] = ['bounce', 'delay', 'auto-reply', 'complaint', 'unsubscribe', 'reply', 'unknown'];

/** How a message was tied to a recipient, in the order they are tried. */
export type MatchMethod = 'message-id' | 'verp' | 'address';

/** The part of a classification matching needs (see src/core/inbox-classify.ts). */
export interface ClassifiedMessage {
  kind: InboxKind;
  recipients: { email: string; status?: string; action?: string; diagnostic?: string }[];
  originalMessageId?: string;
  referencedMessageIds: string[];
  deliveredTo: string[];
}

/** One recipient of a run, as the manifest knows them. */
export interface SentRecipient {
  run: string;
  key: string;
  email: string;
  line: number;
  messageId: string;
  /** Whether the message may have left: its last state was `sent`, or `sending` (uncertain). Only these are indexed. */
  handedOver: boolean;
}

export interface InboxRecipientRecord {
  email: string;
  key: string;
  line: number;
  status?: string;
  action?: string;
  diagnostic?: string;
}

/** One line of `runs/<run>/inbox.jsonl` (or of the unmatched log): one processed message. */
export interface InboxRecord {
  /** The message's own Message-ID, or `sha256:<hex>` of its bytes when it has none. */
  id: string;
  /** Where it was read: a file name, `mbox:<n>`, or `uid:<n>`. */
  source: string;
  kind: InboxKind;
  /** The run's recipients it concerns (empty when unmatched). */
  recipients: InboxRecipientRecord[];
  /** Addresses the message named that matched nobody of the run (or anybody, when unmatched). */
  unmatched?: { email: string; status?: string; action?: string; diagnostic?: string }[];
  originalMessageId?: string;
  run?: string;
  matchedBy?: MatchMethod;
  /** Why it matched nothing, for the listing. */
  note?: string;
  from?: string;
  subject?: string;
  date?: string;
  /** First lines of a reply, for `inbox --replies`. */
  snippet?: string;
  /** When bulletin processed it (ISO). */
  at: string;
}

/**
 * Every recipient of every run, found by the Message-ID we gave them, by their VERP token, or
 * by address (the latest run that handed a message over for them).
 */
export class RecipientIndex {
  private readonly byId = new Map<string, SentRecipient>();
  private readonly byToken = new Map<string, SentRecipient>();
  private readonly byKey = new Map<string, SentRecipient>();
  private readonly allIds = new Set<string>();

  constructor(private readonly verp?: { pattern: string; token: (run: string, key: string) => string }) {}

  /** Adds a run's manifest records, runs oldest first (a later run wins for address matching). */
  addRun(run: string, records: Iterable<ManifestRecord>): void {
    const last = new Map<string, ManifestRecord>();
    for (const record of records) {
      last.set(record.key, record);
      if (record.messageId !== '') this.allIds.add(normaliseMessageId(record.messageId));
    }
    for (const record of last.values()) {
      if (record.messageId === '') continue; // suppressed: never sent
      const recipient: SentRecipient = { run, key: record.key, email: record.email, line: record.line, messageId: record.messageId, handedOver: record.state === 'sent' || record.state === 'sending' };
      // A message refused or never tried cannot come back: anything naming it is forged or stray.
      if (!recipient.handedOver) continue;
      this.byId.set(normaliseMessageId(record.messageId), recipient);
      if (this.verp) this.byToken.set(this.verp.token(run, record.key).toLowerCase(), recipient);
      this.byKey.set(record.key, recipient);
    }
  }

  messageId(id: string): SentRecipient | undefined {
    return this.byId.get(normaliseMessageId(id));
  }

  /** Whether this Message-ID is one this campaign gave a message (of any run, any state). */
  isOurs(id: string): boolean {
    return this.allIds.has(normaliseMessageId(id));
  }

  verpAddress(address: string): SentRecipient | undefined {
    if (!this.verp) return undefined;
    const token = verpToken(this.verp.pattern, address);
    return token === undefined ? undefined : this.byToken.get(token);
  }

  address(email: string): SentRecipient | undefined {
    return this.byKey.get(recipientKey(email));
  }
}

export interface Match {
  run?: string;
  matchedBy?: MatchMethod;
  recipients: InboxRecipientRecord[];
  unmatched: { email: string; status?: string; action?: string; diagnostic?: string }[];
  note?: string;
}

/**
 * Ties a classified message to a run and recipients: the original Message-ID first (from the
 * returned message, or In-Reply-To / References), then the VERP address it came back to, then
 * the addresses it names. Address matching is used only when the message names no Message-ID at
 * all: a bounce of somebody else's message (another campaign, another tool) must not mark our
 * recipient bounced just because the address is the same.
 */
export function matchMessage(message: ClassifiedMessage, index: RecipientIndex): Match {
  const details = message.recipients;
  // For a report (bounce, delay, complaint) the addresses are those it reports on; for a
  // person's answer, the sender, who may be a colleague answering for the recipient.
  const report = message.kind === 'bounce' || message.kind === 'delay' || message.kind === 'complaint';
  const detailFor = (recipient: SentRecipient) => details.find((d) => recipientKey(d.email) === recipient.key) ?? (report && details.length === 1 ? details[0] : undefined);
  const single = (recipient: SentRecipient, matchedBy: MatchMethod): Match => {
    const detail = detailFor(recipient);
    const others = report ? details.filter((d) => d !== detail && recipientKey(d.email) !== recipient.key) : [];
    return { run: recipient.run, matchedBy, recipients: [recipientRecord(recipient, detail)], unmatched: others };
  };

  for (const id of message.referencedMessageIds) {
    const recipient = index.messageId(id);
    if (recipient) return single(recipient, 'message-id');
  }
  for (const address of message.deliveredTo) {
    const recipient = index.verpAddress(address);
    if (recipient) return single(recipient, 'verp');
  }
  if (message.referencedMessageIds.length > 0) {
    const ours = message.referencedMessageIds.some((id) => index.isOurs(id));
    return { recipients: [], unmatched: report ? details : [], note: ours ? 'refers to a message of this campaign that was never handed to a server' : 'refers to a message this campaign did not send (another campaign or another tool)' };
  }
  // By address: every named address that a run handed a message to. One run per record: the
  // run of the first address that matches (a bounce naming recipients of two runs is rare).
  const matched: InboxRecipientRecord[] = [];
  const unmatched: Match['unmatched'] = [];
  let run: string | undefined;
  for (const detail of details) {
    const recipient = index.address(detail.email);
    if (recipient && (run === undefined || recipient.run === run)) {
      run = recipient.run;
      matched.push(recipientRecord(recipient, detail));
    } else unmatched.push(detail);
  }
  if (run === undefined) return { recipients: [], unmatched, note: details.length === 0 ? 'names no recipient and no message of ours' : 'names no address this campaign sent to' };
  return { run, matchedBy: 'address', recipients: matched, unmatched };
}

function recipientRecord(recipient: SentRecipient, detail: Match['unmatched'][number] | undefined): InboxRecipientRecord {
  const record: InboxRecipientRecord = { email: recipient.email, key: recipient.key, line: recipient.line };
  if (detail?.status !== undefined) record.status = detail.status;
  if (detail?.action !== undefined) record.action = detail.action;
  if (detail?.diagnostic !== undefined) record.diagnostic = detail.diagnostic;
  return record;
}

/** `<ABC@Example.org>` and `abc@example.org` are the same Message-ID for matching. */
export function normaliseMessageId(id: string): string {
  return id.trim().replace(/^<|>$/g, '').toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// VERP

export const VERP_PLACEHOLDER = '{token}';

/** The envelope sender for one recipient: the `returnPath` setting with its token filled in. */
export function verpAddress(pattern: string, token: string): string {
  return pattern.replace(VERP_PLACEHOLDER, token);
}

/** The token in an address made from the pattern, or undefined when it is not one. */
export function verpToken(pattern: string, address: string): string | undefined {
  const at = pattern.indexOf(VERP_PLACEHOLDER);
  if (at === -1) return undefined;
  const prefix = pattern.slice(0, at).toLowerCase();
  const suffix = pattern.slice(at + VERP_PLACEHOLDER.length).toLowerCase();
  const text = address.trim().replace(/^<|>$/g, '').toLowerCase();
  if (text.length <= prefix.length + suffix.length || !text.startsWith(prefix) || !text.endsWith(suffix)) return undefined;
  return text.slice(prefix.length, text.length - suffix.length);
}

/**
 * A recipient's token: short, opaque, and the same for the same run and recipient, so the
 * envelope sender of a resent message is the same too. `hash` is SHA-256 hex.
 */
export function verpTokenFor(run: string, key: string, hash: (text: string) => string): string {
  return hash(`${run}\n${key}`).slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// What each recipient's mail says

/** A recipient's outcome after the inbox: `sent` when nothing (of note) came back. */
export type InboxOutcome = 'bounced' | 'delayed' | 'auto-replied' | 'replied' | 'complained' | 'unsubscribed';

const OUTCOME_OF: Partial<Record<InboxKind, InboxOutcome>> = {
  bounce: 'bounced',
  delay: 'delayed',
  'auto-reply': 'auto-replied',
  reply: 'replied',
  complaint: 'complained',
  unsubscribe: 'unsubscribed',
};

/**
 * Which outcome wins when several came back: what the next campaign must act on first. A delay
 * is superseded by anything (it was delivered, or it bounced after all); a bounce by a
 * complaint or an unsubscribe request, which must be honoured whatever else happened.
 */
const RANK: Record<InboxOutcome, number> = { complained: 6, unsubscribed: 5, bounced: 4, replied: 3, 'auto-replied': 2, delayed: 1 };

export interface RecipientInbox {
  outcome: InboxOutcome;
  /** The bounce or delay's status and diagnostic, when that is the outcome. */
  status?: string;
  diagnostic?: string;
  /** Soft bounces (delays, 4.x.x) seen for this recipient. */
  softBounces: number;
  at: string;
}

/** Per recipient key, what came back for them, from a run's inbox records. */
export function foldInbox(records: Iterable<InboxRecord>): Map<string, RecipientInbox> {
  const out = new Map<string, RecipientInbox>();
  for (const record of records) {
    const outcome = OUTCOME_OF[record.kind];
    if (!outcome) continue;
    for (const r of record.recipients) {
      const soft = isSoftBounce(record.kind, r.status) ? 1 : 0;
      const current = out.get(r.key);
      // a bounce with a 4.x.x status is a soft bounce: counted, shown as delayed
      const effective: InboxOutcome = outcome === 'bounced' && soft ? 'delayed' : outcome;
      if (current && RANK[current.outcome] >= RANK[effective]) {
        current.softBounces += soft;
        continue;
      }
      const next: RecipientInbox = { outcome: effective, softBounces: (current?.softBounces ?? 0) + soft, at: record.at };
      if (r.status !== undefined) next.status = r.status;
      if (r.diagnostic !== undefined) next.diagnostic = r.diagnostic;
      out.set(r.key, next);
    }
  }
  return out;
}

function isSoftBounce(kind: InboxKind, status: string | undefined): boolean {
  return kind === 'delay' || (kind === 'bounce' && status?.startsWith('4') === true);
}

/** Counts per outcome for a run, `sent` being those the manifest says were sent and nothing came back for. */
export function countInboxOutcomes(folded: ReadonlyMap<string, RecipientInbox>): Record<InboxOutcome, number> & { softBounces: number } {
  const counts = { bounced: 0, delayed: 0, 'auto-replied': 0, replied: 0, complained: 0, unsubscribed: 0, softBounces: 0 };
  for (const r of folded.values()) {
    counts[r.outcome]++;
    counts.softBounces += r.softBounces;
  }
  return counts;
}

/** Why a recipient goes on the suppression list, or undefined when they should not. Soft bounces never do. */
export function suppressionReason(inbox: RecipientInbox): string | undefined {
  switch (inbox.outcome) {
    case 'bounced':
      return `bounced ${[inbox.status, inbox.diagnostic].filter(Boolean).join(' ')}`.trim();
    case 'complained':
      return 'complained (marked the message as spam)';
    case 'unsubscribed':
      return 'asked to unsubscribe';
    default:
      return undefined;
  }
}

export interface InboxSummary {
  messages: number;
  /** Recorded now for the first time. */
  new: number;
  /** Already recorded by an earlier `inbox`: nothing changed. */
  already: number;
  unmatched: number;
  /** Messages that could not be read or parsed. */
  unreadable: number;
  byKind: Record<InboxKind, number>;
}

export function emptyInboxSummary(): InboxSummary {
  return { messages: 0, new: 0, already: 0, unmatched: 0, unreadable: 0, byKind: { bounce: 0, delay: 0, 'auto-reply': 0, complaint: 0, unsubscribe: 0, reply: 0, unknown: 0 } };
}
