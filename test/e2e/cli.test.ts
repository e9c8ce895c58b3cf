import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, ROOT, STACK_TRACE, bulletin, requireBuild, type CliResult } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';

let scratch: string;

beforeAll(async () => {
  requireBuild();
  scratch = await scratchDir('bulletin-e2e-');
});

function expectNoStack(result: CliResult): void {
  expect(result.stdout).not.toMatch(STACK_TRACE);
  expect(result.stderr).not.toMatch(STACK_TRACE);
}

describe('bulletin --version and --help', () => {
  it('prints the package version', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await bulletin(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints the program help', async () => {
    const result = await bulletin(['--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatchSnapshot();
  });

  it('prints the help of validate, with examples', async () => {
    const result = await bulletin(['validate', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatchSnapshot();
  });

  it('prints the help of init, with examples', async () => {
    const result = await bulletin(['help', 'init']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatchSnapshot();
  });

  it('refuses an unknown command or option with exit 2 and a pointer to --help', async () => {
    for (const args of [['frobnicate'], ['validate', '--frobnicate'], ['--frobnicate'], ['init', 'a', 'b']]) {
      const result = await bulletin(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^error: .*\n\(run with --help for usage\)\n$/);
    }
  });
});

describe('bulletin init', () => {
  it('scaffolds the headteachers example, which validates with 12 recipients', async () => {
    const dir = path.join(scratch, 'headteachers');
    const init = await bulletin(['init', dir]);
    expect(init.code).toBe(0);
    expect(init.stderr).toBe('');
    for (const file of ['bulletin.json', 'message.mjml', 'recipients.csv', 'partials/header.mjml', 'partials/signature.mjml', 'partials/footer.mjml', 'attachments/how-to-report.txt']) {
      expect(init.stdout).toContain(`created ${path.join(path.relative(ROOT, dir), file)}\n`);
    }
    expect(init.stdout).toContain(`bulletin validate ${path.relative(ROOT, dir)}`);
    const config = JSON.parse(await readFile(path.join(dir, 'bulletin.json'), 'utf8')) as { $schema: string };
    expect(path.resolve(dir, config.$schema)).toBe(path.join(ROOT, 'schema', 'bulletin.schema.json'));

    const validate = await bulletin(['validate', dir]);
    expect(validate).toMatchObject({ code: 0, stdout: '✔ ready: 12 recipients, 0 errors, 0 warnings\n', stderr: '' });
  });

  it('never overwrites: a second run keeps an edited file and says so', async () => {
    const dir = path.join(scratch, 'twice');
    expect((await bulletin(['init', dir])).code).toBe(0);
    const edited = 'email,name\nmaya.oduya@example.org,Maya Oduya\n';
    await writeFile(path.join(dir, 'recipients.csv'), edited);

    const again = await bulletin(['init', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^kept {4}.*recipients\.csv \(already there; not overwritten\)$/m);
    expect(again.stdout).not.toContain('created');
    expect(again.stdout).toContain('Nothing to do');
    expect(await readFile(path.join(dir, 'recipients.csv'), 'utf8')).toBe(edited);

    await rm(path.join(dir, 'partials', 'footer.mjml'));
    const third = await bulletin(['init', dir]);
    expect(third.code).toBe(0);
    expect(third.stdout.match(/^created .*$/gm)).toEqual([`created ${path.join(path.relative(ROOT, dir), 'partials', 'footer.mjml')}`]);
    expect(await readFile(path.join(dir, 'recipients.csv'), 'utf8')).toBe(edited);
  });

  it('scaffolds into the current folder by default', async () => {
    const dir = path.join(scratch, 'cwd');
    await rm(dir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const init = await bulletin(['init'], { cwd: dir });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('created bulletin.json\n');
    expect((await bulletin(['validate'], { cwd: dir })).code).toBe(0);
  });

  it('scaffolds the faith-groups example with --example, which validates', async () => {
    const dir = path.join(scratch, 'faith');
    const init = await bulletin(['init', dir, '--example', 'faith-groups']);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('A faith-groups example campaign is ready');
    expect(await readdir(path.join(dir, 'attachments'))).toContain('north-area.txt');
    const validate = await bulletin(['validate', dir]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/^✔ ready: 15 recipients, 0 errors, 0 warnings\n$/);
  });

  it('lists the examples', async () => {
    const result = await bulletin(['init', '--list-examples']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^faith-groups {4}.+\nheadteachers {4}.+ \(default\)\n$/);
  });

  it('refuses an unknown example with exit 2, names the real ones, and creates nothing', async () => {
    const dir = path.join(scratch, 'nope');
    const result = await bulletin(['init', dir, '--example', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('bulletin: there is no example called "nope"\n  hint: choose one of: faith-groups, headteachers\n');
    await expect(readdir(dir)).rejects.toThrow();
  });
});

describe('bulletin validate', () => {
  it('prints {ok, recipients, diagnostics} with --json', async () => {
    const result = await bulletin(['validate', path.join(FIXTURES, 'windows-1252'), '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const json = JSON.parse(result.stdout) as { ok: boolean; recipients: number; diagnostics: { location: string; severity: string }[] };
    expect(Object.keys(json)).toEqual(['ok', 'recipients', 'diagnostics']);
    expect(json.ok).toBe(true);
    expect(json.recipients).toBe(2);
    expect(json.diagnostics).toEqual([expect.objectContaining({ file: 'recipients.csv', line: 3, severity: 'warning', location: 'recipients.csv:3' })]);
  });

  const bad: [fixture: string, code: number, line: string][] = [
    ['row-without-email', 1, 'recipients.csv:3: error: no address in the "email" column'],
    ['duplicate-address-case', 1, 'recipients.csv:4: error: Maya.Oduya@example.org is a duplicate of line 2'],
    ['unclosed-quote', 1, 'recipients.csv:3: error: a quoted value starts here but its closing quote is missing'],
    ['header-injection-name', 1, 'recipients.csv:3: error: the "name" value contains a line break'],
    ['multiline-quoted-field', 1, 'recipients.csv:6: error: invalid address'],
    ['missing-row-attachment', 1, 'recipients.csv:3: error: attachment "south.txt"'],
    ['windows-1252', 0, 'recipients.csv:3: warning: the file is not UTF-8'],
    ['unknown-setting', 2, 'bulletin.json:3:3: error: unknown setting "requireAproval"\n  hint: did you mean "requireApproval"?'],
    ['invalid-json', 2, 'bulletin.json:3:3: error: invalid JSON: comma expected'],
    ['wrong-type', 2, 'bulletin.json:4:20: error: "send.concurrency"'],
    ['smtp-url-with-password', 2, 'bulletin.json:3:3: error: "server" looks like a mail server credential'],
  ];

  // Each spawns its own process; nothing is written, so they can run side by side.
  it.concurrent.for(bad)('%s → exit %i, naming the line', async ([fixture, code, line], { expect }) => {
    const result = await bulletin(['validate', path.join(FIXTURES, fixture)]);
    expect(result.code).toBe(code);
    expect(result.stdout).toContain(`${line}`);
    expect(result.stdout).toMatch(code === 0 ? /✔ ready: / : /✖ not ready: /);
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toMatch(STACK_TRACE);
    expect(result.stdout).not.toContain('Tr0ub4dor');
  });

  it('stops with one line and exit 2 when the folder does not exist', async () => {
    const result = await bulletin(['validate', 'fixtures/no-such-campaign']);
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'bulletin: campaign folder "fixtures/no-such-campaign" does not exist\n  hint: run `bulletin init <folder>` to create one\n',
    });
  });

  it('stops with one line and exit 2 when the folder has no bulletin.json, also with --json', async () => {
    for (const args of [[], ['--json']]) {
      const result = await bulletin(['validate', 'fixtures/no-config', ...args]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        'bulletin: cannot read bulletin.json: no such file\n  hint: run `bulletin init fixtures/no-config` to create an example campaign, or cd into your campaign folder\n',
      );
    }
  });

  it('says a file is not a campaign folder', async () => {
    const result = await bulletin(['validate', BIN]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^bulletin: ".*bulletin\.js" is a file, not a campaign folder\n$/);
    expectNoStack(result);
  });
});
