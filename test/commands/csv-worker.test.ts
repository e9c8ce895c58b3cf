import { describe, expect, it } from 'vitest';
import { cutRecipients, parsePieces, parseRecipients, type CsvRecords, type RecipientRow } from '../../src/core/recipients.js';
import { parseInWorker } from '../../src/io/csv-worker.js';

const OPTIONS = { file: 'recipients.csv', emailColumn: 'email', headerColumns: ['name'] };

/** Rows with everything that moves line numbers: quoted line breaks, CRLF, blank lines, problems. */
function recipientsText(rows: number): string {
  const lines = ['email,name,note'];
  for (let i = 0; i < rows; i++) {
    if (i % 97 === 0) lines.push('');
    if (i % 89 === 0) lines.push(`not-an-address-${i},Bad,x`);
    const note = i % 7 === 0 ? `"line one\r\nline ""two"", ${i}"` : `plain ${i}`;
    lines.push(`head${i}@school${i % 50}.example.org,Head ${i},${note}`);
  }
  lines.push('head5@school5.example.org,Duplicate,x'); // a duplicate near the end
  return lines.join('\r\n') + '\r\n';
}

async function read(input: string | CsvRecords) {
  const rows: RecipientRow[] = [];
  const summary = await parseRecipients(input, OPTIONS, (row) => {
    rows.push(row);
  });
  return { rows, summary };
}

describe('recipients parsed in a worker thread', () => {
  it('gives the rows, lines and problems that parsing in this thread gives, across many pieces', async () => {
    // More pieces than the worker parses ahead, so that it waits to be asked, as with a large file.
    const text = recipientsText(90_000);
    const cut = cutRecipients(text);
    expect(cut.pieces.length).toBeGreaterThan(18);
    const there = await read(parseInWorker(cut));
    const here = await read(text);
    expect(there).toEqual(here);
    expect(here.rows.length).toBe(90_000);
    expect(here.summary.diagnostics.length).toBeGreaterThan(1000);
  });

  it('reads the file as bytes (one character per byte) as it reads the decoded text: the same rows, values, lines and problems', async () => {
    // Characters of two, three and four bytes in UTF-8, a BOM, and quoted values across lines and pieces.
    const values = ['Siân Ŵyn', '李雷', 'Amaka 🌍 Okafor', '"Dŵr, ""Tân"" a Gwynt"', 'café;bar\tbaz'];
    const lines = ['\ufeffemail,name,note'];
    for (let i = 0; i < 30_000; i++) lines.push(`head${i}@school${i % 50}.example.org,${values[i % values.length]},${i % 11 === 0 ? `"ŵ\r\n${i}, ""ŷ"""` : i}`);
    lines.push('not-an-address,Ŷ,x', 'head7@school7.example.org,Duplicate ŵ,x');
    const text = lines.join('\r\n') + '\r\n';
    const bytes = Buffer.from(text, 'utf8').toString('latin1');
    const cut = { ...cutRecipients(bytes), bytes: true };
    expect(cut.pieces.length).toBeGreaterThan(40);
    const here = await read(text);
    expect(await read(parseInWorker(cut))).toEqual(here);
    expect(await read(parsePieces(cut))).toEqual(here);
    expect(here.rows[3]!.fields['name']).toBe('Dŵr, "Tân" a Gwynt');
    expect(here.rows[11]!.fields['note']).toBe('ŵ\n11, "ŷ"');
    expect(here.rows.length).toBe(30_000);
    // after the header, 30,000 rows and the 2,728 line breaks inside every 11th note
    expect(here.summary.diagnostics.map((d) => d.line)).toEqual([32_730, 32_731]);
  });

  it('reports csv-parse\'s error at its line in the file, as parsing here does', async () => {
    // Pieces cut by hand, the second ending inside a quote, which cutRecipients never does.
    const pieces = { delimiter: ',', pieces: ['email,note\na@example.org,x\n', 'b@example.org,y\nc@example.org,"open\n'] };
    const there = await read(parseInWorker(pieces));
    expect(there.summary.diagnostics.map((d) => [d.line, d.message.slice(0, 34)])).toEqual([[4, 'the file cannot be read as CSV: Qu']]);
    expect(there).toEqual(await read(parsePieces(pieces)));
    expect(there.rows.map((r) => r.email)).toEqual(['a@example.org']);
  });

  it('ends the worker when the reader stops early (no email column)', async () => {
    const text = 'mail,name\n' + 'a@example.org,Ann\n'.repeat(40_000);
    const { summary } = await read(parseInWorker(cutRecipients(text)));
    expect(summary.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining('no "email" column')]);
  });
});
