/**
 * Shared pieces of `npm run bench`: the built code, results, timing and peak memory of a child.
 * Plain ESM JavaScript that imports from dist/, so the benchmarks run without a TypeScript step.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const BIN = join(ROOT, 'bin', 'bulletin.js');

/** dist/ is what the benchmarks measure; build it when it is missing. */
export function ensureBuilt() {
  if (existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) return;
  process.stderr.write('bench: dist/ is missing, running npm run build first\n');
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}

/** Imports a module from dist/ by its path there, e.g. `io/deliver.js`. */
export function fromDist(path) {
  return import(join(ROOT, 'dist', path));
}

export function hasDist(path) {
  return existsSync(join(ROOT, 'dist', path));
}

/**
 * One figure. `target` is a comparison against `value`: {op: '>=' | '<', value}; with no target
 * the figure is reported only. A pending figure has value null and says why in notes.
 */
export function result(name, value, unit, target, notes = '') {
  const ok = target === undefined || value === null ? null : target.op === '>=' ? value >= target.value : value < target.value;
  return { name, value, unit, target: target ? `${target.op} ${target.value}` : '', ok, notes };
}

export function pending(name, unit, target, why) {
  return { ...result(name, null, unit, target, why), pending: true };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(value, digits = 0) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export async function withTempDir(prefix, fn) {
  const dir = await mkdtemp(join(tmpdir(), `bulletin-bench-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    if (!process.env.BENCH_KEEP) await rm(dir, { recursive: true, force: true });
  }
}

const TIME = '/usr/bin/time';

/**
 * Runs a command to completion and reports its wall time (ms), CPU time (ms) and peak RSS (MB). Peak RSS comes
 * from GNU time's "Maximum resident set size" when /usr/bin/time exists; otherwise from a tiny
 * Node wrapper that reads the child's ru_maxrss through process.resourceUsage() after it exits.
 */
export function measureProcess(command, args, options = {}) {
  const useTime = existsSync(TIME);
  const [cmd, argv] = useTime ? [TIME, ['-v', command, ...args]] : [process.execPath, [join(ROOT, 'bench', 'maxrss.js'), command, ...args]];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, { cwd: options.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const stderr = Buffer.concat(err).toString();
      const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? /^maxrss-kb: (\d+)$/m.exec(stderr)?.[1] ?? NaN);
      const exit = useTime ? Number(/Exit status: (\d+)/.exec(stderr)?.[1] ?? code) : code;
      // user + system CPU of the child and its threads (GNU time only; NaN without it)
      const cpuS = Number(/User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? NaN) + Number(/System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? NaN);
      resolve({ code: exit, ms, cpuMs: cpuS * 1000, peakMb: rssKb / 1024, stdout: Buffer.concat(out).toString(), stderr });
    });
  });
}
