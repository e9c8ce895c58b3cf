import * as crypto from 'node:crypto';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApprovalState } from './core/approval.js';
import { countBySeverity, escalateAccessibility, formatLocation } from './core/diagnostics.js';
import { safeFileName } from './core/file-names.js';
import { galleryHtmlChunks, liveRenderUrl, renderGalleryHtml, type GalleryData, type GalleryEntry } from './core/gallery.js';
import { ColumnPacker, type GalleryIndex, type GalleryVersion } from './core/gallery-versions.js';
import type { RecipientRow } from './core/recipients.js';
import { namedRecipients, VersionGrouper, type MessageVersion } from './core/versions.js';
import { messageIdFor, senderAddress } from './core/message.js';
import type { Campaign } from './io/campaign.js';
import { approvalStateOf, readApprovals } from './io/approvals.js';
import { digestCampaign, sha256, type CampaignDigest } from './io/digest.js';
import { buildMessageBytes, planMessages, prepareCampaign, renderRows, type PlanResult, type PlannedMessage, type PreparedCampaign } from './plan.js';

export const PREVIEW_DIR = 'preview';
export const PREVIEW_JSON = 'preview.json';
const MESSAGES_DIR = 'messages';

export interface PreviewOptions {
  /** Output folder; default <campaign>/preview. */
  out?: string;
  /** Preview only the first N recipients. */
  limit?: number;
  /** Preview only this address. */
  only?: string;
  /** Write files for every recipient, past the config's preview.maxFiles. */
  all?: boolean;
  /** Accessibility warnings become errors (so such a preview cannot be approved either). */
  strict?: boolean;
  now: Date;
  /** Served by `preview --watch`: the page follows the server's events; version names this rendering. */
  live?: { version: number };
  /**
   * `preview --watch`: where the files go (it serves them from memory and writes them after),
   * instead of straight to disk with the messages folder emptied first.
   */
  files?: PreviewFiles;
  /** `preview --watch`: each recipient's .eml as last built, so an unchanged message is not built or written again. */
  emlCache?: EmlCache;
  /** Told each recipient whose files the preview has (paths relative to the output folder). */
  onFiles?: (files: { html: string; text: string; eml: string }, row: RecipientRow) => void;
}

/** Where a preview's files go, by path relative to the output folder ('/' separated). */
export interface PreviewFiles {
  write(rel: string, data: string | Buffer): void | Promise<void>;
  /** The file is what the last round wrote there (same message): keep it. */
  keep(rel: string): void;
}

/** .eml path → what the message was built from (a key), its bytes and headers. */
export type EmlCache = Map<string, { key: string; eml: Buffer; headers: Array<[string, string]> }>;

export interface PreviewResult {
  plan: PlanResult;
  outDir?: string;
  /** Recipients previewed (after --limit / --only). */
  previewed: number;
  /** Recipients whose files were written. */
  written: number;
  digest?: CampaignDigest;
  approval?: ApprovalState;
  /** The distinct versions of the message, most common first (empty when nothing rendered). */
  versions: PreviewVersion[];
  /** A live preview's recipients by seq, so the server can render any of them on demand. */
  rows?: RecipientRow[];
}

/** A version and its digest: the shape, the template and its recipients' rows. */
export type PreviewVersion = MessageVersion & { digest: string };

/** preview.json: what was previewed. `approve` signs off only content a preview was made of. */
export interface PreviewRecord {
  generatedAt: string;
  digest: string;
  files: Record<string, string>;
  /** Recipient key → hash of the row's values (lets approval describe row changes). */
  rows: Record<string, string>;
  /** True when every recipient was rendered (no --limit / --only). */
  complete: boolean;
  counts: { rows: number; messages: number; previewed: number; written: number; suppressed: number; errors: number; warnings: number };
  diagnostics: string[];
  /** The versions of the message (absent in a preview made before versions existed). */
  versions?: Array<{ number: number; count: number; language: string; digest: string }>;
}

/** A dry run: render every recipient, write the gallery and per-recipient files; never sends. */
export async function previewCampaign(dir: string, options: PreviewOptions): Promise<PreviewResult> {
  const { prepared, diagnostics, configLoaded } = await prepareCampaign(dir, { accessibility: true });
  if (!prepared) {
    return { plan: { configLoaded, ok: false, rows: 0, messages: 0, suppressed: [], languages: {}, diagnostics }, previewed: 0, written: 0, versions: [] };
  }
  return previewPrepared(prepared, options, { once: true });
}

/** The preview of a campaign already loaded and compiled (`preview --watch` keeps parts of it between rounds). */
export async function previewPrepared(prepared: PreparedCampaign, options: PreviewOptions, loaded: { once?: boolean } = {}): Promise<PreviewResult> {
  const { campaign, template } = prepared;
  const outDir = path.resolve(campaign.dir, options.out ?? PREVIEW_DIR);
  // Only what preview itself writes is replaced; anything else in the folder is left alone.
  if (!options.files) await rm(path.join(outDir, MESSAGES_DIR), { recursive: true, force: true });
  await mkdir(path.join(outDir, MESSAGES_DIR), { recursive: true });
  // A one-shot preview writes a few dozen files at a time while it renders on; the watch brings its own.
  const writes = options.files ? undefined : new FileWrites(outDir);
  const files: PreviewFiles = options.files ?? writes!;
  const out = { files, now: options.now, ...(options.emlCache ? { emlCache: options.emlCache } : {}), ...(options.onFiles ? { onFiles: options.onFiles } : {}) };

  const maxFiles = options.all ? Infinity : campaign.config.preview.maxFiles;
  const only = options.only?.trim().toLowerCase();
  const entries: GalleryEntry[] = [];
  let rows: Record<string, string> = {};
  // Every previewed recipient, by seq (0-based): the gallery's index and the versions.
  const columns = template ? [...new Set(template.variables.map((v) => v.name))] : [];
  const nameColumn = campaign.config.columns.name;
  const index: GalleryIndex = { email: [], line: [], version: [], columns, values: [], warnings: [] };
  // Most columns repeat a few values (area, language, a note): stored once each. The `email`
  // variable is the recipient's address, in the index already.
  const values = columns.map((c) => (c === 'email' ? undefined : new ColumnPacker()));
  const names = nameColumn ? new ColumnPacker() : undefined;
  // Each recipient's version, by a number per version key (not the key: a string each).
  const versionIds: number[] = [];
  const versionKeys = new Map<string, number>();
  const rowHashes: string[] = [];
  const grouper = template ? new VersionGrouper<RecipientRow>((language) => template.structure(language), columns) : undefined;
  let previewed = 0;
  let written = 0;
  // Kept only for a live gallery, whose server renders any recipient on demand.
  const liveRows: RecipientRow[] | undefined = options.live ? [] : undefined;
  // Files are written for the first maxFiles messages: only those are rendered in full, the
  // rest checked the cheap way, as validate does. --only may pick any row.
  const cheap = only === undefined && Number.isFinite(maxFiles);
  const plan = await planMessages(prepared, {
    ...(cheap ? { html: false, text: false, fullFirst: maxFiles } : {}),
    onMessage: async (message) => {
      const { row } = message;
      const hash = rowHash(row.fields);
      rows[row.key] = hash;
      if (only !== undefined && row.key !== only) return;
      if (options.limit !== undefined && previewed >= options.limit) return;
      const seq = previewed++;
      if (written < maxFiles) {
        written++;
        entries.push(await previewEntry(campaign, out, message, seq));
      }
      liveRows?.push(row);
      index.email.push(row.email);
      index.line.push(row.line);
      names?.push(row.fields[nameColumn!] ?? '');
      for (let c = 0; c < columns.length; c++) values[c]?.push(message.data[columns[c]!] ?? '');
      if (message.warnings.length > 0) index.warnings.push([seq, message.warnings]);
      rowHashes.push(hash);
      if (grouper && template) {
        const branches = template.structure(message.language).branchesOf(message.data);
        const key = grouper.add({ seq, line: row.line, email: row.email, language: message.language, branches, attachments: attachmentNamesOf(message), data: message.data, keep: row });
        let id = versionKeys.get(key);
        if (id === undefined) versionKeys.set(key, (id = versionKeys.size));
        versionIds.push(id);
      }
    },
  });
  // Loaded for this preview alone: the recipients file's text (13 MB for 100,000 rows) is read.
  if (loaded.once) campaign.recipients.text = '';
  for (const s of plan.suppressed) rows[s.key] = 'suppressed';
  if (options.strict) {
    escalateAccessibility(plan.diagnostics);
    plan.ok = countBySeverity(plan.diagnostics).errors === 0;
  }

  index.values = values.map((v) => v?.packed() ?? { sameAs: 'email' as const });
  if (names) index.name = names.packed();
  const digest = await digestCampaign(campaign);
  const found = grouper?.finish() ?? [];
  const versions: PreviewVersion[] = found.map((v) => ({ ...v, digest: sha256(`${digest.digest}\n${v.key}\n${v.members.map((seq) => rowHashes[seq]).join('\n')}`) }));
  const numbers: number[] = [];
  for (const v of versions) numbers[versionKeys.get(v.key) ?? -1] = v.number;
  index.version = versionIds.map((id) => numbers[id] ?? 0);
  versionIds.length = 0;
  // Every version's example and extremes have their files, wherever they are in the list.
  const unwritten = namedRecipients(versions).filter((r) => r.seq >= written);
  const extra = await renderRows(prepared, unwritten.map((r) => grouper!.keptFor(r.seq)!));
  for (const [i, message] of extra.entries()) entries.push(await previewEntry(campaign, out, message, unwritten[i]!.seq));
  await writes?.finish();
  const firstWritten = written;
  written += extra.length;
  const approval = approvalStateOf(await readApprovals(campaign.dir), digest, rows, campaign.recipients.path);
  const { errors, warnings } = countBySeverity(plan.diagnostics);
  const record: PreviewRecord = {
    generatedAt: options.now.toISOString(),
    digest: digest.digest,
    files: digest.files,
    rows,
    complete: only === undefined && options.limit === undefined,
    counts: { rows: plan.rows, messages: plan.messages, previewed, written, suppressed: plan.suppressed.length, errors, warnings },
    diagnostics: plan.diagnostics.map((d) => `${formatLocation(d)}: ${d.severity}: ${d.message}`),
    versions: versions.map((v) => ({ number: v.number, count: v.count, language: v.language, digest: v.digest })),
  };
  const gallery: GalleryData = {
    campaign: campaign.config.name ?? path.basename(campaign.dir),
    generatedAt: record.generatedAt,
    counts: { recipients: plan.messages, written, warnings, errors, suppressed: plan.suppressed.length },
    diagnostics: plan.diagnostics.map((d) => ({
      location: formatLocation(d),
      severity: d.severity,
      message: d.message,
      ...(d.hint !== undefined ? { hint: d.hint } : {}),
      ...(d.check !== undefined ? { check: d.check } : {}),
    })),
    accessibilityChecked: prepared.template !== undefined,
    approval: galleryApproval(approval, path.relative(process.cwd(), campaign.dir) || '.'),
    entries,
    versions: versions.map(({ members: _members, lines: _lines, key: _key, ...v }): GalleryVersion => v),
    index,
  };
  if (options.live) {
    gallery.live = options.live;
    gallery.renderUrl = liveRenderUrl(options.live.version);
  }
  if (written < previewed) {
    const more = extra.length > 0 ? `, and for the ${extra.length.toLocaleString('en-GB')} further recipients each version names as its example or extremes` : '';
    gallery.truncatedNote = `Files were written for the first ${firstWritten.toLocaleString('en-GB')} of ${previewed.toLocaleString('en-GB')} recipients${more}; every message was rendered and checked, and every recipient is in the list with the version they get.${options.live ? ' Pick any other recipient and this live preview renders their message.' : ' Use --all to write them all.'}`;
  }
  await files.write(PREVIEW_JSON, `${JSON.stringify(record, null, 2)}\n`);
  // Written: every row's hash can go before the page's data is (the peak of a long list).
  rows = record.rows = {};
  rowHashes.length = 0;
  if (writes) {
    await writes.finish();
    await writeChunks(path.join(outDir, 'index.html'), galleryHtmlChunks(gallery));
  } else {
    // The gallery last: a watching page fetches it once it is told of the new rendering.
    await files.write('index.html', renderGalleryHtml(gallery));
  }
  const result: PreviewResult = { plan, outDir, previewed, written, digest, approval, versions };
  if (liveRows) result.rows = liveRows;
  return result;
}

export async function readPreviewRecord(campaignDir: string): Promise<PreviewRecord | undefined> {
  try {
    return JSON.parse(await readFile(path.join(campaignDir, PREVIEW_DIR, PREVIEW_JSON), 'utf8')) as PreviewRecord;
  } catch {
    return undefined;
  }
}

/** The first 16 hex digits of the row's sha256 (a string of its own, not a slice that keeps all 64). */
export function rowHash(fields: Record<string, string>): string {
  const json = JSON.stringify(fields);
  // crypto.hash (Node 20.12) is several times quicker than a Hash object for 100,000 short rows.
  const digest = typeof crypto.hash === 'function' ? crypto.hash('sha256', json, 'buffer') : crypto.createHash('sha256').update(json).digest();
  return digest.toString('hex', 0, 8);
}

/**
 * Writes files a few dozen at a time while the plan goes on rendering, instead of waiting for
 * each (three per recipient, thousands in all) before the next message.
 */
class FileWrites implements PreviewFiles {
  private readonly pending = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(private readonly outDir: string) {}

  async write(rel: string, data: string | Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const done: Promise<void> = writeFile(path.join(this.outDir, rel), data).then(
      () => {
        this.pending.delete(done);
      },
      (error: unknown) => {
        this.pending.delete(done);
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    this.pending.add(done);
    if (this.pending.size >= FILES_IN_FLIGHT) await Promise.race(this.pending);
  }

  keep(): void {
    // Every file is written afresh.
  }

  /** Every write done; the first that failed is thrown. */
  async finish(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure !== undefined) throw this.failure;
  }
}

const FILES_IN_FLIGHT = 24;

/** Writes a file from many pieces, about a megabyte at a time, never joining them all. */
async function writeChunks(file: string, chunks: Iterable<string>): Promise<void> {
  const handle = await open(file, 'w');
  try {
    let batch: string[] = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      const bytes = Buffer.from(batch.join(''), 'utf8');
      batch = [];
      size = 0;
      for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at)).bytesWritten;
    };
    for (const chunk of chunks) {
      batch.push(chunk);
      size += chunk.length;
      if (size >= 1 << 20) await flush();
    }
    await flush();
  } finally {
    await handle.close();
  }
}

/** The attachments' file names; one list per attachments-column value, so one string each. */
const attachmentKeys = new WeakMap<object, string[]>();
function attachmentNamesOf(message: PlannedMessage): string[] {
  let names = attachmentKeys.get(message.attachments);
  if (!names) {
    names = message.attachments.map((a) => a.filename);
    attachmentKeys.set(message.attachments, names);
  }
  return names;
}

interface EntryOutput {
  files: PreviewFiles;
  now: Date;
  emlCache?: EmlCache;
  onFiles?: PreviewOptions['onFiles'];
}

/** One recipient's message as the gallery shows it: the entry (without files) and the three files' contents. */
export interface RenderedRecipient {
  entry: GalleryEntry;
  html: string;
  text: string;
  eml: Buffer;
}

/** The gallery's entry for a message, its headers still to be filled in from the .eml. */
function galleryEntry(campaign: Campaign, message: PlannedMessage, seq: number): GalleryEntry {
  const { row, content } = message;
  const name = campaign.config.columns.name ? row.fields[campaign.config.columns.name] : undefined;
  const entry: GalleryEntry = { email: row.email, line: row.line, language: message.language, subject: content.subject, headers: [], warnings: message.warnings, seq };
  if (name) entry.name = name;
  return entry;
}

/** The .eml as `send` would build it, with a Message-ID fixed per recipient and sender. */
function previewEml(campaign: Campaign, message: PlannedMessage, now: Date): Promise<Buffer> {
  const messageId = messageIdFor('preview', message.row.key, senderAddress(campaign.config.from), sha256);
  return buildMessageBytes(campaign, message, { messageId, date: now });
}

/**
 * A live gallery's recipient rendered on demand (one the preview wrote no files for): the same
 * renderer as `send`, against the campaign as the last good preview compiled it.
 */
export async function renderRecipient(prepared: PreparedCampaign, row: RecipientRow, seq: number, now: Date): Promise<RenderedRecipient | undefined> {
  const [message] = await renderRows(prepared, [row]);
  if (!message) return undefined;
  const entry = galleryEntry(prepared.campaign, message, seq);
  const eml = await previewEml(prepared.campaign, message, now);
  entry.headers = headerPairs(eml);
  return { entry, html: message.content.html, text: message.content.text, eml };
}

/** Write one recipient's .html, .txt and .eml; `seq` is 0-based (the file names count from 1). */
async function previewEntry(campaign: Campaign, out: EntryOutput, message: PlannedMessage, seq: number): Promise<GalleryEntry> {
  const { row, content } = message;
  const entry = galleryEntry(campaign, message, seq);
  const base = `${String(seq + 1).padStart(4, '0')}-${safeFileName(row.email)}`;
  const files = { html: `${MESSAGES_DIR}/${base}.html`, text: `${MESSAGES_DIR}/${base}.txt`, eml: `${MESSAGES_DIR}/${base}.eml` };
  // The .eml is built from everything the .html and .txt are: the same key, the same three files.
  const key = out.emlCache ? emlKey(message) : '';
  const kept = out.emlCache?.get(files.eml);
  if (kept && kept.key === key) {
    entry.headers = kept.headers;
    for (const rel of Object.values(files)) out.files.keep(rel);
  } else {
    const eml = await previewEml(campaign, message, out.now);
    entry.headers = headerPairs(eml);
    out.emlCache?.set(files.eml, { key, eml, headers: entry.headers });
    await out.files.write(files.html, content.html);
    await out.files.write(files.text, content.text);
    await out.files.write(files.eml, eml);
  }
  entry.files = files;
  out.onFiles?.(files, row);
  return entry;
}

const attachmentHashes = new WeakMap<Buffer, string>();

/**
 * Everything a preview's .eml is built from but its Message-ID (fixed per recipient and sender)
 * and Date. It tells whether a message changed between two renderings, in one process: a fast
 * hash, the long parts fed in as they are rather than copied into one JSON string first.
 */
function emlKey(message: PlannedMessage): string {
  const attachments = message.attachments.map((a) => {
    let hash = attachmentHashes.get(a.content);
    if (hash === undefined) attachmentHashes.set(a.content, (hash = sha256(a.content)));
    return [a.filename, hash];
  });
  const { content } = message;
  const head = JSON.stringify([message.row, message.language, content.subject, content.preheader ?? null, message.unsubscribeUrl ?? null, attachments, content.html.length]);
  return crypto.createHash('sha1').update(head).update(content.html).update('\0').update(content.text).digest('base64');
}

/** The header block of the .eml, unfolded: exactly what the server will see. */
function headerPairs(eml: Buffer): Array<[string, string]> {
  const text = eml.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  const block = (end === -1 ? text : text.slice(0, end)).replace(/\r\n[ \t]+/g, ' ');
  const pairs: Array<[string, string]> = [];
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) pairs.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return pairs;
}

function galleryApproval(state: ApprovalState, dirShown: string): GalleryData['approval'] {
  const where = dirShown === '.' ? '' : ` ${dirShown}`;
  switch (state.state) {
    case 'approved':
      return { state: 'approved', by: state.approval.by, at: state.approval.at };
    case 'changed':
      return { state: 'changed', by: state.approval.by, at: state.approval.at, changes: state.changes };
    case 'none':
      return { state: 'none', command: `bulletin approve${where} --by "Your Name"` };
  }
}
