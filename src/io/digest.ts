import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CONFIG_FILE } from '../core/config.js';
import type { Campaign } from './campaign.js';

export interface CampaignDigest {
  /** sha256 of the sorted per-file digests: one value to compare. */
  digest: string;
  /** Relative path → sha256 of its bytes. */
  files: Record<string, string>;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Digest of everything that decides what recipients get: settings, template and variants,
 * partials, text template, recipients, and every file under attachments/.
 */
export async function digestCampaign(campaign: Campaign): Promise<CampaignDigest> {
  const files: Record<string, string> = {};
  files[CONFIG_FILE] = sha256(await readFile(path.join(campaign.dir, CONFIG_FILE)));
  for (const file of [campaign.template, ...Object.values(campaign.variants), ...Object.values(campaign.partials)]) {
    files[file.path] = sha256(file.text);
  }
  if (campaign.textTemplate) files[campaign.textTemplate.path] = sha256(campaign.textTemplate.text);
  files[campaign.recipients.path] = campaign.recipients.sha256;
  const attachmentPaths = new Set([...campaign.config.attachments, ...[...campaign.attachmentFiles].map((f) => path.join('attachments', f))]);
  for (const rel of [...attachmentPaths].sort()) {
    const bytes = await readFile(path.join(campaign.dir, rel)).catch(() => undefined);
    if (bytes) files[rel] = sha256(bytes);
  }
  if (campaign.config.suppress) {
    const bytes = await readFile(path.join(campaign.dir, campaign.config.suppress)).catch(() => undefined);
    if (bytes) files[campaign.config.suppress] = sha256(bytes);
  }
  const sorted = Object.keys(files).sort();
  const digest = sha256(sorted.map((f) => `${f}\0${files[f]}`).join('\n'));
  return { digest, files: Object.fromEntries(sorted.map((f) => [f, files[f]!])) };
}

/** Which files differ between two digests: added, removed, changed. */
export function diffDigests(before: Record<string, string>, after: Record<string, string>): string[] {
  const changes: string[] = [];
  for (const file of Object.keys(after).sort()) {
    if (!(file in before)) changes.push(`${file} added`);
    else if (before[file] !== after[file]) changes.push(`${file} changed`);
  }
  for (const file of Object.keys(before).sort()) if (!(file in after)) changes.push(`${file} removed`);
  return changes;
}
