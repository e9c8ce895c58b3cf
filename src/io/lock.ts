/**
 * One send per campaign: `.bulletin.lock` is created exclusively and names its process. A lock
 * left by a process that no longer exists is detected, reported and replaced.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = '.bulletin.lock';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface Lock {
  path: string;
  info: LockInfo;
  /** The lock this one replaced, left by a process that is gone. */
  stale?: LockInfo;
  release(): Promise<void>;
}

export class LockedError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockInfo | undefined,
  ) {
    super(describeHolder(path, holder));
    this.name = 'LockedError';
  }
}

function describeHolder(path: string, holder: LockInfo | undefined): string {
  if (!holder) return `another bulletin is using this campaign (${path} exists but cannot be read); if no send is running, delete it`;
  const where = holder.host === hostname() ? `process ${holder.pid}` : `process ${holder.pid} on ${holder.host}`;
  return `another send is running for this campaign: ${where}, "${holder.command}", started ${holder.startedAt}; wait for it to finish or stop it (lock: ${path})`;
}

export interface AcquireOptions {
  command: string;
  now?: () => Date;
  /** Whether a process exists; injectable for tests. */
  isAlive?: (pid: number) => boolean;
}

export async function acquireLock(campaignDir: string, options: AcquireOptions): Promise<Lock> {
  const path = join(campaignDir, LOCK_FILE);
  const isAlive = options.isAlive ?? processExists;
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: (options.now?.() ?? new Date()).toISOString(),
    command: options.command,
  };
  let stale: LockInfo | undefined;
  // Two tries: the second follows removing a stale lock, and fails if another process won that race.
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await createExclusively(path, info)) {
      const lock: Lock = { path, info, release: () => releaseLock(path, info) };
      if (stale) lock.stale = stale;
      return lock;
    }
    const holder = await readLock(path);
    const holderIsGone = holder !== undefined && holder.host === info.host && !isAlive(holder.pid);
    if (!holderIsGone) throw new LockedError(path, holder);
    stale = holder;
    await unlink(path).catch(ignoreMissing);
  }
  throw new LockedError(path, await readLock(path));
}

async function createExclusively(path: string, info: LockInfo): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await file.write(JSON.stringify(info, null, 2) + '\n');
    await file.sync();
  } finally {
    await file.close();
  }
  return true;
}

export async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return { pid: value.pid, host: value.host, startedAt: String(value.startedAt ?? ''), command: String(value.command ?? '') };
  } catch {
    return undefined;
  }
}

/** Removes the lock only if it is still ours (never another process's replacement). */
async function releaseLock(path: string, info: LockInfo): Promise<void> {
  const current = await readLock(path);
  if (current && current.pid === info.pid && current.startedAt === info.startedAt) await unlink(path).catch(ignoreMissing);
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
