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
  private readonly files = new Map<string, { handle: FileHandle; pending: string[]; bytes: number }>();

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
   * Appends one record. Lines are written in batches and synced by flush(), which runs before
   * the mailbox is changed (marked seen, moved): a crash before it loses records of messages
   * that are still in the mailbox, unchanged, and are read again next time; never the reverse.
   * (A write per message was most of the time of reading a 10,000-message mbox.)
   */
  async append(record: InboxRecord): Promise<void> {
    const path = inboxPath(this.campaignDir, record.run);
    let file = this.files.get(path);
    if (!file) {
      if (record.run === undefined) await mkdir(join(this.campaignDir, UNMATCHED_DIR), { recursive: true });
      file = { handle: await open(path, 'a'), pending: [], bytes: 0 };
      this.files.set(path, file);
    }
    const line = `${JSON.stringify(record)}\n`;
    file.pending.push(line);
    file.bytes += line.length;
    this.seen.add(record.id);
    if (file.bytes >= BATCH_BYTES) await this.write(file);
  }

  /** Everything appended so far is on disk when this resolves. */
  async flush(): Promise<void> {
    await Promise.all(
      [...this.files.values()].map(async (file) => {
        await this.write(file);
        await file.handle.datasync();
      }),
    );
  }

  async close(): Promise<void> {
    await this.flush();
    await Promise.all([...this.files.values()].map((f) => f.handle.close()));
    this.files.clear();
  }

  private async write(file: { handle: FileHandle; pending: string[]; bytes: number }): Promise<void> {
    if (file.pending.length === 0) return;
    const text = file.pending.join('');
    file.pending = [];
    file.bytes = 0;
    await file.handle.write(text);
  }
}

const BATCH_BYTES = 256 * 1024;
