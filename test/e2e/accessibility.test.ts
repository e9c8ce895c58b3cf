import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bulletin, requireBuild, STACK_TRACE } from '../helpers/cli.js';

beforeAll(() => requireBuild());

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'bulletin-e2e-a11y-'));
  dir = path.join(root, 'campaign');
  expect((await bulletin(['init', dir])).code).toBe(0);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The example's signature partial, its text made pale grey: a contrast problem at a known line. */
async function paleSignature(): Promise<number> {
  const file = path.join(dir, 'partials', 'signature.mjml');
  const lines = (await readFile(file, 'utf8')).split('\n');
  const at = lines.findIndex((l) => l.includes('<mj-text>'));
  lines[at] = lines[at]!.replace('<mj-text>', '<mj-text color="#a0a8b0">');
  await writeFile(file, lines.join('\n'));
  return at + 1;
}

describe('accessibility warnings through the CLI', () => {
  it('validate warns (exit 0); validate --strict makes them errors (exit 1); --json carries the check', async () => {
    const line = await paleSignature();

    const plain = await bulletin(['validate', dir]);
    expect(plain.stdout + plain.stderr).not.toMatch(STACK_TRACE);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`partials/signature.mjml:${line}:9: warning: accessibility: text "`);
    expect(plain.stdout).toMatch(/has a contrast of 2\.\d\d:1 \(#a0a8b0 on #ffffff\); WCAG 2\.2 AA asks for 4\.5:1/);
    expect(plain.stdout).toMatch(/\n {2}hint: use a darker text colour such as #[0-9a-f]{6}/);
    expect(plain.stdout).toContain('✔ ready: 12 recipients, 0 errors, 1 warning');

    const strict = await bulletin(['validate', dir, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(`partials/signature.mjml:${line}:9: error: accessibility: text "`);
    expect(strict.stdout).toContain('✖ not ready: 12 recipients, 1 error, 0 warnings');

    const json = await bulletin(['validate', dir, '--strict', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; diagnostics: Array<{ check?: string; severity: string; file: string; line: number }> };
    expect(report.ok).toBe(false);
    expect(report.diagnostics).toEqual([expect.objectContaining({ check: 'accessibility/contrast', severity: 'error', file: 'partials/signature.mjml', line })]);
  });

  it('the init example passes validate --strict and preview --strict', async () => {
    const validate = await bulletin(['validate', dir, '--strict']);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toBe('✔ ready: 12 recipients, 0 errors, 0 warnings\n');
    const preview = await bulletin(['preview', dir, '--strict', '--json']);
    expect(preview.code).toBe(0);
    expect((JSON.parse(preview.stdout) as { diagnostics: unknown[] }).diagnostics).toEqual([]);
  });

  it('preview reports them in its summary and --json, and --strict fails it', async () => {
    const line = await paleSignature();
    const preview = await bulletin(['preview', dir]);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain(`partials/signature.mjml:${line}:9: warning: accessibility:`);
    expect(preview.stdout).toContain('12 recipients written; 0 errors, 1 warning.');
    const gallery = await readFile(path.join(dir, 'preview', 'index.html'), 'utf8');
    const panel = /<details id="accessibility"[\s\S]*?<\/details>/.exec(gallery)?.[0] ?? '';
    expect(panel).toContain('Accessibility: 1 warning');
    expect(panel).toContain(`partials/signature.mjml:${line}:9`);
    expect(panel).toContain('has a contrast of');
    const strict = await bulletin(['preview', dir, '--strict', '--json']);
    expect(strict.code).toBe(1);
    const report = JSON.parse(strict.stdout) as { ok: boolean; diagnostics: Array<{ check?: string; severity: string }> };
    expect(report.ok).toBe(false);
    expect(report.diagnostics).toEqual([expect.objectContaining({ check: 'accessibility/contrast', severity: 'error' })]);
  });
});
