// The gallery's "Versions" view (rendered in the page by core/gallery-versions.ts) and what
// the page shows for a recipient whose files were not written: their version's example with
// their own values beside it. A classic script joined before gallery.ts: no imports.

interface VersionSummary {
  number: number;
  count: number;
  language: string;
  /** The example recipient's seq. */
  example: number;
}

/** core/gallery-index.ts PageIndex: every recipient, column by column, as the page carries it. */
interface PageIndex {
  count: number;
  email: string[];
  name?: PageColumn;
  line: PageNumbers;
  version: PageNumbers;
  columns: string[];
  values: PageColumn[];
  warnings: Array<[number, string[]]>;
}
type PageNumbers = number[] | { chars: string; delta?: true };
type PageColumn = string[] | { dict: string[]; refs: PageNumbers } | { sameAs: 'email' };

/** The index decoded: what the page reads, by seq. */
interface RecipientIndex {
  email: string[];
  name?: PackedColumn;
  line: ArrayLike<number>;
  version: ArrayLike<number>;
  columns: string[];
  values: PackedColumn[];
  warnings: Array<[number, string[]]>;
}

/** A column by seq, or indexes into its distinct values. */
type PackedColumn = string[] | { dict: string[]; refs: ArrayLike<number> };

/** core/gallery-index.ts CHAR_BASE. */
const CHAR_BASE = 48;

function unpackNumbers(packed: PageNumbers): ArrayLike<number> {
  if (Array.isArray(packed)) return packed;
  const chars = packed.chars;
  const out = new Int32Array(chars.length);
  let sum = 0;
  for (let i = 0; i < chars.length; i++) {
    const n = chars.charCodeAt(i) - CHAR_BASE;
    sum = packed.delta ? sum + n : n;
    out[i] = sum;
  }
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- gallery.ts calls it: the files are one classic script
function unpackIndex(page: PageIndex): RecipientIndex {
  function column(c: PageColumn): PackedColumn {
    if (Array.isArray(c)) return c;
    if ('sameAs' in c) return page.email;
    return { dict: c.dict, refs: unpackNumbers(c.refs) };
  }
  const out: RecipientIndex = {
    email: page.email,
    line: unpackNumbers(page.line),
    version: unpackNumbers(page.version),
    columns: page.columns,
    values: page.values.map(column),
    warnings: page.warnings,
  };
  if (page.name) out.name = column(page.name);
  return out;
}

function valueAt(column: PackedColumn | undefined, seq: number): string {
  if (!column) return '';
  return (Array.isArray(column) ? column[seq] : column.dict[column.refs[seq] ?? -1]) ?? '';
}

interface VersionHandlers {
  selectSeq(seq: number): void;
  /** 0: every version. */
  filterVersion(version: number): void;
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- gallery.ts calls it: the files are one classic script
function wireVersions(handlers: VersionHandlers): void {
  const section = document.getElementById('versions');
  if (!section) return;
  section.addEventListener('click', function (event) {
    const target = event.target instanceof Element ? event.target.closest('button') : null;
    if (!target) return;
    const seq = target.getAttribute('data-select');
    const version = target.getAttribute('data-filter-version');
    if (seq !== null) {
      handlers.selectSeq(Number(seq));
      document.getElementById('message')?.scrollIntoView({ block: 'start' });
    } else if (version !== null) {
      handlers.filterVersion(Number(version));
      document.getElementById('recipient-list')?.scrollIntoView({ block: 'nearest' });
    }
  });
}

function recipientLabel(index: RecipientIndex, seq: number): string {
  const name = valueAt(index.name, seq);
  const email = index.email[seq] ?? '';
  return name ? name + ' <' + email + '>' : email;
}

/**
 * Say plainly which version an unwritten recipient gets, and list their own values beside the
 * example shown. `panel` is emptied and filled with textContent only.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- gallery.ts calls it: the files are one classic script
function showOwnValues(panel: HTMLElement, index: RecipientIndex, seq: number, version: VersionSummary | undefined, exampleSeq: number): void {
  panel.replaceChildren();
  const heading = document.createElement('p');
  heading.className = 'own-values-title';
  const who = recipientLabel(index, seq);
  heading.textContent = 'Files were not written for ' + who + ' (CSV line ' + (index.line[seq] ?? '?') + ').';
  panel.appendChild(heading);
  const explain = document.createElement('p');
  explain.textContent = version
    ? 'They get version ' + version.number + ' (' + version.language + '), like the ' + version.count.toLocaleString('en-GB') +
      ' recipients of that version. Shown below is its example, the message for ' + recipientLabel(index, exampleSeq) +
      ' (line ' + (index.line[exampleSeq] ?? '?') + '): the same blocks, partials and attachments; only the values differ. Theirs are:'
    : 'Their version is not known.';
  panel.appendChild(explain);
  if (index.columns.length === 0) return;
  const table = document.createElement('table');
  table.className = 'own-values-table';
  const head = table.createTHead().insertRow();
  ['Column', 'Their value', 'In the example'].forEach(function (label) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = label;
    head.appendChild(th);
  });
  const body = table.createTBody();
  index.columns.forEach(function (column, c) {
    const values = index.values[c];
    const row = body.insertRow();
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = column;
    row.appendChild(name);
    const example = valueAt(values, exampleSeq);
    [valueAt(values, seq), example].forEach(function (value, i) {
      const cell = row.insertCell();
      if (value === '') {
        cell.textContent = '(blank)';
        cell.className = 'blank';
      } else {
        cell.textContent = value;
      }
      if (i === 0 && value !== example) cell.classList.add('differs');
    });
  });
  panel.appendChild(table);
}
