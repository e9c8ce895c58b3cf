import type { GalleryIndex, PackedColumn } from './gallery-versions.js';

/**
 * The gallery's index of every recipient as the page carries it (page format 2). The page holds
 * two JSON blocks: `gallery-data` with the first INDEX_HEAD recipients' index (enough for the
 * first screen of the list), and, for longer lists, `gallery-index` with every recipient's,
 * placed after the page script so the first rows are drawn before the browser has read it.
 * Small numbers (lines, versions, a column's value numbers) are one character each.
 * src/gallery-client/versions.ts decodes it (unpackIndex); keep the two in step.
 */
export interface PageIndex {
  /** Recipients in this index (seq 0 … count - 1). */
  count: number;
  email: string[];
  name?: PageColumn;
  /** CSV lines: `delta` when each is stored as its difference from the previous one. */
  line: PageNumbers;
  version: PageNumbers;
  columns: string[];
  values: PageColumn[];
  warnings: Array<[number, string[]]>;
}

/** Numbers as a JSON array, or as characters: number i is `chars.charCodeAt(i) - CHAR_BASE` (summed from the start when `delta`). */
export type PageNumbers = number[] | { chars: string; delta?: true };

export type PageColumn = string[] | { dict: string[]; refs: PageNumbers } | { sameAs: 'email' };

/** Recipients whose index goes into the page's first JSON block. */
export const INDEX_HEAD = 200;

/** '0': the characters of small numbers are printable ASCII, so JSON writes them as they are. */
export const CHAR_BASE = 48;
/** Below the UTF-16 surrogates, which JSON would escape. */
const CHAR_LIMIT = 0xd800 - CHAR_BASE;

/** Numbers as characters when every one fits, else as they are. */
export function packNumbers(values: ArrayLike<number>, from: number, to: number, delta = false): PageNumbers {
  const codes = new Array<number>(to - from);
  let previous = 0;
  for (let i = from; i < to; i++) {
    const value = values[i] ?? 0;
    const n = delta ? value - previous : value;
    previous = value;
    if (!(n >= 0 && n < CHAR_LIMIT && Number.isInteger(n))) return Array.from({ length: to - from }, (_, i) => values[from + i] ?? 0);
    codes[i - from] = n + CHAR_BASE;
  }
  const parts: string[] = [];
  for (let i = 0; i < codes.length; i += 8192) parts.push(String.fromCharCode(...codes.slice(i, i + 8192)));
  const chars = parts.join('');
  return delta ? { chars, delta: true } : { chars };
}

/** The list itself when it is whole (no copy of 100,000 values), else the part. */
function part<T>(list: T[], from: number, to: number): T[] {
  return from === 0 && to === list.length ? list : list.slice(from, to);
}

function pageColumn(column: PackedColumn, from: number, to: number): PageColumn {
  if (Array.isArray(column)) return part(column, from, to);
  if ('sameAs' in column) return column;
  return { dict: column.dict, refs: packNumbers(column.refs, from, to) };
}

/** Recipients from … to of the index, in the page's form. */
export function pageIndex(index: GalleryIndex, from = 0, to = index.email.length): PageIndex {
  const out: PageIndex = {
    count: to - from,
    email: part(index.email, from, to),
    line: packNumbers(index.line, from, to, true),
    version: packNumbers(index.version, from, to),
    columns: index.columns,
    values: index.values.map((c) => pageColumn(c, from, to)),
    warnings: from === 0 && to === index.email.length ? index.warnings : index.warnings.filter(([seq]) => seq >= from && seq < to).map(([seq, w]) => [seq - from, w]),
  };
  if (index.name) out.name = pageColumn(index.name, from, to);
  return out;
}

/** Values per JSON piece: each piece is well under a few hundred kB. */
const PIECE = 5_000;

/**
 * The page index as JSON, in pieces (so 100,000 recipients never make one string of tens of
 * megabytes): long string lists are written a slice at a time. Joined, the pieces are
 * JSON.stringify(index).
 */
export function* pageIndexJson(index: PageIndex): Generator<string> {
  const entries = Object.entries(index) as Array<[string, unknown]>;
  for (const [i, [key, value]] of entries.entries()) {
    yield `${i === 0 ? '{' : ','}${JSON.stringify(key)}:`;
    if (key === 'values') {
      yield '[';
      for (const [c, column] of index.values.entries()) {
        if (c > 0) yield ',';
        yield* Array.isArray(column) ? stringList(column) : [JSON.stringify(column)];
      }
      yield ']';
    } else if (key === 'email' || (key === 'name' && Array.isArray(value))) {
      yield* stringList(value as string[]);
    } else {
      yield JSON.stringify(value);
    }
  }
  yield entries.length === 0 ? '{}' : '}';
}

function* stringList(list: readonly string[]): Generator<string> {
  if (list.length === 0) {
    yield '[]';
    return;
  }
  for (let i = 0; i < list.length; i += PIECE) {
    const json = JSON.stringify(list.slice(i, i + PIECE));
    // Each slice's JSON without its brackets, joined by commas into one array.
    yield `${i === 0 ? '[' : ','}${json.slice(1, -1)}${i + PIECE >= list.length ? ']' : ''}`;
  }
}
