/** Run the real bin/bulletin.js as a user would, asynchronously (tests may run an SMTP server in-process). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './scratch.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'bulletin.js');
export const FIXTURES = path.join(ROOT, 'fixtures');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Options for node itself, e.g. a small heap. */
  nodeArgs?: string[];
}

/** `npm ci` builds dist/ (prepare); build here only when it is missing, e.g. on a fresh checkout. */
export function requireBuild(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}

export function startBulletin(args: string[], options: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  delete env.FORCE_COLOR;
  delete env.BULLETIN_DEBUG;
  if (!options.env?.BULLETIN_TRANSPORT) delete env.BULLETIN_TRANSPORT;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function bulletin(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startBulletin(args, options).done;
}

/** What a stack trace or a raw exception looks like in output: none ever reaches a user. */
export const STACK_TRACE = /\n\s+at |\b(?:TypeError|ReferenceError|SyntaxError|RangeError)\b|\bError:|unexpected failure/;

/** A fresh copy of an example campaign in a temp folder (removed after the test, see scratchDir), with settings changed as given. */
export async function exampleCampaign(options: { example?: string; settings?: Record<string, unknown>; recipients?: string } = {}): Promise<string> {
  const dir = await scratchDir('bulletin-e2e-');
  const campaign = path.join(dir, 'campaign');
  await cp(path.join(ROOT, 'templates', options.example ?? 'headteachers'), campaign, { recursive: true });
  const configPath = path.join(campaign, 'bulletin.json');
  const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  delete config.$schema;
  Object.assign(config, options.settings ?? {});
  await writeFile(configPath, JSON.stringify(config, null, 2));
  if (options.recipients !== undefined) await writeFile(path.join(campaign, 'recipients.csv'), options.recipients);
  return campaign;
}

/** A headteachers-style recipient list of n fictional schools. */
export function schoolRows(n: number, domain = (i: number) => `school${i % 7}.example.org`): string {
  const lines = ['email,contact_name,school,area,school_ref,language,note'];
  for (let i = 1; i <= n; i++) lines.push(`head${i}@${domain(i)},Head Teacher ${i},School number ${i},Area ${i % 4},HS-${1000 + i},en,`);
  return `${lines.join('\n')}\n`;
}
