/**
 * The run folder on disk: `runs/<run-id>/run.json` and the append-only `manifest.jsonl`.
 *
 * Durability is the point of this module: an append resolves only once its line has been
 * written and fsync'd, so the `sending` line is on disk before the message goes to the server.
 * Appends that arrive while a write is under way are written and synced together (group
 * commit): one fsync for many lines keeps high concurrency cheap without weakening that rule.
 */
import { open, readFile, readdir, rename, mkdir, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { MANIFEST_STATES, RunSummarizer, type ManifestRecord, type RunSummary } from '../core/manifest.js';
import { readLinesIfExists, readTextIfExists } from './jsonl.js';

export const RUNS_DIR = 'runs';
export const MANIFEST_FILE = 'manifest.jsonl';
export const RUN_FILE = 'run.json';

interface PendingAppend {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ManifestStore {
  private queue: PendingAppend[] = [];
  private writing = false;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
  ) {}

  /**
   * Opens (or creates) `manifest.jsonl` in a run folder for appending. A torn last line left by
   * a crash is terminated first, so the next record starts on a line of its own.
   */
  static async open(runDir: string): Promise<ManifestStore> {
    const path = manifestPath(runDir);
    const file = await open(path, 'a+');
    try {
      const { size } = await file.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await file.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) {
          await file.write('\n');
          await file.sync();
        }
      }
    } catch (error) {
      await file.close();
      throw error;
    }
    return new ManifestStore(path, file);
  }

  /** Appends one record; resolves once it is on disk. */
  append(record: ManifestRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the manifest ${this.path} is already closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line: JSON.stringify(record) + '\n', resolve, reject });
      if (!this.writing) {
        // start on the next turn of the event loop, so that the appends made in this one (other
        // workers' outcomes arriving together) share the first write and fsync too
        this.writing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.file.write(batch.map((p) => p.line).join(''));
        // fdatasync: the appended bytes and the file's new size, without the timestamps
        // (measured here: 0.37 ms against 1.0 ms for fsync, and it is on every message's path)
        await this.file.datasync();
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.writing = false;
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing || this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
    await this.file.close();
  }
}

export interface ManifestContents {
  records: ManifestRecord[];
  /** Lines that could not be read: a torn last line after a crash mid-write, or damage. */
  skipped: { line: number; text: string; reason: string }[];
}

/** Where a run folder's manifest is. */
export function manifestPath(runFolder: string): string {
  return join(runFolder, MANIFEST_FILE);
}

/** Reads a manifest, skipping (and reporting) lines that are not complete records. */
export async function readManifest(path: string): Promise<ManifestContents> {
  return parseManifest(await readTextIfExists(path));
}

/**
 * summarizeRun of a manifest file, read line by line: a run of 100,000 recipients has 200,000
 * lines, which as one string and an array of records took ~250 MB of heap.
 */
export async function summarizeManifest(path: string): Promise<RunSummary> {
  const summarizer = new RunSummarizer();
  for await (const line of readLinesIfExists(path)) {
    const record = parseRecord(line);
    if (record) summarizer.add(record);
  }
  return summarizer.summary();
}

export function parseManifest(text: string): ManifestContents {
  const records: ManifestRecord[] = [];
  const skipped: ManifestContents['skipped'] = [];
  const lines = text.split('\n');
  const endsCleanly = text.length === 0 || text.endsWith('\n');
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    const isLast = index === lines.length - 1;
    const record = parseRecord(raw);
    if (record) records.push(record);
    else skipped.push({ line: index + 1, text: raw, reason: isLast && !endsCleanly ? 'torn last line (a crash while it was written)' : 'not a manifest record' });
  });
  return { records, skipped };
}

function parseRecord(text: string): ManifestRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<ManifestRecord>;
  const valid =
    typeof r.key === 'string' &&
    typeof r.email === 'string' &&
    typeof r.line === 'number' &&
    typeof r.messageId === 'string' &&
    typeof r.attempt === 'number' &&
    typeof r.at === 'string' &&
    MANIFEST_STATES.includes(r.state as ManifestRecord['state']);
  return valid ? (value as ManifestRecord) : undefined;
}

// ---------------------------------------------------------------------------------------------
// run.json

export interface RunInfo {
  id: string;
  startedAt: string;
  toolVersion: string;
  /** Digests of config, template, partials, recipients and attachments, by name. */
  digests: Record<string, string>;
  /** The transport, without secrets (see redactTransport). */
  transport: string;
  /** A `--test-to` run: never counts as the real send. */
  test?: boolean;
  finishedAt?: string;
  approval?: unknown;
}

/** A sortable run id: `2026-11-27T19-41-32Z-ab12` (UTC time, then a random suffix). */
export function createRunId(now: Date, suffix = randomBytes(2).toString('hex')): string {
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
  return `${time}-${suffix}`;
}

export function runDir(campaignDir: string, id: string): string {
  return join(campaignDir, RUNS_DIR, id);
}

/** Creates `runs/<id>/` with its run.json; fails if that run already exists. */
export async function createRun(campaignDir: string, info: RunInfo): Promise<string> {
  await mkdir(join(campaignDir, RUNS_DIR), { recursive: true });
  const dir = runDir(campaignDir, info.id);
  await mkdir(dir);
  await writeRunInfo(dir, info);
  await syncDir(join(campaignDir, RUNS_DIR));
  return dir;
}

/** Replaces run.json atomically (write a temporary file, sync it, rename it over). */
export async function writeRunInfo(dir: string, info: RunInfo): Promise<void> {
  const path = join(dir, RUN_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  const file = await open(tmp, 'w');
  try {
    await file.write(JSON.stringify(info, null, 2) + '\n');
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  await syncDir(dir);
}

export async function readRunInfo(dir: string): Promise<RunInfo> {
  return JSON.parse(await readFile(join(dir, RUN_FILE), 'utf8')) as RunInfo;
}

/** The runs of a campaign, oldest first (run ids sort by time). Folders without run.json are left out. */
export async function listRuns(campaignDir: string): Promise<RunInfo[]> {
  let names: string[];
  try {
    names = await readdir(join(campaignDir, RUNS_DIR));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const runs: RunInfo[] = [];
  for (const name of names.sort()) {
    try {
      runs.push(await readRunInfo(runDir(campaignDir, name)));
    } catch {
      // not a run folder (or one whose run.json was never completed): nothing to resume there
    }
  }
  return runs;
}

/** The most recent run, optionally only among real (or only test) runs. */
export async function latestRun(campaignDir: string, filter: { test?: boolean } = {}): Promise<RunInfo | undefined> {
  const runs = await listRuns(campaignDir);
  const wanted = filter.test === undefined ? runs : runs.filter((r) => (r.test ?? false) === filter.test);
  return wanted.at(-1);
}

/** fsync a directory so a new or renamed entry in it survives a crash. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on a directory; the data itself is already synced
  } finally {
    await handle.close();
  }
}
