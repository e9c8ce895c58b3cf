import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadCampaign } from '../../src/io/campaign.js';
import { forEachRecipient } from '../../src/campaign-recipients.js';
import type { Diagnostic, Severity } from '../../src/core/diagnostics.js';
import { cutRecipients, parsePieces, type RecipientRow } from '../../src/core/recipients.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', '..', 'fixtures');

/** [location as printed, severity, a phrase of the message] */
type Expected = [location: string, severity: Severity, phrase: string];

interface Case {
  fixture: string;
  exit: 0 | 1 | 2;
  recipients: number;
  diagnostics: Expected[];
  /** A phrase of the hint of the first diagnostic, where the hint is the point. */
  hint?: string;
}

const cases: Case[] = [
  { fixture: 'ok-minimal', exit: 0, recipients: 2, diagnostics: [] },
  // recipients.csv: addresses
  { fixture: 'row-without-email', exit: 1, recipients: 2, diagnostics: [['recipients.csv:3', 'error', 'no address in the "email" column']] },
  { fixture: 'invalid-address', exit: 1, recipients: 1, diagnostics: [['recipients.csv:3', 'error', '"owen.penhale.example.com" is not a valid email address']] },
  { fixture: 'address-with-space', exit: 1, recipients: 1, diagnostics: [['recipients.csv:3', 'error', 'contains a space']] },
  { fixture: 'address-with-display-name', exit: 1, recipients: 1, diagnostics: [['recipients.csv:3', 'error', 'without a display name']] },
  {
    fixture: 'duplicate-address-case',
    exit: 1,
    recipients: 2,
    diagnostics: [['recipients.csv:4', 'error', 'Maya.Oduya@example.org is a duplicate of line 2']],
  },
  // recipients.csv: shape
  {
    fixture: 'ragged-too-many-fields',
    exit: 1,
    recipients: 2,
    diagnostics: [['recipients.csv:3', 'error', 'this row has 3 fields but the header has 2']],
    hint: 'must be in double quotes',
  },
  { fixture: 'ragged-too-few-fields', exit: 1, recipients: 2, diagnostics: [['recipients.csv:3', 'error', 'this row has 2 fields but the header has 3']] },
  {
    fixture: 'unclosed-quote',
    exit: 1,
    recipients: 1,
    diagnostics: [['recipients.csv:3', 'error', 'closing quote is missing']],
    hint: 'rows from here on were not read',
  },
  { fixture: 'empty-header-name', exit: 1, recipients: 2, diagnostics: [['recipients.csv:1', 'error', 'column 3 of the header has no name']] },
  { fixture: 'duplicate-header-name', exit: 1, recipients: 2, diagnostics: [['recipients.csv:1', 'error', 'column "Name" appears twice (columns 2 and 3)']] },
  {
    fixture: 'missing-email-column',
    exit: 1,
    recipients: 0,
    diagnostics: [['recipients.csv:1', 'error', 'no "email" column: the header has "E-mail", "name"']],
    hint: 'rename "E-mail" to "email"',
  },
  { fixture: 'custom-email-column', exit: 0, recipients: 2, diagnostics: [] },
  {
    fixture: 'header-injection-name',
    exit: 1,
    recipients: 2,
    diagnostics: [['recipients.csv:3', 'error', 'the "name" value contains a line break, and it goes into a message header']],
  },
  { fixture: 'blank-required-value', exit: 1, recipients: 1, diagnostics: [['recipients.csv:3', 'error', '"school" is blank, and bulletin.json marks it required']] },
  { fixture: 'empty-file', exit: 1, recipients: 0, diagnostics: [['recipients.csv:1', 'error', 'the file is empty']] },
  { fixture: 'header-only', exit: 1, recipients: 0, diagnostics: [['recipients.csv:2', 'error', 'no recipients']] },
  // line numbers after skipped and multi-line content
  { fixture: 'blank-lines', exit: 1, recipients: 1, diagnostics: [['recipients.csv:6', 'error', 'this row has 1 fields but the header has 2']] },
  { fixture: 'multiline-quoted-field', exit: 1, recipients: 2, diagnostics: [['recipients.csv:6', 'error', '"lena.marsh.example.net" is not a valid email address']] },
  { fixture: 'crlf-line-endings', exit: 1, recipients: 1, diagnostics: [['recipients.csv:5', 'error', '"owen.penhale@example" has no valid internet domain']] },
  // encodings and separators: all read, at most a warning
  { fixture: 'utf8-bom', exit: 0, recipients: 2, diagnostics: [] },
  { fixture: 'utf16le-bom', exit: 0, recipients: 2, diagnostics: [] },
  { fixture: 'semicolon-separated', exit: 0, recipients: 2, diagnostics: [] },
  { fixture: 'tab-separated', exit: 0, recipients: 2, diagnostics: [] },
  { fixture: 'windows-1252', exit: 0, recipients: 2, diagnostics: [['recipients.csv:3', 'warning', 'not UTF-8; read it as Windows-1252']] },
  // bulletin.json: could not start
  { fixture: 'unknown-setting', exit: 2, recipients: 0, diagnostics: [['bulletin.json:3:3', 'error', 'unknown setting "requireAproval"']], hint: 'did you mean "requireApproval"?' },
  { fixture: 'invalid-json', exit: 2, recipients: 0, diagnostics: [['bulletin.json:3:3', 'error', 'invalid JSON: comma expected']] },
  { fixture: 'wrong-type', exit: 2, recipients: 0, diagnostics: [['bulletin.json:4:20', 'error', '"send.concurrency": Invalid input: expected number, received string']] },
  { fixture: 'password-in-config', exit: 2, recipients: 0, diagnostics: [['bulletin.json:3:3', 'error', '"password" looks like a mail server credential']], hint: 'BULLETIN_TRANSPORT' },
  { fixture: 'smtp-url-with-password', exit: 2, recipients: 0, diagnostics: [['bulletin.json:3:3', 'error', '"server" looks like a mail server credential']], hint: 'BULLETIN_TRANSPORT' },
  // files the settings name
  { fixture: 'missing-template', exit: 1, recipients: 0, diagnostics: [['statement.mjml', 'error', 'cannot read the message template named by "template"']] },
  { fixture: 'missing-attachment', exit: 1, recipients: 2, diagnostics: [['bulletin.json:5:5', 'error', 'attachment "attachments/diversion.txt" does not exist']] },
  {
    fixture: 'missing-template-and-attachment',
    exit: 1,
    recipients: 0,
    diagnostics: [
      ['bulletin.json:4:19', 'error', 'attachment "attachments/diversion.txt" does not exist'],
      ['statement.mjml', 'error', 'no such file'],
    ],
  },
  { fixture: 'missing-recipients-file', exit: 1, recipients: 0, diagnostics: [['contacts.csv', 'error', 'cannot read the recipients file: no such file']] },
  {
    fixture: 'missing-row-attachment',
    exit: 1,
    recipients: 2,
    diagnostics: [['recipients.csv:3', 'error', 'attachment "south.txt" (column "sheet") is not in attachments/']],
  },
];

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `bulletin validate <dir> [args]` in this process, through the same main() the bin runs. */
async function validate(dir: string, ...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const capture = (sink: (s: string) => void) => (chunk: string | Uint8Array) => {
    sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture((s) => (stdout += s)));
  vi.spyOn(process.stderr, 'write').mockImplementation(capture((s) => (stderr += s)));
  try {
    await main(['node', 'bulletin', 'validate', dir, ...args]);
    return { exitCode: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

interface JsonResult {
  ok: boolean;
  recipients: number;
  diagnostics: (Diagnostic & { location: string })[];
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('bulletin validate over fixtures/', () => {
  it('has at least 25 bad-input fixtures', () => {
    expect(cases.filter((c) => c.diagnostics.length > 0).length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('$fixture', async ({ fixture, exit, recipients, diagnostics, hint }) => {
    const run = await validate(path.join(FIXTURES, fixture), '--json');
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as JsonResult;
    expect(run.exitCode).toBe(exit);
    expect(result.ok).toBe(exit === 0);
    expect(result.recipients).toBe(recipients);
    expect(result.diagnostics.map((d) => [d.location, d.severity])).toEqual(diagnostics.map(([location, severity]) => [location, severity]));
    result.diagnostics.forEach((d, i) => expect(d.message).toContain(diagnostics[i]![2]));
    if (hint) expect(result.diagnostics[0]?.hint).toContain(hint);
  });

  it('prints the same problems for people: file:line[:col]: severity: message, then a summary', async () => {
    const run = await validate(path.join(FIXTURES, 'duplicate-address-case'));
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('recipients.csv:4: error: Maya.Oduya@example.org is a duplicate of line 2 (addresses are compared ignoring case)\n');
    expect(run.stdout).toContain('  hint: remove one of the two rows');
    expect(run.stdout).toMatch(/not ready: 2 recipients, 1 error, 0 warnings\n$/);
  });

  it('never prints the password it complains about', async () => {
    for (const fixture of ['password-in-config', 'smtp-url-with-password']) {
      for (const args of [[], ['--json']]) {
        const run = await validate(path.join(FIXTURES, fixture), ...args);
        expect(run.exitCode).toBe(2);
        expect(run.stdout + run.stderr).not.toContain('Tr0ub4dor');
      }
    }
  });

  it('stops with one line and exit 2 when the folder does not exist', async () => {
    const run = await validate(path.join(FIXTURES, 'no-such-campaign'), '--json');
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^bulletin: campaign folder ".*no-such-campaign" does not exist\n {2}hint: run `bulletin init <folder>`/);
  });

  it('stops with one line and exit 2 when the folder has no bulletin.json', async () => {
    const run = await validate(path.join(FIXTURES, 'no-config'));
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^bulletin: cannot read bulletin\.json: no such file\n {2}hint: run `bulletin init /);
  });
});

describe('recipient values as read from differently encoded files', () => {
  async function names(fixture: string): Promise<string[]> {
    const { campaign, diagnostics } = await loadCampaign(path.join(FIXTURES, fixture));
    if (!campaign) throw new Error(`${fixture} did not load`);
    const rows: RecipientRow[] = [];
    await forEachRecipient(campaign, diagnostics, (row) => {
      rows.push(row);
    });
    return rows.map((r) => r.fields.name ?? '');
  }

  it('decodes Windows-1252 é and ’ (0x92, which Node 20’s own decoder gets wrong)', async () => {
    expect(await names('windows-1252')).toEqual(['Maya Oduya', 'Renée O’Brien']);
  });

  it('decodes UTF-16LE with a BOM, and strips a UTF-8 BOM from the first header', async () => {
    expect(await names('utf16le-bom')).toEqual(['Maya Oduya', 'Zoë Lefèvre']);
    expect(await names('utf8-bom')).toEqual(['Maya Oduya', 'Owen Penhale']);
  });

  it('keeps a UTF-8 file as its bytes when asked (for a parse in a worker), with the same rows and text; other encodings as text', async () => {
    for (const fixture of ['windows-1252', 'utf16le-bom', 'utf8-bom', 'semicolon-separated']) {
      const asText = await loadCampaign(path.join(FIXTURES, fixture));
      const { campaign, diagnostics } = await loadCampaign(path.join(FIXTURES, fixture), { bytesFrom: 0 });
      if (!campaign || !asText.campaign) throw new Error(`${fixture} did not load`);
      expect(diagnostics).toEqual(asText.diagnostics);
      const { bytes } = campaign.recipients;
      expect(bytes !== undefined, fixture).toBe(fixture === 'utf8-bom' || fixture === 'semicolon-separated');
      if (bytes === undefined) continue;
      const rows: RecipientRow[] = [];
      await forEachRecipient(campaign, [], (row) => void rows.push(row), parsePieces({ ...cutRecipients(bytes), bytes: true }));
      expect(rows.map((r) => r.fields.name ?? '')).toEqual(await names(fixture));
      expect(campaign.recipients.text).toBe(asText.campaign.recipients.text);
      expect({ ...campaign.recipients, text: '', bytes: '' }).toEqual({ ...asText.campaign.recipients, text: '', bytes: '' });
    }
  });

  it('keeps a quoted ; in a ;-separated file', async () => {
    expect(await names('semicolon-separated')).toEqual(['Maya Oduya', 'Penhale; Owen']);
  });
});
