/**
 * The run manifest as values: one record per state change of one recipient. Pure: reading
 * and appending the file is src/io/manifest-store.ts.
 */
import type { RecipientInbox } from './inbox.js';

export type ManifestState = 'sending' | 'sent' | 'failed' | 'deferred' | 'suppressed';

export const MANIFEST_STATES: readonly ManifestState[] = ['sending', 'sent', 'failed', 'deferred', 'suppressed'];

export interface ManifestRecord {
  email: string;
  /** Normalised address (lowercase), unique in the run: what resume matches on. */
  key: string;
  /** CSV line number of the recipient. */
  line: number;
  messageId: string;
  state: ManifestState;
  /** 1 for the first try; every retry appends a new `sending` line with the next number. */
  attempt: number;
  /** SMTP reply code, when the server gave one. */
  code?: number;
  /** SMTP reply text, or what the outbox did. */
  response?: string;
  /** ISO timestamp of the state change. */
  at: string;
  /** For `deferred`: when the next try is due (ISO); absent when the run stopped before retrying. */
  nextTry?: string;
  /** What went wrong without a server reply (a lost connection, a stop). */
  error?: string;
  /**
   * On a `sending` line written after the connection was lost once the whole message had been
   * handed over: the server may have queued it. The state stays `sending` (uncertain) on purpose.
   */
  uncertain?: boolean;
}

/** The last record of every recipient, in the order recipients first appear. */
export function foldManifest(records: Iterable<ManifestRecord>): Map<string, ManifestRecord> {
  const last = new Map<string, ManifestRecord>();
  for (const record of records) last.set(record.key, record);
  return last;
}

export interface RecipientOutcome {
  email: string;
  key: string;
  line: number;
  messageId: string;
  attempt: number;
  code?: number;
  response?: string;
  error?: string;
  at: string;
}

export interface RunSummary {
  /** Distinct recipients that appear in the manifest. */
  recipients: number;
  /** Recipients by their last state; `sending` here means uncertain. */
  counts: Record<ManifestState, number>;
  /** Recipients whose last state is `failed`, with the server's reply. */
  failures: RecipientOutcome[];
  /** Recipients whose last state is `sending`: the server may or may not have accepted them. */
  uncertain: RecipientOutcome[];
  /** Recipients whose last state is `deferred`: still to be tried. */
  deferred: RecipientOutcome[];
  /** Time of the last record, if any. */
  lastAt?: string;
}

export function summarizeRun(records: Iterable<ManifestRecord>): RunSummary {
  const summarizer = new RunSummarizer();
  for (const record of records) summarizer.add(record);
  return summarizer.summary();
}

/**
 * summarizeRun one record at a time, for a manifest read as a stream. Only the recipients whose
 * last state gets listed (failed, uncertain, deferred) keep their record; the others keep just
 * their state, so a run of 100,000 never holds 100,000 records.
 */
export class RunSummarizer {
  private readonly last = new Map<string, ManifestRecord | ManifestState>();
  private lastAt: string | undefined;

  add(record: ManifestRecord): void {
    const listed = record.state === 'failed' || record.state === 'sending' || record.state === 'deferred';
    this.last.set(record.key, listed ? record : record.state);
    if (this.lastAt === undefined || record.at > this.lastAt) this.lastAt = record.at;
  }

  summary(): RunSummary {
    const counts: Record<ManifestState, number> = { sending: 0, sent: 0, failed: 0, deferred: 0, suppressed: 0 };
    const failures: RecipientOutcome[] = [];
    const uncertain: RecipientOutcome[] = [];
    const deferred: RecipientOutcome[] = [];
    for (const last of this.last.values()) {
      if (typeof last === 'string') {
        counts[last]++;
        continue;
      }
      counts[last.state]++;
      if (last.state === 'failed') failures.push(outcomeOf(last));
      else if (last.state === 'sending') uncertain.push(outcomeOf(last));
      else if (last.state === 'deferred') deferred.push(outcomeOf(last));
    }
    const summary: RunSummary = { recipients: this.last.size, counts, failures, uncertain, deferred };
    if (this.lastAt !== undefined) summary.lastAt = this.lastAt;
    return summary;
  }
}

function outcomeOf(record: ManifestRecord): RecipientOutcome {
  const outcome: RecipientOutcome = {
    email: record.email,
    key: record.key,
    line: record.line,
    messageId: record.messageId,
    attempt: record.attempt,
    at: record.at,
  };
  if (record.code !== undefined) outcome.code = record.code;
  if (record.response !== undefined) outcome.response = record.response;
  if (record.error !== undefined) outcome.error = record.error;
  return outcome;
}

/**
 * A run is finished when delivery went through the whole plan (`finishedAt` in run.json) and
 * nobody is left deferred. Uncertain recipients do not keep a run open: they are listed, and
 * only resent when the user asks for it.
 */
export function isRunFinished(summary: RunSummary, run: { finishedAt?: string | undefined }): boolean {
  return run.finishedAt !== undefined && summary.counts.deferred === 0;
}

/** What resume does with a recipient, given its last record (or none). */
export type ResumeDecision = 'send' | 'skip-sent' | 'skip-failed' | 'skip-uncertain' | 'skip-suppressed';

export function resumeDecision(
  last: ManifestRecord | undefined,
  options: { retryFailed?: boolean; resendUncertain?: boolean } = {},
): ResumeDecision {
  if (!last) return 'send';
  switch (last.state) {
    case 'sent':
      return 'skip-sent';
    case 'suppressed':
      return 'skip-suppressed';
    case 'failed':
      return options.retryFailed ? 'send' : 'skip-failed';
    case 'sending':
      return options.resendUncertain ? 'send' : 'skip-uncertain';
    case 'deferred':
      return 'send';
  }
}

export interface ExtraColumns {
  /** Column names, in output order (e.g. chosen CSV columns such as `organisation`). */
  names: readonly string[];
  /** Values per recipient key. */
  byKey: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export const REPORT_COLUMNS = ['email', 'line', 'state', 'attempts', 'messageId', 'code', 'response', 'at', 'inbox', 'bounceStatus', 'bounceDiagnostic'] as const;

/**
 * One row per recipient for `bulletin report`, header first. The last state `sending` is
 * reported as `uncertain`, which is what it means once the run is over.
 */
export function reportRows(records: Iterable<ManifestRecord>, extraColumns?: ExtraColumns, inbox?: ReadonlyMap<string, RecipientInbox>): string[][] {
  const extra = extraColumns?.names ?? [];
  const header = ['email', ...extra, 'line', 'state', 'attempts', 'messageId', 'code', 'response', 'at', 'inbox', 'bounceStatus', 'bounceDiagnostic'];
  const rows: string[][] = [header];
  for (const record of foldManifest(records).values()) {
    const values = extraColumns?.byKey.get(record.key) ?? {};
    rows.push([
      record.email,
      ...extra.map((name) => values[name] ?? ''),
      String(record.line),
      record.state === 'sending' ? 'uncertain' : record.state,
      String(record.attempt),
      record.messageId,
      record.code === undefined ? '' : String(record.code),
      record.response ?? record.error ?? '',
      record.at,
      ...inboxCells(record, inbox?.get(record.key)),
    ]);
  }
  return rows;
}

/** What came back for a recipient (`bulletin inbox`): `sent` when the message was sent and nothing came back. */
function inboxCells(record: ManifestRecord, inbox: RecipientInbox | undefined): [string, string, string] {
  if (!inbox) return [record.state === 'sent' ? 'sent' : '', '', ''];
  const bounce = inbox.outcome === 'bounced' || inbox.outcome === 'delayed';
  return [inbox.outcome, bounce ? (inbox.status ?? '') : '', bounce ? (inbox.diagnostic ?? '') : ''];
}

/** Characters that make a spreadsheet treat a cell as a formula (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell a spreadsheet will show as text, never evaluate. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

function quoteCell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180 CSV (CRLF line ends), every cell neutralised for spreadsheets. */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map((cell) => quoteCell(neutraliseCell(cell))).join(',')).join('\r\n') + '\r\n';
}
