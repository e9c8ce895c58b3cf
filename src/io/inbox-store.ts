/**
 * Where `bulletin inbox` writes what it learnt: `runs/<run>/inbox.jsonl` for messages matched to
 * a run, `inbox/unmatched.jsonl` for the rest. Append-only; a message already recorded anywhere
 * (by its id) is never recorded again, so reading the same mailbox twice changes nothing.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { InboxRecord } from '../core/inbox.js';
import { readJsonLines } from './jsonl.js';
import { listRuns, runDir } from './manifest-store.js';

export const INBOX_FILE = 'inbox.jsonl';
export const UNMATCHED_DIR = 'inbox';
export const UNMATCHED_FILE = 'unmatched.jsonl';

export function inboxPath(campaignDir: string, run: string | undefined): string {
  return run === undefined ? join(campaignDir, UNMATCHED_DIR, UNMATCHED_FILE) : join(runDir(campaignDir, run), INBOX_FILE);
}

/** A run's inbox records (none yet: empty). A torn last line is skipped. */
export async function readInboxRecords(campaignDir: string, run: string | undefined): Promise<InboxRecord[]> {
  return (await readJsonLines<InboxRecord>(inboxPath(campaignDir, run))).records.filter((r) => typeof r.id === 'string' && Array.isArray(r.recipients));
}

export class InboxStore {
  private readonly files = new Map<string, FileHandle>();
  private readonly dirty = new Set<FileHandle>();

  private constructor(
    private readonly campaignDir: string,
    /** Ids already recorded, in any run or the unmatched log. */
    private readonly seen: Set<string>,
  ) {}

  static async open(campaignDir: string): Promise<InboxStore> {
    const seen = new Set<string>();
    const runs = await listRuns(campaignDir);
    for (const run of [...runs.map((r) => r.id), undefined]) {
      for (const record of await readInboxRecords(campaignDir, run)) seen.add(record.id);
    }
    return new InboxStore(campaignDir, seen);
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  /**
   * Appends one record (or several, for a message that concerns recipients of several runs);
   * synced to disk by flush() before the source is changed (marked seen, moved), so nothing is
   * moved out of the mailbox that is not on record.
   */
  async append(record: InboxRecord): Promise<void> {
    const path = inboxPath(this.campaignDir, record.run);
    let file = this.files.get(path);
    if (!file) {
      if (record.run === undefined) await mkdir(join(this.campaignDir, UNMATCHED_DIR), { recursive: true });
      file = await open(path, 'a');
      this.files.set(path, file);
    }
    await file.write(`${JSON.stringify(record)}\n`);
    this.dirty.add(file);
    this.seen.add(record.id);
  }

  /** Everything appended so far is on disk when this resolves. */
  async flush(): Promise<void> {
    const files = [...this.dirty];
    this.dirty.clear();
    await Promise.all(files.map((f) => f.datasync()));
  }

  async close(): Promise<void> {
    await this.flush();
    await Promise.all([...this.files.values()].map((f) => f.close()));
    this.files.clear();
  }
}
