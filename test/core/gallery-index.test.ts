import { describe, expect, it } from 'vitest';
import { galleryHtmlChunks, HEAD_ENTRIES, renderGalleryHtml, type GalleryData, type GalleryEntry } from '../../src/core/gallery.js';
import { CHAR_BASE, INDEX_HEAD, packNumbers, pageIndex, pageIndexJson, type PageColumn, type PageIndex, type PageNumbers } from '../../src/core/gallery-index.js';
import { ColumnPacker, valueAt, type GalleryIndex } from '../../src/core/gallery-versions.js';

/** What the page script does with PageNumbers (src/gallery-client/versions.ts unpackNumbers). */
function unpack(packed: PageNumbers): number[] {
  if (Array.isArray(packed)) return packed;
  let sum = 0;
  return Array.from(packed.chars, (c) => (sum = (packed.delta ? sum : 0) + c.charCodeAt(0) - CHAR_BASE));
}

function columnValue(page: PageIndex, column: PageColumn | undefined, seq: number): string {
  if (!column) return '';
  if (Array.isArray(column)) return column[seq] ?? '';
  if ('sameAs' in column) return page.email[seq] ?? '';
  return column.dict[unpack(column.refs)[seq] ?? -1] ?? '';
}

const AREAS = ['Kestlebury', 'Marrowford', 'Eastfield'];

/** n fictional recipients: a repeated area, a distinct school, a long gap in the lines at 150. */
function index(n: number): GalleryIndex {
  const area = new ColumnPacker();
  const school = new ColumnPacker();
  const name = new ColumnPacker();
  const out: GalleryIndex = { email: [], line: [], version: [], columns: ['area', 'school', 'email'], values: [], warnings: [] };
  for (let i = 0; i < n; i++) {
    out.email.push(`head${i}@school${i}.example.org`);
    out.line.push(i + 2 + (i >= 150 ? 70_000 : 0));
    out.version.push(1 + (i % 3));
    area.push(AREAS[i % 3]!);
    school.push(`Marrowford Academy No. ${i}`);
    name.push(i === 7 ? '</script><script>alert(1)</script>' : `Head Teacher ${i % 40}`);
  }
  out.values = [area.packed(), school.packed(), { sameAs: 'email' }];
  out.name = name.packed();
  out.warnings = [[4, ['the message is larger than 102 kB']], [n - 1, ['a leftover {{ in the text']]];
  return out;
}

interface Block {
  index: PageIndex | null;
  recipients: number;
  entries: Array<{ email: string; headers: number[] }>;
  headerPool: Array<[string, string]>;
}

function blocks(html: string): { data: Block; rest?: Block; index?: PageIndex; scriptAt: number; indexAt: number } {
  const data = /<script type="application\/json" id="gallery-data">([\s\S]*?)<\/script>/.exec(html);
  const whole = /<script type="application\/json" id="gallery-index">([\s\S]*?)<\/script>/.exec(html);
  const rest = whole ? (JSON.parse(whole[1]!) as Block) : undefined;
  return {
    data: JSON.parse(data![1]!) as Block,
    ...(rest ? { rest, index: rest.index! } : {}),
    scriptAt: html.indexOf('<script>'),
    indexAt: whole?.index ?? -1,
  };
}

/** Written entries: each has its own To and Message-ID, and shares From. */
function entries(n: number): GalleryEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    email: `head${i}@school${i}.example.org`,
    line: i + 2,
    subject: 'A message to headteachers',
    headers: [
      ['From', 'Hartmoor Community Safety <community@example.org>'],
      ['To', `head${i}@school${i}.example.org`],
      ['Message-ID', `<${i}@preview.example.org>`],
    ],
    warnings: [],
    seq: i,
  }));
}

function page(n: number, written = 0): GalleryData {
  return {
    campaign: 'Statement to headteachers',
    generatedAt: '2026-12-02T10:00:00.000Z',
    counts: { recipients: n, written: 0, warnings: 0, errors: 0, suppressed: 0 },
    diagnostics: [],
    approval: { state: 'none', command: 'bulletin approve --by "Your Name"' },
    entries: entries(written),
    index: index(n),
  };
}

describe('the page index of every recipient', () => {
  it('packs small numbers as characters, and keeps numbers that do not fit as they are', () => {
    const lines = [2, 3, 4, 9, 10];
    const packed = packNumbers(lines, 0, lines.length, true);
    expect(packed).toEqual({ chars: expect.any(String) as string, delta: true });
    expect(unpack(packed)).toEqual(lines);
    expect(unpack(packNumbers([5, 1, 2], 0, 3))).toEqual([5, 1, 2]);
    expect(unpack(packNumbers([10, 20, 30], 1, 3))).toEqual([20, 30]);
    // Lines going back (not file order) or too far apart to be one character: a plain array.
    expect(packNumbers([9, 3], 0, 2, true)).toEqual([9, 3]);
    expect(packNumbers([1, 100_000], 0, 2)).toEqual([1, 100_000]);
  });

  it('gives every recipient their values, version and line, the email variable from the address', () => {
    const full = index(1_000);
    const p = pageIndex(full);
    expect(p.count).toBe(1_000);
    const lines = unpack(p.line);
    for (const seq of [0, 149, 150, 777, 999]) {
      expect(lines[seq]).toBe(full.line[seq]);
      expect(unpack(p.version)[seq]).toBe(full.version[seq]);
      expect(p.columns.map((_, c) => columnValue(p, p.values[c], seq))).toEqual(full.columns.map((_, c) => valueAt(full, full.values[c], seq)));
      expect(columnValue(p, p.name, seq)).toBe(valueAt(full, full.name, seq));
    }
    expect(columnValue(p, p.values[2], 321)).toBe('head321@school321.example.org');
    expect(columnValue(p, p.values[1], 321)).toBe('Marrowford Academy No. 321');
  });

  it('cuts a part out with its own seq numbers and warnings', () => {
    const p = pageIndex(index(1_000), 0, INDEX_HEAD);
    expect(p.count).toBe(INDEX_HEAD);
    expect(p.email).toHaveLength(INDEX_HEAD);
    expect(unpack(p.line)).toHaveLength(INDEX_HEAD);
    expect(p.warnings).toEqual([[4, ['the message is larger than 102 kB']]]);
  });

  it('writes the same JSON in pieces as in one go, no piece holding the whole', () => {
    const p = pageIndex(index(12_000));
    const pieces = [...pageIndexJson(p)];
    expect(pieces.join('')).toBe(JSON.stringify(p));
    const whole = pieces.join('').length;
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(whole / 4);
  });
});

describe('the gallery page of a long list', () => {
  it('carries the first rows in its data block and every recipient in a block after the page script', () => {
    const html = renderGalleryHtml(page(1_000, 300));
    const { data, rest, index: whole, scriptAt, indexAt } = blocks(html);
    expect(data.recipients).toBe(1_000);
    // The first screen's entries, with the headers they use; every entry comes after.
    expect(data.entries).toHaveLength(HEAD_ENTRIES);
    expect(data.headerPool).toHaveLength(1 + 2 * HEAD_ENTRIES);
    expect(rest?.entries).toHaveLength(300);
    expect(rest?.headerPool).toHaveLength(1 + 2 * 300);
    expect(rest?.headerPool.slice(0, data.headerPool.length)).toEqual(data.headerPool);
    const last = rest!.entries[299]!;
    expect(last.headers.map((h) => rest!.headerPool[h]![1])).toContain('<299@preview.example.org>');
    expect(data.index?.count).toBe(INDEX_HEAD);
    expect(whole?.count).toBe(1_000);
    expect(whole?.email[999]).toBe('head999@school999.example.org');
    // Read after the script has drawn the first rows.
    expect(indexAt).toBeGreaterThan(scriptAt);
    // A value cannot end the block: it is JSON-escaped and found again as written.
    expect(html).not.toContain('</script><script>alert(1)');
    expect(columnValue(whole!, whole!.name, 7)).toBe('</script><script>alert(1)</script>');
  });

  it('has no second block when the list fits in the first', () => {
    const { data, index: whole } = blocks(renderGalleryHtml(page(INDEX_HEAD, 120)));
    expect(data.index?.count).toBe(INDEX_HEAD);
    expect(data.entries).toHaveLength(120);
    expect(whole).toBeUndefined();
  });

  it('is written in pieces that join to the page', () => {
    const data = page(3_000);
    const pieces = [...galleryHtmlChunks(data)];
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('')).toBe(renderGalleryHtml(data));
  });
});

describe('ColumnPacker', () => {
  it('stores repeated values once and falls back to the values themselves when most are distinct', () => {
    const few = new ColumnPacker();
    const many = new ColumnPacker();
    for (let i = 0; i < 5_000; i++) {
      few.push(AREAS[i % 3]!);
      many.push(`value ${i}`);
    }
    const packed = few.packed();
    expect(!Array.isArray(packed) && 'dict' in packed && packed.dict).toEqual(AREAS);
    expect(valueAt(undefined, packed, 4_001)).toBe(AREAS[4_001 % 3]);
    expect(Array.isArray(many.packed())).toBe(true);
    expect(valueAt(undefined, many.packed(), 4_321)).toBe('value 4321');
  });
});
