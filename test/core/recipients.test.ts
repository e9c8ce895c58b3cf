import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { cutPoints, detectDelimiter, keptRecords, parseRecipients, type RecipientRow } from '../../src/core/recipients.js';
import { seeded } from '../helpers/random.js';

async function parse(text: string, extra: Partial<Parameters<typeof parseRecipients>[1]> = {}) {
  const rows: RecipientRow[] = [];
  const summary = await parseRecipients(text, { file: 'recipients.csv', emailColumn: 'email', ...extra }, (r) => {
    rows.push(r);
  });
  return { rows, summary, problems: summary.diagnostics.map((d) => `${d.line}: ${d.severity}: ${d.message}`) };
}

describe('parseRecipients', () => {
  it('gives each row the line it starts on, across quoted multi-line values and blank lines', async () => {
    const { rows, problems } = await parse('email,note\na@example.org,"one\ntwo"\n\nb@example.org,x\n');
    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.email, r.line])).toEqual([
      ['a@example.org', 2],
      ['b@example.org', 5],
    ]);
  });

  it('collects every problem, not only the first', async () => {
    const { problems } = await parse('email,school\n,Oak\nnot-an-address,Elm\nA@Example.org,Ash\na@example.org,Yew\nc@example.org,Fir,extra\n');
    expect(problems).toEqual([
      '2: error: no address in the "email" column',
      '3: error: invalid address: "not-an-address" is not a valid email address',
      '5: error: a@example.org is a duplicate of line 4 (addresses are compared ignoring case)',
      '6: error: this row has 3 fields but the header has 2',
    ]);
  });

  it('names the line where an unclosed quote opened, not the end of the file', async () => {
    const { problems, rows } = await parse('email,note\na@example.org,ok\nb@example.org,"never closed\nc@example.org,x\nd@example.org,y\n');
    expect(problems).toEqual(['3: error: a quoted value starts here but its closing quote is missing']);
    expect(rows.map((r) => r.line)).toEqual([2]);
  });

  it('detects ; and tab separated files from the header', () => {
    expect(detectDelimiter('email;name\n')).toBe(';');
    expect(detectDelimiter('email\tname\n')).toBe('\t');
    expect(detectDelimiter('"a;b",email\n')).toBe(',');
  });

  it('counts a CRLF inside a quoted value as one line, so later rows keep their line numbers', async () => {
    const { rows, problems } = await parse('email,note\r\na@example.org,"one\r\ntwo"\r\n\r\nb@example.org,x\r\nnot-an-address,y\r\n');
    expect(rows.map((r) => [r.email, r.line])).toEqual([
      ['a@example.org', 2],
      ['b@example.org', 5],
    ]);
    expect(problems).toEqual(['6: error: invalid address: "not-an-address" is not a valid email address']);
  });

  it('counts a CRLF inside a quoted value of an LF file as one line', async () => {
    const { rows, problems } = await parse('email,name\na@example.org,"Ann\r\nBcc: x@example.net"\nb@example.org,Bo\n', { headerColumns: ['name'] });
    expect(problems).toEqual(['2: error: the "name" value contains a line break, and it goes into a message header']);
    expect(rows.map((r) => r.line)).toEqual([4]);
  });

  it('keeps line numbers right when a CRLF straddles the 64 KiB chunk boundary', async () => {
    const filler = `a@example.org,"${'x'.repeat(64 * 1024 - 'email,note\r\na@example.org,"'.length - 1)}\r\ny"\r\n`;
    const text = `email,note\r\n${filler}b@example.org,z\r\nbad,w\r\n`;
    expect(text.charCodeAt(64 * 1024 - 1)).toBe(13);
    const { rows, problems } = await parse(text);
    expect(rows.map((r) => r.line)).toEqual([2, 4]);
    expect(problems).toEqual(['5: error: invalid address: "bad" is not a valid email address']);
  });

  it('reads a file whose lines end in a lone CR (old Mac)', async () => {
    const { rows, problems } = await parse('email,name\ra@example.org,Ann\r\rb@example.org,"Bo\rBrown"\rbad,Cy\r');
    expect(rows.map((r) => [r.email, r.line])).toEqual([
      ['a@example.org', 2],
      ['b@example.org', 4],
    ]);
    expect(problems).toEqual(['6: error: invalid address: "bad" is not a valid email address']);
  });

  it('does not call a file empty when its header has an unclosed quote', async () => {
    const { problems, summary } = await parse('email,"name\na@example.org,Ann\n');
    expect(problems).toEqual(['1: error: a quoted value starts here but its closing quote is missing']);
    expect(summary.rows).toBe(0);
  });

  it('finds an unclosed quote in a ;-separated file', async () => {
    const { problems } = await parse('email;name\na@example.org;Ann\nb@example.org;"Bo\nc@example.org;Cy\n');
    expect(problems).toEqual(['3: error: a quoted value starts here but its closing quote is missing']);
  });

  it('trims header names and values, keeps "" and a quote inside a value', async () => {
    const { rows, problems } = await parse(' email , name \n  a@example.org  ,"Ann ""Nan"" Smith"\nb@example.org, O"Brien \n');
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.fields)).toEqual([
      { email: 'a@example.org', name: 'Ann "Nan" Smith' },
      { email: 'b@example.org', name: 'O"Brien' },
    ]);
  });

  it('skips rows of empty fields like blank lines, and counts only real rows', async () => {
    const { rows, summary, problems } = await parse('email,name\n,\n  ,  \na@example.org,Ann\n');
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.line)).toEqual([4]);
    expect(summary).toMatchObject({ rows: 1, valid: 1 });
  });

  it('names every later duplicate against the first line', async () => {
    const { problems, summary } = await parse('email\na@example.org\nA@example.org\na@EXAMPLE.ORG\n');
    expect(problems).toEqual([
      '3: error: A@example.org is a duplicate of line 2 (addresses are compared ignoring case)',
      '4: error: a@example.org is a duplicate of line 2 (addresses are compared ignoring case)',
    ]);
    expect(summary).toMatchObject({ rows: 3, valid: 1 });
  });

  it('reads a custom email column and reports a required column the header lacks', async () => {
    const { rows, problems } = await parse('address,name\na@example.org,Ann\n', { emailColumn: 'address', requiredColumns: ['school'] });
    expect(problems).toEqual(['1: error: no "school" column, which bulletin.json lists as required']);
    expect(rows.map((r) => r.email)).toEqual(['a@example.org']);
  });

  it('flags a blank required value and a line break in a header column, on the row\'s first line', async () => {
    const { problems, rows } = await parse('email,name,school\na@example.org,"Ann\nBcc: x@example.net",Oak\nb@example.org,Bo, \nc@example.org,Cy,Elm\n', {
      headerColumns: ['name'],
      requiredColumns: ['school'],
    });
    expect(problems).toEqual([
      '2: error: the "name" value contains a line break, and it goes into a message header',
      '4: error: "school" is blank, and bulletin.json marks it required',
    ]);
    expect(rows.map((r) => r.line)).toEqual([5]);
  });

  it('reads the last row without a final newline', async () => {
    const { rows } = await parse('email,name\na@example.org,Ann');
    expect(rows.map((r) => [r.line, r.email])).toEqual([[2, 'a@example.org']]);
  });

  it('says "empty" for a file of blank lines, and "no recipients" for a header alone', async () => {
    expect((await parse('\n\n\n')).problems).toEqual(['1: error: the file is empty']);
    expect((await parse('email,name\n\n\n')).problems).toEqual(['2: error: no recipients: the file has a header but no rows']);
  });

  it('accepts the email column in another case, so a spreadsheet header "Email" works', async () => {
    const { rows, problems } = await parse('Email,name\nA@Example.org,Ann\n');
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.email)).toEqual(['A@example.org']);
  });
});

/** Text made of what trips a CSV reader: quotes (doubled, mid-value, unclosed-looking), delimiters, every line ending. */
const BITS = ['"', '""', 'a', 'b c', ',', ';', '\n', '\r\n', '\r', '\n\n', ',"x\ny",', ',"q""r"', '"s"t'];

function randomCsv(random: () => number, delimiter: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const value = Array.from({ length: Math.floor(random() * 6) }, () => BITS[Math.floor(random() * BITS.length)]).join('');
    lines.push(`r${i}${delimiter}${value}`);
  }
  return lines.join('\n') + '\n';
}

const records = (text: string, delimiter: string): string[][] =>
  parseCsv(text.replace(/\r\n?/g, '\n'), { delimiter, relax_column_count: true, relax_quotes: true });

describe('cutPoints', () => {
  it('cuts where csv-parse, reading piece after piece, gives the records it gives for the whole text', () => {
    const random = seeded(7);
    let cases = 0;
    for (let n = 0; n < 120; n++) {
      const delimiter = n % 2 === 0 ? ',' : ';';
      const text = randomCsv(random, delimiter);
      // Skip texts that end inside a quoted value: parseRecipients never cuts those (it reads up to the quote).
      if (findsUnclosed(text, delimiter)) continue;
      for (const parts of [2, 5, 40]) {
        const cuts = cutPoints(text, delimiter, parts);
        expect(cuts).toEqual([...cuts].sort((a, b) => a - b));
        for (const cut of cuts) expect(text[cut - 1]).toBe('\n');
        const starts = [0, ...cuts];
        const pieced = starts.flatMap((start, i) => records(text.slice(start, starts[i + 1]), delimiter));
        expect(pieced).toEqual(records(text, delimiter));
        if (cuts.length > 0) cases++;
      }
    }
    expect(cases).toBeGreaterThan(150);
  });

  it('never cuts inside a quoted value, even one spanning the share\'s end', () => {
    const text = 'email,note\na@example.org,"one\ntwo\nthree\nfour"\nb@example.org,x\n';
    expect(cutPoints(text, ',', 2)).toEqual([text.indexOf('b@')]);
  });
});

function findsUnclosed(text: string, delimiter: string): boolean {
  try {
    records(text, delimiter);
    return false;
  } catch {
    return true;
  }
}

describe('keptRecords', () => {
  it('gives the same rows and problems on every read as parsing the text does', async () => {
    const text = 'email,name\r\nann@example.org,Ann\r\nann@example.org,"Ann\r\nagain"\r\nnot-an-address,Bob\r\n';
    const options = { file: 'recipients.csv', emailColumn: 'email' };
    const collect = async (input: Parameters<typeof parseRecipients>[0]) => {
      const rows: RecipientRow[] = [];
      const summary = await parseRecipients(input, options, (row) => void rows.push(row));
      return { rows, summary };
    };
    const expected = await collect(text);
    expect(expected.summary.diagnostics.length).toBeGreaterThan(0);
    const read = keptRecords(text);
    expect(await collect(read())).toEqual(expected);
    expect(await collect(read())).toEqual(expected);
  });
});
