import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { summarizeRun, type ManifestRecord } from '../../src/core/manifest.js';
import { createRun, createRunId, latestRun, listRuns, ManifestStore, readManifest, readRunInfo, runDir, summarizeManifest, writeRunInfo, type RunInfo } from '../../src/io/manifest-store.js';
import { acquireLock, LockedError, LOCK_FILE } from '../../src/io/lock.js';
import { scratchDir } from '../helpers/scratch.js';

let dir: string;
beforeEach(async () => {
  dir = await scratchDir('bulletin-store-');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(key: string, state: ManifestRecord['state']): ManifestRecord {
  return { email: key, key, line: 2, messageId: `<1@example.org>`, state, attempt: 1, at: new Date(0).toISOString() };
}

describe('ManifestStore', () => {
  it('summarises a manifest read line by line exactly as summarizeRun does the whole file, torn last line and all', async () => {
    const path = join(dir, 'manifest.jsonl');
    const records = [
      record('a@example.com', 'sending'),
      record('b@example.com', 'sending'),
      { ...record('a@example.com', 'sent'), at: new Date(5).toISOString() },
      record('c@example.com', 'suppressed'),
      { ...record('b@example.com', 'failed'), code: 550, response: '550 no such user' },
      record('d@example.com', 'deferred'),
    ];
    await writeFile(path, records.map((r) => JSON.stringify(r) + '\n').join('') + '{"email":"e@example.com","key":"e@exa');
    expect(await summarizeManifest(path)).toEqual(summarizeRun((await readManifest(path)).records));
    expect((await summarizeManifest(path)).counts).toEqual({ sending: 0, sent: 1, failed: 1, deferred: 1, suppressed: 1 });
    expect((await summarizeManifest(join(dir, 'none.jsonl'))).recipients).toBe(0);
  });

  it('appends one JSON line per record, every append on disk when it resolves', async () => {
    const store = await ManifestStore.open(dir);
    await store.append(record('a@example.com', 'sending'));
    expect(await readFile(store.path, 'utf8')).toBe(JSON.stringify(record('a@example.com', 'sending')) + '\n');
    await Promise.all([store.append(record('a@example.com', 'sent')), store.append(record('b@example.com', 'sending'))]);
    await store.close();
    const { records, skipped } = await readManifest(store.path);
    expect(records.map((r) => `${r.key} ${r.state}`)).toEqual(['a@example.com sending', 'a@example.com sent', 'b@example.com sending']);
    expect(skipped).toEqual([]);
  });

  it('tolerates a torn last line (a crash mid-write), reports it, and appends cleanly after it', async () => {
    const path = join(dir, 'manifest.jsonl');
    await writeFile(path, JSON.stringify(record('a@example.com', 'sending')) + '\n' + '{"email":"b@example.com","key":"b@exa');
    const first = await readManifest(path);
    expect(first.records).toHaveLength(1);
    expect(first.skipped).toEqual([{ line: 2, text: '{"email":"b@example.com","key":"b@exa', reason: expect.stringContaining('torn') as string }]);

    const store = await ManifestStore.open(dir);
    await store.append(record('c@example.com', 'sending'));
    await store.close();
    const after = await readManifest(path);
    expect(after.records.map((r) => r.key)).toEqual(['a@example.com', 'c@example.com']);
    expect(after.skipped).toHaveLength(1);
  });

  it('reads a missing manifest as empty', async () => {
    expect(await readManifest(join(dir, 'nope.jsonl'))).toEqual({ records: [], skipped: [] });
  });
});

describe('run.json', () => {
  it('makes sortable run ids and lists runs oldest first', async () => {
    expect(createRunId(new Date('2026-11-27T19:41:32.123Z'), 'ab12')).toBe('2026-11-27T19-41-32Z-ab12');
    const info = (id: string, extra: Partial<RunInfo> = {}): RunInfo => ({ id, startedAt: '2026-11-27T19:41:32Z', toolVersion: '0.1.0', digests: { config: 'sha256:1' }, transport: 'outbox:out', ...extra });
    await createRun(dir, info('2026-11-27T19-41-32Z-ab12'));
    await createRun(dir, info('2026-11-28T08-00-00Z-0001', { test: true }));
    await createRun(dir, info('2026-11-27T20-00-00Z-ffff'));
    expect((await listRuns(dir)).map((r) => r.id)).toEqual(['2026-11-27T19-41-32Z-ab12', '2026-11-27T20-00-00Z-ffff', '2026-11-28T08-00-00Z-0001']);
    expect((await latestRun(dir))?.id).toBe('2026-11-28T08-00-00Z-0001');
    expect((await latestRun(dir, { test: false }))?.id).toBe('2026-11-27T20-00-00Z-ffff');

    const runFolder = runDir(dir, '2026-11-27T20-00-00Z-ffff');
    await writeRunInfo(runFolder, { ...info('2026-11-27T20-00-00Z-ffff'), finishedAt: '2026-11-27T20-05-00Z' });
    expect((await readRunInfo(runFolder)).finishedAt).toBe('2026-11-27T20-05-00Z');
    await expect(createRun(dir, info('2026-11-27T20-00-00Z-ffff'))).rejects.toThrow();
  });

  it('lists no runs for a campaign that never sent', async () => {
    expect(await listRuns(dir)).toEqual([]);
  });
});

describe('lock', () => {
  it('allows one send per campaign and names the process holding it', async () => {
    const lock = await acquireLock(dir, { command: 'bulletin send' });
    expect(lock.stale).toBeUndefined();
    const error = await acquireLock(dir, { command: 'bulletin send' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockedError);
    expect((error as Error).message).toContain(`process ${process.pid}`);
    expect((error as Error).message).toContain('"bulletin send"');
    await lock.release();
    const again = await acquireLock(dir, { command: 'bulletin send' });
    await again.release();
  });

  it('detects, reports and replaces a stale lock from a dead process', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    const stale = { pid: deadPid, host: hostname(), startedAt: '2026-11-27T19:41:32.000Z', command: 'bulletin send --yes' };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(stale));
    const lock = await acquireLock(dir, { command: 'bulletin send --resume' });
    expect(lock.stale).toEqual(stale);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'bulletin send --resume' });
    await lock.release();
  });

  it('refuses a lock held on another host (its process cannot be checked)', async () => {
    await appendFile(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'other-host.example.org', startedAt: 'x', command: 'bulletin send' }));
    await expect(acquireLock(dir, { command: 'bulletin send', isAlive: () => false })).rejects.toThrow(/on other-host\.example\.org/);
  });
});
