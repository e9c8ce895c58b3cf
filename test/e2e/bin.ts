import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'bulletin.js');
export const FIXTURES = path.join(ROOT, 'fixtures');

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm ci` builds dist/ (prepare); build here only when it is missing, e.g. on a fresh checkout. */
export function ensureBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}

/** Run the real bin as a user would, without colours or debug output. */
export function bulletin(args: string[], options: { cwd?: string; nodeArgs?: string[] } = {}): Promise<BinResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  delete env.BULLETIN_DEBUG;
  delete env.BULLETIN_TRANSPORT;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What a stack trace or a raw exception looks like in output. */
export const STACK_TRACE = /\n\s+at |\b(?:TypeError|ReferenceError|SyntaxError|RangeError)\b|\bError:|unexpected failure/;
