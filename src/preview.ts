import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApprovalState } from './core/approval.js';
import { countBySeverity, escalateAccessibility, formatLocation } from './core/diagnostics.js';
import { safeFileName } from './core/file-names.js';
import { renderGalleryHtml, type GalleryData, type GalleryEntry } from './core/gallery.js';
import { messageIdFor, senderAddress } from './core/message.js';
import type { Campaign } from './io/campaign.js';
import { approvalStateOf, readApprovals } from './io/approvals.js';
import { digestCampaign, sha256, type CampaignDigest } from './io/digest.js';
import { buildMessageBytes, planMessages, prepareCampaign, type PlanResult, type PlannedMessage, type PreparedCampaign } from './plan.js';

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
}

export interface PreviewResult {
  plan: PlanResult;
  outDir?: string;
  /** Recipients previewed (after --limit / --only). */
  previewed: number;
  /** Recipients whose files were written. */
  written: number;
  digest?: CampaignDigest;
  approval?: ApprovalState;
}

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
}

/** A dry run: render every recipient, write the gallery and per-recipient files; never sends. */
export async function previewCampaign(dir: string, options: PreviewOptions): Promise<PreviewResult> {
  const { prepared, diagnostics, configLoaded } = await prepareCampaign(dir, { accessibility: true });
  if (!prepared) {
    return { plan: { configLoaded, ok: false, rows: 0, messages: 0, suppressed: [], languages: {}, diagnostics }, previewed: 0, written: 0 };
  }
  return previewPrepared(prepared, options);
}

/** The preview of a campaign already loaded and compiled (`preview --watch` keeps parts of it between rounds). */
export async function previewPrepared(prepared: PreparedCampaign, options: PreviewOptions): Promise<PreviewResult> {
  const { campaign } = prepared;
  const outDir = path.resolve(campaign.dir, options.out ?? PREVIEW_DIR);
  // Only what preview itself writes is replaced; anything else in the folder is left alone.
  await rm(path.join(outDir, MESSAGES_DIR), { recursive: true, force: true });
  await mkdir(path.join(outDir, MESSAGES_DIR), { recursive: true });

  const maxFiles = options.all ? Infinity : campaign.config.preview.maxFiles;
  const only = options.only?.trim().toLowerCase();
  const entries: GalleryEntry[] = [];
  const rows: Record<string, string> = {};
  let previewed = 0;
  let written = 0;
  const plan = await planMessages(prepared, {
    onMessage: async (message) => {
      rows[message.row.key] = rowHash(message.row.fields);
      if (only !== undefined && message.row.key !== only) return;
      if (options.limit !== undefined && previewed >= options.limit) return;
      previewed++;
      const writeFiles = written < maxFiles;
      if (writeFiles) written++;
      const entry = await previewEntry(campaign, outDir, message, previewed, writeFiles, options.now);
      if (writeFiles) entries.push(entry);
    },
  });
  for (const s of plan.suppressed) rows[s.key] = 'suppressed';
  if (options.strict) {
    escalateAccessibility(plan.diagnostics);
    plan.ok = countBySeverity(plan.diagnostics).errors === 0;
  }

  const digest = await digestCampaign(campaign);
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
  };
  if (options.live) gallery.live = options.live;
  if (written < previewed) {
    gallery.truncatedNote = `Files were written for the first ${written.toLocaleString('en-GB')} of ${previewed.toLocaleString('en-GB')} recipients; every message was rendered and checked. Use --all to write them all.`;
  }
  await writeFile(path.join(outDir, 'index.html'), renderGalleryHtml(gallery));
  await writeFile(path.join(outDir, PREVIEW_JSON), `${JSON.stringify(record, null, 2)}\n`);
  return { plan, outDir, previewed, written, digest, approval };
}

export async function readPreviewRecord(campaignDir: string): Promise<PreviewRecord | undefined> {
  try {
    return JSON.parse(await readFile(path.join(campaignDir, PREVIEW_DIR, PREVIEW_JSON), 'utf8')) as PreviewRecord;
  } catch {
    return undefined;
  }
}

export function rowHash(fields: Record<string, string>): string {
  return sha256(JSON.stringify(fields)).slice(0, 16);
}

async function previewEntry(campaign: Campaign, outDir: string, message: PlannedMessage, seq: number, writeFiles: boolean, now: Date): Promise<GalleryEntry> {
  const { row, content } = message;
  const name = campaign.config.columns.name ? row.fields[campaign.config.columns.name] : undefined;
  const entry: GalleryEntry = { email: row.email, line: row.line, language: message.language, subject: content.subject, headers: [], warnings: message.warnings };
  if (name) entry.name = name;
  if (!writeFiles) return entry;
  const messageId = messageIdFor('preview', row.key, senderAddress(campaign.config.from), sha256);
  const eml = await buildMessageBytes(campaign, message, { messageId, date: now });
  entry.headers = headerPairs(eml);
  const base = `${String(seq).padStart(4, '0')}-${safeFileName(row.email)}`;
  const rel = (ext: string) => `${MESSAGES_DIR}/${base}.${ext}`;
  await writeFile(path.join(outDir, rel('html')), content.html);
  await writeFile(path.join(outDir, rel('txt')), content.text);
  await writeFile(path.join(outDir, rel('eml')), eml);
  entry.files = { html: rel('html'), text: rel('txt'), eml: rel('eml') };
  return entry;
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
