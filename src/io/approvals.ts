import path from 'node:path';
import { compareRows, describeRowChanges, type ApprovalRecord, type ApprovalState } from '../core/approval.js';
import { diffDigests, type CampaignDigest } from './digest.js';
import { appendJsonLine, readJsonLines } from './jsonl.js';

export const APPROVALS_FILE = 'approvals.jsonl';

export async function readApprovals(campaignDir: string): Promise<ApprovalRecord[]> {
  return (await readJsonLines<ApprovalRecord>(path.join(campaignDir, APPROVALS_FILE))).records;
}

export async function appendApproval(campaignDir: string, record: ApprovalRecord): Promise<void> {
  await appendJsonLine(path.join(campaignDir, APPROVALS_FILE), record);
}

/**
 * Whether approvalStateOf describes row changes for this content, so it needs the current rows:
 * no approval is of exactly this content, and the latest lists its rows.
 */
export function approvalComparesRows(approvals: ApprovalRecord[], current: CampaignDigest): boolean {
  return approvals.at(-1)?.rows !== undefined && !approvals.some((a) => a.digest === current.digest);
}

/**
 * Is the current content approved? Any approval of exactly this digest counts; otherwise the
 * latest approval is compared with what is here now, naming files and recipient rows changed.
 */
export function approvalStateOf(
  approvals: ApprovalRecord[],
  current: CampaignDigest,
  currentRows: Record<string, string> | undefined,
  recipientsPath: string,
): ApprovalState {
  const match = [...approvals].reverse().find((a) => a.digest === current.digest);
  if (match) return { state: 'approved', approval: match };
  const latest = approvals.at(-1);
  if (!latest) return { state: 'none' };
  const changes = diffDigests(latest.files, current.files).map((change) =>
    change === `${recipientsPath} changed` && latest.rows && currentRows
      ? `${recipientsPath} changed: ${describeRowChanges(compareRows(latest.rows, currentRows))}`
      : change,
  );
  return { state: 'changed', approval: latest, changes };
}
