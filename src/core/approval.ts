/** One line of approvals.jsonl: a reviewer signing off exactly this content. */
export interface ApprovalRecord {
  by: string;
  at: string;
  note?: string;
  digest: string;
  files: Record<string, string>;
  counts: { recipients: number; messages: number; suppressed: number; warnings: number };
  /** Normalised-address keys → sha256 of the row's values, so a later change can be described by rows. */
  rows?: Record<string, string>;
  /** The versions of the message the reviewer saw (preview.json), each with its digest. */
  versions?: ApprovedVersion[];
}

export interface ApprovedVersion {
  number: number;
  count: number;
  language: string;
  digest: string;
}

/** "3 versions (1: 356 · 2: 41 · 3: 3)", for approve and status. */
export function describeVersions(versions: readonly ApprovedVersion[]): string {
  const list = versions.map((v) => `${v.number}: ${v.count}`).join(' · ');
  return `${versions.length} version${versions.length === 1 ? '' : 's'} (${list})`;
}

export type ApprovalState =
  | { state: 'approved'; approval: ApprovalRecord }
  | { state: 'changed'; approval: ApprovalRecord; changes: string[] }
  | { state: 'none' };

export interface RowChanges {
  added: number;
  removed: number;
  changed: number;
}

/** Compare the approved rows with the current ones: how many were added, removed, changed. */
export function compareRows(approved: Record<string, string>, current: Record<string, string>): RowChanges {
  const changes: RowChanges = { added: 0, removed: 0, changed: 0 };
  for (const [key, hash] of Object.entries(current)) {
    const before = approved[key];
    if (before === undefined) changes.added++;
    else if (before !== hash) changes.changed++;
  }
  for (const key of Object.keys(approved)) if (!(key in current)) changes.removed++;
  return changes;
}

export function describeRowChanges(c: RowChanges): string {
  const parts: string[] = [];
  if (c.added > 0) parts.push(`${c.added} row${c.added === 1 ? '' : 's'} added`);
  if (c.removed > 0) parts.push(`${c.removed} removed`);
  if (c.changed > 0) parts.push(`${c.changed} changed`);
  return parts.length > 0 ? parts.join(', ') : 'rows reordered or reformatted';
}
