import { CsvError, parse, type Options } from 'csv-parse/sync';
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
/**
 * About how much text csv-parse reads at a time: a few hundred rows. A piece's records live while
 * its rows are checked; pieces this small die young, where 256 KB ones (thousands of rows) outlived
 * the young generation and piled up as garbage in the old one: validate of 100,000 rows peaked
 * ~5 MB higher and ran ~0.1 s slower with them (BENCHMARKS.md).
 */
const PIECE = 32 * 1024;

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

/** The recipients text ready for csv-parse (cutRecipients). */
export interface CsvPieces {
  delimiter: string;
  /** Where a quoted value opens and never closes: the pieces end before that line. */
  unclosed?: { line: number; offset: number };
  /**
   * The text up to any unclosed quote, in pieces that csv-parse reads one after the other as it
   * would read the whole: cut at line feeds outside quoted values. Slices of the text, not copies;
   * each is passed through LINE_BREAKS just before it is parsed.
   */
  pieces: string[];
  /**
   * The pieces are UTF-8 bytes, one character per byte (Recipients.bytes in io/campaign.ts), each
   * decoded just before it is parsed. Quotes, line breaks and delimiters are one byte each in
   * UTF-8, never part of another character's bytes: such text cuts as the decoded text would.
   */
  bytes?: boolean;
}

/**
 * What csv-parse is given instead of CRLF and a lone CR: LF. csv-parse counts the CR and the LF of
 * a CRLF inside a quoted value as two lines, which would push later rows' line numbers down.
 */
export const LINE_BREAKS = { pattern: /\r\n?/g, replacement: '\n' } as const;

/** The same, parsed: each piece's records in order, in this thread or another (csv-worker.ts). */
export interface CsvRecords {
  delimiter: string;
  unclosed?: { line: number; offset: number };
  /** csv-parse's error is thrown as a CsvError whose `lines` counts from its piece's first line. */
  pieces: Iterable<string[][]> | AsyncIterable<string[][]>;
}

export function cutRecipients(text: string): CsvPieces {
  const delimiter = detectDelimiter(text);
  const unclosed = findUnclosedQuote(text, delimiter);
  const readable = unclosed ? text.slice(0, unclosed.offset) : text;
  const starts = [0, ...cutPoints(readable, delimiter, Math.ceil(readable.length / PIECE))];
  const pieces = starts.map((start, i) => readable.slice(start, starts[i + 1]));
  return unclosed ? { delimiter, unclosed, pieces } : { delimiter, pieces };
}

/**
 * csv-parse's settings for piece `index`. Blank lines come through as records (parseRecipients
 * skips them), so that counting lines gives each record's line without per-record info objects.
 */
export function csvOptions(delimiter: string, index: number): Options {
  return { delimiter, relax_column_count: true, relax_quotes: true, bom: index === 0 };
}

/** Parse the pieces here, one at a time, as they are read. */
export function parsePieces({ pieces, bytes, ...layout }: CsvPieces): CsvRecords {
  return { ...layout, pieces: parseEach(pieces, layout.delimiter, bytes ?? false) };
}

/** The text csv-parse is given for a piece: decoded if it is bytes (CsvPieces), line breaks as LINE_BREAKS. */
export function pieceText(piece: string, bytes: boolean): string {
  return (bytes ? Buffer.from(piece, 'latin1').toString('utf8') : piece).replace(LINE_BREAKS.pattern, LINE_BREAKS.replacement);
}

/**
 * The records of `text`, parsed once and kept: each call gives a fresh CsvRecords over the same
 * parsed pieces (read-only). For `preview --watch`, which reads the same list every round; it holds
 * every record, where parsePieces holds a piece at a time.
 */
export function keptRecords(text: string): () => CsvRecords {
  const { pieces, ...layout } = cutRecipients(text);
  const parsed: string[][][] = [];
  let failure: Error | undefined;
  function* each(): Generator<string[][]> {
    for (let i = 0; i < pieces.length; i++) {
      if (i === parsed.length) {
        // A piece that failed fails again, at the same place, every round.
        if (failure !== undefined) throw failure;
        try {
          parsed.push(parse(pieceText(pieces[i]!, false), csvOptions(layout.delimiter, i)));
        } catch (err) {
          failure = err instanceof Error ? err : new Error(String(err));
          throw failure;
        }
      }
      yield parsed[i]!;
    }
  }
  return () => ({ ...layout, pieces: each() });
}

function* parseEach(pieces: string[], delimiter: string, bytes: boolean): Generator<string[][]> {
  for (const [i, piece] of pieces.entries()) yield parse(pieceText(piece, bytes), csvOptions(delimiter, i));
}

/**
 * Read the recipients through csv-parse a piece at a time (synchronously: a stream's per-record
 * hand-offs cost more than the parse's own row checks), calling onRow for every valid row in file
 * order. Only a few pieces' records and the keys seen so far are held (for duplicates), never all
 * the rows, so 100,000 rows fit in little memory. Every problem is collected; only an unclosed
 * quote ends the parse early. `input` is the file's text, or its records (parsePieces).
 */
export async function parseRecipients(
  input: string | CsvRecords,
  options: RecipientOptions,
  onRow: (row: RecipientRow) => void | Promise<void> = () => {},
): Promise<RecipientSummary> {
  const { file } = options;
  const diagnostics: Diagnostic[] = [];
  const { delimiter, unclosed, pieces } = typeof input === 'string' ? parsePieces(cutRecipients(input)) : input;
  const seen = new Map<string, number>();
  let header: string[] | undefined;
  let emailIndex = -1;
  let rows = 0;
  let valid = 0;

  if (unclosed) {
    diagnostics.push(error(file, unclosed.line, 'a quoted value starts here but its closing quote is missing', 'add the closing " (a quote inside a quoted value is written ""); rows from here on were not read'));
  }
  let nextLine = 1;
  try {
    reading: for await (const records of pieces) {
      for (const record of records) {
        const line = nextLine;
        nextLine += 1 + lineBreaksIn(record);
        if (record.length === 1 && record[0] === '') continue; // an empty line
        if (!header) {
          header = record.map((h) => h.trim());
          diagnostics.push(...checkHeader(header, options));
          emailIndex = columnIndex(header, options.emailColumn);
          if (emailIndex === -1) break reading;
          continue;
        }
        if (record.every((v) => v.trim() === '')) continue;
        rows++;
        const row = checkRow(record, line, header, emailIndex, seen, options, diagnostics);
        if (row) {
          valid++;
          const handled = onRow(row);
          if (handled) await handled;
        }
      }
    }
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    // nextLine is the first line of the piece that failed.
    diagnostics.push(csvErrorDiagnostic(err, file, nextLine));
  }
  if (!header && !unclosed) diagnostics.push(error(file, 1, 'the file is empty', `add a header line with an "${options.emailColumn}" column, then one row per recipient`));
  else if (emailIndex !== -1 && rows === 0 && !diagnostics.some((d) => d.severity === 'error')) {
    diagnostics.push(error(file, 2, 'no recipients: the file has a header but no rows'));
  }
  return { header: header ?? [], delimiter, rows, valid, diagnostics };
}

/** A record spans more than one line only through line breaks inside quoted values (CRLF is LF by now). */
function lineBreaksIn(record: readonly string[]): number {
  let breaks = 0;
  for (const value of record) {
    for (let at = value.indexOf('\n'); at !== -1; at = value.indexOf('\n', at + 1)) breaks++;
  }
  return breaks;
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

/** csv-parse's error in the piece that starts at `firstLine`, at its line in the file. */
function csvErrorDiagnostic(err: CsvError, file: string, firstLine: number): Diagnostic {
  const lines = (err as CsvError & { lines?: number }).lines;
  return error(file, lines === undefined ? undefined : lines + firstLine - 1, `the file cannot be read as CSV: ${err.message}`);
}

/**
 * csv-parse reports an unclosed quote at the end of the file and, failing, drops the rows it had
 * parsed. So find it first: where the quote opened, and where the readable part of the file ends.
 */
export function findUnclosedQuote(text: string, delimiter: string): { line: number; offset: number } | undefined {
  return endsInQuote(text, delimiter) ? whereQuoteOpened(text, delimiter) : undefined;
}

/** Whether the text ends inside a quoted value: the same reading as whereQuoteOpened, without counting lines. */
function endsInQuote(text: string, delimiter: string): boolean {
  let unclosed = false;
  forEachQuotedValue(text, delimiter, (_open, close) => {
    unclosed = close === -1;
  });
  return unclosed;
}

/**
 * Calls visit(open, close) with the offsets of each quoted value's opening and closing quotes,
 * in order, jumping from quote to quote (a file of 100,000 rows has a few quotes per row). A
 * quote opens a value only at the start of a field; one elsewhere is kept as it is. close is -1
 * for a value that never closes. visit returns true to stop.
 */
function forEachQuotedValue(text: string, delimiter: string, visit: (open: number, close: number) => boolean | void): void {
  for (let at = text.indexOf('"'); at !== -1; ) {
    const before = at === 0 ? '\n' : text[at - 1];
    if (before !== delimiter && before !== '\n' && before !== '\r') {
      at = text.indexOf('"', at + 1);
      continue;
    }
    // A quoted value: find its closing quote, skipping doubled ones.
    let close = text.indexOf('"', at + 1);
    while (close !== -1 && text[close + 1] === '"') close = text.indexOf('"', close + 2);
    if (visit(at, close) === true || close === -1) return;
    at = text.indexOf('"', close + 1);
  }
}

/**
 * Offsets that cut the text into about `parts` equal pieces which csv-parse reads, one after the
 * other, as it reads the whole: each just after a line feed outside every quoted value. Fewer
 * where no such line feed follows a share's end (a file with lone CR line endings has none).
 */
export function cutPoints(text: string, delimiter: string, parts: number): number[] {
  const cuts: number[] = [];
  const target = (): number => Math.ceil((text.length * (cuts.length + 1)) / parts);
  let from = 0; // the first offset past the quoted values seen so far
  // Cuts before `limit`; true when there is nothing more to look for.
  const cutBefore = (limit: number): boolean => {
    while (cuts.length < parts - 1) {
      const lf = text.indexOf('\n', Math.max(target(), from));
      if (lf === -1 || lf + 1 >= text.length) return true;
      if (lf >= limit) return false;
      cuts.push(lf + 1);
    }
    return true;
  };
  let done = false;
  forEachQuotedValue(text, delimiter, (open, close) => {
    done = cutBefore(open);
    from = close === -1 ? text.length : close + 1;
    return done;
  });
  if (!done) cutBefore(text.length);
  return cuts;
}

function whereQuoteOpened(text: string, delimiter: string): { line: number; offset: number } | undefined {
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
