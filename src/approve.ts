import type { ApprovalRecord } from './core/approval.js';
import { loadCampaign } from './io/campaign.js';
import { appendApproval } from './io/approvals.js';
import { diffDigests, digestCampaign } from './io/digest.js';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { replaceApprovalBanner } from './core/gallery.js';
import { PREVIEW_DIR, readPreviewRecord } from './preview.js';

export type ApproveOutcome =
  | { ok: true; record: ApprovalRecord }
  | { ok: false; reason: string; hint: string };

/**
 * A reviewer signs off the content they previewed. Refused when there is no preview of exactly
 * the current content, so nobody can approve what they have not seen.
 */
export async function approveCampaign(dir: string, by: string, note: string | undefined, now: Date): Promise<ApproveOutcome> {
  const { campaign } = await loadCampaign(dir);
  if (!campaign) return { ok: false, reason: 'the campaign has errors', hint: 'run `bulletin validate` and fix them, then preview again' };
  const preview = await readPreviewRecord(campaign.dir);
  if (!preview) return { ok: false, reason: 'there is no preview to approve', hint: 'run `bulletin preview`, look at every message you need to, then approve' };
  const current = await digestCampaign(campaign);
  if (preview.digest !== current.digest) {
    const changes = diffDigests(preview.files, current.files);
    return { ok: false, reason: `the campaign changed since it was previewed (${changes.join('; ')})`, hint: 'run `bulletin preview` again and review the new content' };
  }
  if (!preview.complete) {
    return { ok: false, reason: 'the last preview covered only some recipients (--limit or --only)', hint: 'run `bulletin preview` without --limit/--only so every message is rendered and checked' };
  }
  if (preview.counts.errors > 0) {
    return { ok: false, reason: `the preview found ${preview.counts.errors} error(s)`, hint: 'fix them (see `bulletin validate`), preview again, then approve' };
  }
  const record: ApprovalRecord = {
    by,
    at: now.toISOString(),
    digest: current.digest,
    files: current.files,
    counts: { recipients: preview.counts.rows, messages: preview.counts.messages, suppressed: preview.counts.suppressed, warnings: preview.counts.warnings },
    rows: preview.rows,
  };
  if (preview.versions) record.versions = preview.versions;
  if (note) record.note = note;
  await appendApproval(campaign.dir, record);
  // The gallery the reviewer has open says so too, on reload.
  const gallery = path.join(campaign.dir, PREVIEW_DIR, 'index.html');
  const html = await readFile(gallery, 'utf8').catch(() => undefined);
  if (html !== undefined) await writeFile(gallery, replaceApprovalBanner(html, { state: 'approved', by: record.by, at: record.at }));
  return { ok: true, record };
}
