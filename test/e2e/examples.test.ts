import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { bulletin, requireBuild, STACK_TRACE } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';

beforeAll(() => requireBuild());

async function run(args: string[]) {
  const result = await bulletin(args);
  expect(result.stdout + result.stderr).not.toMatch(STACK_TRACE);
  return result;
}

describe.each([
  { example: 'headteachers', recipients: 12, welsh: 'pennaeth@ysgol-bryn-hartmoor.example.org' },
  { example: 'faith-groups', recipients: 15, welsh: 'ysgrifennydd@capelbethesda.example.org' },
])('the $example example, end to end', ({ example, recipients, welsh }) => {
  let dir: string;

  beforeAll(async () => {
    dir = path.join(await scratchDir('bulletin-example-'), example);
    expect((await run(['init', dir, '--example', example])).code).toBe(0);
  });

  it('validates, previews (the Welsh recipient gets the Welsh variant), is approved and sent to the outbox', async () => {
    const validate = await run(['validate', dir]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain(`✔ ready: ${recipients} recipients, 0 errors, 0 warnings`);

    const preview = await run(['preview', dir, '--json']);
    expect(preview.code).toBe(0);
    const summary = JSON.parse(preview.stdout) as { recipients: number; languages: Record<string, number> };
    expect(summary.recipients).toBe(recipients);
    expect(summary.languages.cy).toBeGreaterThan(0);
    const files = await readdir(path.join(dir, 'preview', 'messages'));
    const welshHtml = files.find((f) => f.includes(welsh) && f.endsWith('.html'));
    expect(welshHtml, `a preview for ${welsh}`).toBeDefined();
    expect(await readFile(path.join(dir, 'preview', 'messages', welshHtml!), 'utf8')).toMatch(/Annwyl/);
    const englishHtml = files.find((f) => f.startsWith('0001-') && f.endsWith('.html'))!;
    expect(await readFile(path.join(dir, 'preview', 'messages', englishHtml), 'utf8')).toMatch(/Dear /);

    expect((await run(['approve', dir, '--by', 'Ceri Reviewer'])).code).toBe(0);
    const send = await run(['send', dir, '--yes', '--json']);
    expect(send.code).toBe(0);
    const outcome = JSON.parse(send.stdout) as { runDir: string; total: Record<string, number>; finished: boolean };
    expect(outcome.total.sent).toBe(recipients);
    expect(outcome.finished).toBe(true);
    const outbox = await readdir(path.join(outcome.runDir, 'outbox'));
    expect(outbox).toHaveLength(recipients);
  });
});

describe('partnership campaigns', () => {
  it('attach each group its own area contact sheet, and show the liaison panel only to groups that have an officer', async () => {
    const dir = path.join(await scratchDir('bulletin-faith-'), 'faith');
    await run(['init', dir, '--example', 'faith-groups']);
    await run(['preview', dir]);
    const csv: string[][] = parse(await readFile(path.join(dir, 'recipients.csv'), 'utf8'));
    const header = csv[0]!;
    const messages = path.join(dir, 'preview', 'messages');
    const emls = (await readdir(messages)).filter((f) => f.endsWith('.eml')).sort();
    expect(emls).toHaveLength(csv.length - 1);
    for (const [i, eml] of emls.entries()) {
      const row = csv[i + 1]!;
      const value = (name: string) => row[header.indexOf(name)] ?? '';
      const mail = await simpleParser(await readFile(path.join(messages, eml)));
      expect(mail.attachments.map((a) => a.filename)).toEqual([value('contact_sheet')]);
      if (value('liaison_name') === '') expect(mail.text).not.toContain('is the named liaison officer');
      else expect(mail.text).toContain(value('liaison_name'));
    }
  });

  it('skip suppressed addresses, record them as suppressed, and never mail them', async () => {
    const dir = path.join(await scratchDir('bulletin-suppress-'), 'faith');
    await run(['init', dir, '--example', 'faith-groups']);
    const config = JSON.parse(await readFile(path.join(dir, 'bulletin.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'bulletin.json'), JSON.stringify({ ...config, requireApproval: false, suppress: 'opted-out.csv' }, null, 2));
    await writeFile(path.join(dir, 'opted-out.csv'), 'email,reason\nOFFICE@bethshalom-wendlebridge.example.org,asked to be removed\n');
    const preview = await run(['preview', dir]);
    expect(preview.stdout).toContain('recipients.csv:3: warning: line 3 is on the suppression list (opted-out.csv) and will not be mailed');
    const send = await run(['send', dir, '--yes', '--json']);
    expect(send.code).toBe(0);
    const outcome = JSON.parse(send.stdout) as { runDir: string; total: Record<string, number> };
    expect(outcome.total).toMatchObject({ sent: 14, suppressed: 1 });
    const manifest = (await readFile(path.join(outcome.runDir, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { email: string; state: string });
    expect(manifest.filter((r) => r.email === 'office@bethshalom-wendlebridge.example.org').map((r) => r.state)).toEqual(['suppressed']);
    const outbox = await readdir(path.join(outcome.runDir, 'outbox'));
    expect(outbox.some((f) => f.includes('bethshalom'))).toBe(false);
  });
});
