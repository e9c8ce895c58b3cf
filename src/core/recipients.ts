import { parse, CsvError } from 'csv-parse';
import { Readable } from 'node:stream';
import { checkAddress } from './address.js';
import { closest, error, type Diagnostic } from './diagnostics.js';

export interface RecipientRow {
  /** Line in the CSV file where the row starts (1-based, header is line 1). */
  line: number;
  /** Normalised address the message goes to. */
  email: string;
  /** Case-folded address: what duplicates, suppression and the manifest match on. */
  key: string;
  domain: string;
  /** Every column by its (trimmed) header name. */
  fields: Record<string, string>;
}

export interface RecipientOptions {
  file: string;
  emailColumn: string;
  /** Columns whose value goes into a message header (To name): a line break there is an error. */
  headerColumns?: string[];
  /** Columns that must not be blank on any row. */
  requiredColumns?: string[];
}

export interface RecipientSummary {
  header: string[];
  delimiter: string;
  rows: number;
  /** Rows that passed every check and were handed to onRow. */
  valid: number;
  diagnostics: Diagnostic[];
}

const DELIMITERS = [',', ';', '\t'] as const;
const CHUNK = 64 * 1024;

/** The delimiter used most often in the header line, outside quotes. */
export function detectDelimiter(text: string): string {
  const end = text.search(/\r?\n/);
  const header = end === -1 ? text : text.slice(0, end);
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best: string = ',';
  for (const d of DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

/**
 * Stream the recipients through csv-parse, calling onRow for every valid row in file order.
 * Only the keys seen so far are held (for duplicates), never the rows, so 100,000 rows fit in
 * little memory. Every problem is collected; only an unclosed quote ends the parse early.
 */
export async function parseRecipients(
  text: string,
  options: RecipientOptions,
  onRow: (row: RecipientRow) => void | Promise<void> = () => {},
): Promise<RecipientSummary> {
  const { file } = options;
  const diagnostics: Diagnostic[] = [];
  const delimiter = detectDelimiter(text);
  const seen = new Map<string, number>();
  let header: string[] | undefined;
  let emailIndex = -1;
  let rows = 0;
  let valid = 0;

  const unclosed = findUnclosedQuote(text, delimiter);
  if (unclosed) {
    diagnostics.push(error(file, unclosed.line, 'a quoted value starts here but its closing quote is missing', 'add the closing " (a quote inside a quoted value is written ""); rows from here on were not read'));
  }
  const readable = unclosed ? text.slice(0, unclosed.offset) : text;
  const parser = Readable.from(chunks(readable)).pipe(
    // No `info: true`: csv-parse builds a dozen-field object per record for it, and on Node 20
    // those survive into the old generation, ~300 bytes of garbage per row. The raw text gives
    // the line as well: it holds every character consumed, skipped empty lines included.
    parse({ delimiter, raw: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true }),
  );
  let consumedLines = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const line = startLine(consumedLines, item.raw);
      consumedLines += countNewlines(item.raw);
      if (!header) {
        header = item.record.map((h) => h.trim());
        diagnostics.push(...checkHeader(header, options));
        emailIndex = columnIndex(header, options.emailColumn);
        if (emailIndex === -1) break;
        continue;
      }
      if (item.record.every((v) => v.trim() === '')) continue;
      rows++;
      const row = checkRow(item.record, line, header, emailIndex, seen, options, diagnostics);
      if (row) {
        valid++;
        await onRow(row);
      }
    }
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    diagnostics.push(csvErrorDiagnostic(err, file));
  }
  if (!header && !unclosed) diagnostics.push(error(file, 1, 'the file is empty', `add a header line with an "${options.emailColumn}" column, then one row per recipient`));
  else if (emailIndex !== -1 && rows === 0 && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics.push(error(file, 2, 'no recipients: the file has a header but no rows'));
  }
  return { header: header ?? [], delimiter, rows, valid, diagnostics };
}

/**
 * The text in chunks, with CRLF and lone CR turned into LF: csv-parse counts the CR and the LF of a
 * CRLF inside a quoted value as two lines, which would push every later row's line number down.
 */
function* chunks(text: string): Generator<string> {
  for (let i = 0; i < text.length; ) {
    let end = Math.min(i + CHUNK, text.length);
    if (text.charCodeAt(end - 1) === 13) end++; // keep a CRLF in one chunk
    yield text.slice(i, end).replace(/\r\n?/g, '\n');
    i = end;
  }
}

/** The line a record starts on: after the lines already consumed and the empty lines skipped before it. */
function startLine(consumedLines: number, raw: string): number {
  let skipped = 0;
  while (raw.charCodeAt(skipped) === 10) skipped++;
  return consumedLines + skipped + 1;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/** The column by its exact name, else by the same name in another case ("Email" for "email"). */
export function columnIndex(header: readonly string[], name: string): number {
  const exact = header.indexOf(name);
  if (exact !== -1) return exact;
  const folded = header.map((h) => h.toLowerCase());
  const first = folded.indexOf(name.toLowerCase());
  return first !== -1 && folded.lastIndexOf(name.toLowerCase()) === first ? first : -1;
}

function checkHeader(header: string[], options: RecipientOptions): Diagnostic[] {
  const { file } = options;
  const out: Diagnostic[] = [];
  const firstAt = new Map<string, number>();
  header.forEach((name, i) => {
    if (name === '') {
      out.push(error(file, 1, `column ${i + 1} of the header has no name`, 'give every column a name, or delete the empty column'));
      return;
    }
    const earlier = firstAt.get(name.toLowerCase());
    if (earlier !== undefined) out.push(error(file, 1, `column "${name}" appears twice (columns ${earlier + 1} and ${i + 1})`, 'rename or remove one of them'));
    else firstAt.set(name.toLowerCase(), i);
  });
  if (columnIndex(header, options.emailColumn) === -1) {
    const guess = closest(options.emailColumn, header.filter((h) => h !== ''));
    out.push(
      error(
        file,
        1,
        `no "${options.emailColumn}" column: the header has ${header.map((h) => `"${h}"`).join(', ')}`,
        guess ? `rename "${guess}" to "${options.emailColumn}", or set "columns": {"email": "${guess}"} in bulletin.json` : `add a column named "${options.emailColumn}" holding each recipient's address`,
      ),
    );
  }
  for (const name of options.requiredColumns ?? []) {
    if (!header.includes(name)) out.push(error(file, 1, `no "${name}" column, which bulletin.json lists as required`));
  }
  return out;
}

function checkRow(
  record: string[],
  line: number,
  header: string[],
  emailIndex: number,
  seen: Map<string, number>,
  options: RecipientOptions,
  diagnostics: Diagnostic[],
): RecipientRow | undefined {
  const { file } = options;
  const before = diagnostics.length;
  if (record.length !== header.length) {
    const more = record.length > header.length;
    diagnostics.push(
      error(
        file,
        line,
        `this row has ${record.length} fields but the header has ${header.length}`,
        more ? 'a value containing a comma must be in double quotes: "Smith, Jane"' : 'add the missing values (leave them empty between the commas if unknown)',
      ),
    );
  }
  const rawEmail = record[emailIndex] ?? '';
  const address = checkAddress(rawEmail);
  if (!address.ok) {
    diagnostics.push(
      rawEmail.trim() === ''
        ? error(file, line, `no address in the "${options.emailColumn}" column`, 'fill it in, or delete the row')
        : error(file, line, `invalid address: ${address.reason}`),
    );
  } else {
    const earlier = seen.get(address.key);
    if (earlier !== undefined) {
      diagnostics.push(error(file, line, `${address.address} is a duplicate of line ${earlier} (addresses are compared ignoring case)`, 'remove one of the two rows so nobody gets the message twice'));
    } else seen.set(address.key, line);
  }
  const fields: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name !== '') fields[name] = (record[i] ?? '').trim();
  });
  for (const name of options.headerColumns ?? []) {
    if (/[\r\n]/.test(record[header.indexOf(name)] ?? '')) {
      diagnostics.push(error(file, line, `the "${name}" value contains a line break, and it goes into a message header`, 'remove the line break: a header value must be one line'));
    }
  }
  for (const name of options.requiredColumns ?? []) {
    if (header.includes(name) && (fields[name] ?? '') === '') diagnostics.push(error(file, line, `"${name}" is blank, and bulletin.json marks it required`));
  }
  if (diagnostics.length > before || !address.ok) return undefined;
  return { line, email: address.address, key: address.key, domain: address.domain, fields };
}

function csvErrorDiagnostic(err: CsvError, file: string): Diagnostic {
  const lines = (err as CsvError & { lines?: number }).lines;
  return error(file, lines, `the file cannot be read as CSV: ${err.message}`);
}

/**
 * csv-parse reports an unclosed quote at the end of the file and, failing, drops the rows it had
 * parsed. So find it first: where the quote opened, and where the readable part of the file ends.
 */
export function findUnclosedQuote(text: string, delimiter: string): { line: number; offset: number } | undefined {
  let line = 1;
  let inQuote = false;
  let atFieldStart = true;
  let opened = { line: 1, offset: 0 };
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    // A lone CR ends a line too (parseRecipients reads it as LF).
    const newline = ch === '\n' || (ch === '\r' && text[i + 1] !== '\n');
    if (inQuote) {
      if (ch === '"') {
        if (text[i + 1] === '"') i++;
        else inQuote = false;
      } else if (newline) line++;
      continue;
    }
    if (ch === '"' && atFieldStart) {
      inQuote = true;
      opened = { line, offset: lineStart };
    }
    atFieldStart = ch === delimiter || newline;
    if (newline) {
      line++;
      lineStart = i + 1;
    }
  }
  return inQuote ? opened : undefined;
}
