import { describe, expect, it } from 'vitest';
import { configJsonSchema, lineStarts, parseConfig, position, settingPosition } from '../../src/core/config.js';
import { sortDiagnostics } from '../../src/core/diagnostics.js';

const FROM = '"from": "Brindle Parish Council <clerk@brindle-parish.example.org>"';

/** Each diagnostic as `line:col severity: message | hint`, in file order. */
function problems(text: string): string[] {
  const { diagnostics } = parseConfig(text);
  return sortDiagnostics(diagnostics).map((d) => `${d.line ?? ''}:${d.column ?? ''} ${d.severity}: ${d.message}${d.hint ? ` | ${d.hint}` : ''}`);
}

describe('parseConfig', () => {
  it('fills in every default from a config that only gives "from"', () => {
    const { config, diagnostics } = parseConfig(`{${FROM}}`);
    expect(diagnostics).toEqual([]);
    expect(config).toMatchObject({
      template: 'message.mjml',
      partials: 'partials',
      recipients: 'recipients.csv',
      columns: { email: 'email', language: 'language' },
      required: [],
      attachments: [],
      requireApproval: false,
      send: { concurrency: 5, retries: 5, maxConsecutiveFailures: 10 },
      preview: { maxFiles: 1000 },
    });
  });

  it('keeps the other column defaults when only one column is given', () => {
    expect(parseConfig(`{${FROM}, "columns": {"email": "address"}}`).config?.columns).toEqual({ email: 'address', language: 'language' });
  });

  it('reads a file saved with a UTF-8 BOM, and does not count the BOM as a column', () => {
    expect(parseConfig(`\uFEFF{${FROM}}`).config?.from).toContain('clerk@brindle-parish.example.org');
    expect(problems(`\uFEFF{"nme": "x",\n${FROM}}`)).toEqual(['1:2 error: unknown setting "nme" | did you mean "name"?']);
  });

  it('names an unknown setting, at any depth, with "did you mean"', () => {
    expect(problems(`{\n  ${FROM},\n  "requireAproval": true,\n  "send": {"concurency": 5},\n  "columns": {"emial": "address"}\n}`)).toEqual([
      '3:3 error: unknown setting "requireAproval" | did you mean "requireApproval"?',
      '4:12 error: unknown setting "send.concurency" | did you mean "concurrency"?',
      '5:15 error: unknown setting "columns.emial" | did you mean "email"?',
    ]);
  });

  it('lists the known settings when nothing is close', () => {
    const [only] = problems(`{${FROM},\n "zzzzzzzz": 1}`);
    expect(only).toMatch(/^2:2 error: unknown setting "zzzzzzzz" \| known settings here: \$schema, name, from, /);
  });

  it('gives line:column for invalid JSON, once per place', () => {
    expect(problems(`{\n  ${FROM}\n  "name": "x"\n}`)).toEqual(['3:3 error: invalid JSON: comma expected | check for a missing comma, quote or brace near here']);
    expect(problems(`{\n  ${FROM},\n}`)).toEqual(['3:1 error: invalid JSON: property name expected | check for a missing comma, quote or brace near here']);
    expect(problems(`{${FROM} // a comment\n}`)[0]).toMatch(/^1:\d+ error: invalid JSON: invalid comment token/);
  });

  it('says an empty file is empty', () => {
    expect(problems('')).toEqual(['1: error: the file is empty | run `bulletin init` to create a working example']);
    expect(problems(' \r\n\n')).toEqual(['1: error: the file is empty | run `bulletin init` to create a working example']);
  });

  it('points a wrong type or value at the value, with its line:column', () => {
    expect(problems(`{\n  ${FROM},\n  "send": {\n    "concurrency": "five",\n    "rate": "fast"\n  },\n  "requireApproval": "yes"\n}`)).toEqual([
      '4:20 error: "send.concurrency": Invalid input: expected number, received string',
      '5:13 error: "send.rate": must look like 10/sec, 600/min or 5000/hour',
      '7:22 error: "requireApproval": Invalid input: expected boolean, received string',
    ]);
  });

  it('says a required setting is missing rather than "received undefined"', () => {
    expect(problems('{\n  "name": "Road closure"\n}')).toEqual(['1:1 error: missing setting "from" | add it here, e.g. "from": "…"']);
    expect(problems(`{${FROM},\n "dkim": {"domain": "example.org", "privateKey": "dkim.pem"}}`)).toEqual([
      '2:10 error: missing setting "dkim.selector" | add it here, e.g. "selector": "…"',
    ]);
  });

  it('rejects settings that are not an object', () => {
    expect(problems('[]')).toEqual(['1:1 error: the settings: Invalid input: expected object, received array']);
  });

  it('refuses a password, pointing to BULLETIN_TRANSPORT and never repeating the secret', () => {
    const text = `{\n  ${FROM},\n  "password": "Tr0ub4dor-unit-secret",\n  "dkim": {"domain": "example.org", "selector": "s1", "privateKey": "k.pem", "pass": "Tr0ub4dor-unit-secret"},\n  "name": "smtps://clerk:Tr0ub4dor-unit-secret@mail.example.net:465"\n}`;
    const { config, diagnostics } = parseConfig(text);
    expect(config).toBeUndefined();
    expect(sortDiagnostics(diagnostics).map((d) => `${d.line}:${d.column} ${d.message.split(';')[0]}`)).toEqual([
      '3:3 "password" looks like a mail server credential',
      '4:78 "pass" looks like a mail server credential',
      '5:3 "name" looks like a mail server credential',
    ]);
    for (const d of diagnostics) {
      expect(d.hint).toContain('BULLETIN_TRANSPORT');
      expect(JSON.stringify(d)).not.toContain('Tr0ub4dor');
    }
  });

  it('does not report a credential key twice as an unknown setting', () => {
    expect(problems(`{${FROM}, "user": "clerk"}`)).toHaveLength(1);
  });

  it('accepts an smtp:// URL without a password', () => {
    expect(parseConfig(`{${FROM}, "listId": "smtp://mail.example.org:25"}`).diagnostics).toEqual([]);
  });
});

describe('positions', () => {
  it('maps offsets to 1-based line:column, LF or CRLF', () => {
    const text = 'ab\ncd\r\nef';
    const starts = lineStarts(text);
    expect(position(starts, 0)).toEqual({ line: 1, column: 1 });
    expect(position(starts, 4)).toEqual({ line: 2, column: 2 });
    expect(position(starts, 7)).toEqual({ line: 3, column: 1 });
  });

  it('finds where a setting is, for problems with the file it names', () => {
    const text = `{\n  ${FROM},\n  "attachments": [\n    "a.txt",\n    "b.txt"\n  ]\n}`;
    expect(settingPosition(text, ['attachments', 1])).toEqual({ line: 5, column: 5 });
    expect(settingPosition(`\uFEFF${text}`, ['attachments', 1])).toEqual({ line: 5, column: 5 });
    expect(settingPosition(text, ['dkim'])).toBeUndefined();
  });
});

describe('configJsonSchema', () => {
  it('describes every setting, and only "from" is required on input', () => {
    const schema = configJsonSchema() as { required?: string[]; properties: Record<string, { description?: string }>; additionalProperties?: boolean };
    expect(schema.required).toEqual(['from']);
    expect(schema.additionalProperties).toBe(false);
    for (const [key, property] of Object.entries(schema.properties)) expect(property.description, key).toBeTruthy();
  });
});
