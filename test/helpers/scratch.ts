/**
 * Temporary folders for tests that are removed even when the test fails: made inside a test,
 * a folder goes when that test finishes (onTestFinished); made in a beforeAll, it goes when the
 * test file finishes (test/setup.ts runs removeScratchDirs in an afterAll for every file).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

const fileScoped = new Set<string>();

export async function scratchDir(prefix = 'bulletin-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }));
  } catch {
    // Not inside a test (a beforeAll): removed after the file's last test.
    fileScoped.add(dir);
  }
  return dir;
}

export async function removeScratchDirs(): Promise<void> {
  const dirs = [...fileScoped];
  fileScoped.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 3 })));
}
