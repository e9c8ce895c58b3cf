import { escapeHtml } from './gallery.js';
import type { MessageVersion, VersionBlock, VersionRecipient } from './versions.js';

/** A version as the gallery shows it (its recipients are in the index). */
export type GalleryVersion = Omit<MessageVersion, 'members' | 'lines' | 'key'> & { digest: string };

/**
 * Every previewed recipient, column by column (one array per field, not one object per
 * recipient): small to carry and quick to search for 100,000 recipients. `seq` is the position.
 */
export interface GalleryIndex {
  email: string[];
  /** The name column (bulletin.json columns.name), when there is one. */
  name?: PackedColumn;
  line: number[];
  /** Version number per recipient. */
  version: number[];
  /** The columns the template reads, shown beside an unwritten recipient's example. */
  columns: string[];
  /** values[c] holds, by seq, the value of columns[c] the recipient's message is rendered with. */
  values: PackedColumn[];
  /** [seq, warnings] for the few recipients whose message has warnings. */
  warnings: Array<[number, string[]]>;
}

/**
 * A column's values by seq: as they are, or (when many repeat) as indexes into its distinct
 * values, or (the `email` variable) the index's own `email`, not stored twice.
 */
export type PackedColumn = string[] | { dict: string[]; refs: ArrayLike<number> } | { sameAs: 'email' };

/** Builds a PackedColumn value by value, giving up the dictionary once most values are distinct. */
export class ColumnPacker {
  private dict: Map<string, number> | undefined = new Map();
  private readonly distinct: string[] = [];
  /** Two bytes a value while there are few distinct values (100,000 recipients: 200 kB a column, not 800). */
  private refs: Uint16Array | Uint32Array = new Uint16Array(1024);
  private count = 0;
  private plain: string[] | undefined;

  push(value: string): void {
    if (this.plain) {
      this.plain.push(value);
      return;
    }
    const dict = this.dict!;
    let ref = dict.get(value);
    if (ref === undefined) {
      ref = this.distinct.length;
      this.distinct.push(value);
      dict.set(value, ref);
      if (this.distinct.length > 1000 && this.distinct.length * 2 > this.count) {
        this.plain = Array.from(this.refs.subarray(0, this.count), (r) => this.distinct[r]!);
        this.plain.push(value);
        this.dict = undefined;
        this.refs = new Uint16Array(0);
        this.distinct.length = 0;
        return;
      }
    }
    const widen = ref > 0xffff && !(this.refs instanceof Uint32Array);
    if (this.count === this.refs.length || widen) {
      const grown = widen || this.refs instanceof Uint32Array ? new Uint32Array(this.refs.length * 2) : new Uint16Array(this.refs.length * 2);
      grown.set(this.refs);
      this.refs = grown;
    }
    this.refs[this.count++] = ref;
  }

  packed(): PackedColumn {
    return this.plain ?? { dict: this.distinct, refs: this.refs.subarray(0, this.count) };
  }
}

export function valueAt(index: GalleryIndex | undefined, column: PackedColumn | undefined, seq: number): string {
  if (!column) return '';
  if (Array.isArray(column)) return column[seq] ?? '';
  if ('sameAs' in column) return index?.email[seq] ?? '';
  return column.dict[column.refs[seq] ?? -1] ?? '';
}

/** The "Versions" view: each distinct version once, who gets it, its example and extremes. */
export function renderVersions(versions: readonly GalleryVersion[], index: GalleryIndex | undefined, recipients: number): string {
  if (versions.length === 0) return '';
  const who = (r: VersionRecipient): string => {
    const name = valueAt(index, index?.name, r.seq);
    return `${escapeHtml(name ? `${name} <${r.email}>` : r.email)}, line ${r.line}`;
  };
  const items = versions.map((v) => {
    const head = `<div class="version-head">
        <h3>Version ${v.number}</h3>
        <span class="version-count" data-testid="version-count" data-count="${v.count}">${plural(v.count, 'recipient')}</span>
        <span class="version-share">${share(v.count, recipients)}</span>
        <span class="badge badge-lang" title="Language">${escapeHtml(v.language)}</span>
      </div>`;
    const differences =
      v.number === 1
        ? `<p class="version-diff-none">The most common version: the others are described against it.</p>`
        : `<ul class="version-diff" aria-label="Compared with version 1">${v.differences
            .map((d) => `<li><code>${escapeHtml(d.what)}</code>: <strong class="outcome outcome-${cls(d.here)}">${escapeHtml(d.here)}</strong> <span class="muted">(version 1: ${escapeHtml(d.common)})</span></li>`)
            .join('')}</ul>`;
    const blocks = v.blocks.length === 0 ? '<p class="muted">No conditional blocks.</p>' : `<ul class="version-blocks">${v.blocks.map((b) => renderBlock(b)).join('')}</ul>`;
    const details = `<details class="version-details"><summary>Blocks, partials and attachments</summary>
        ${blocks}
        <p><span class="muted">Partials:</span> ${escapeHtml(v.partials.join(', ') || 'none')} &middot; <span class="muted">Attachments:</span> ${escapeHtml(v.attachments.join(', ') || 'none')} &middot; <span class="muted">Digest:</span> <code>${escapeHtml(v.digest.slice(0, 12))}</code></p>
      </details>`;
    const extremes = v.extremes.map(
      (e) =>
        `<li><button type="button" class="linkish" data-select="${e.recipient.seq}">${
          e.kind === 'longest'
            ? `Longest <code>${escapeHtml(e.column)}</code> (${plural(e.length ?? 0, 'character')})`
            : `<code>${escapeHtml(e.column)}</code> blank (${plural(e.count ?? 0, 'recipient')})`
        }: ${who(e.recipient)}</button></li>`,
    );
    return `<li class="version" data-testid="version" data-version="${v.number}">
      ${head}
      ${differences}
      <div class="version-actions">
        <button type="button" class="button-link" data-select="${v.example.seq}" data-testid="version-example">Read the example: ${who(v.example)}</button>
        <button type="button" class="linkish" data-filter-version="${v.number}">List its ${plural(v.count, 'recipient')}</button>
      </div>
      ${extremes.length === 0 ? '' : `<div class="extremes"><p class="muted">Extremes, where layout breaks first:</p><ul>${extremes.join('')}</ul></div>`}
      ${details}
    </li>`;
  });
  return `<section id="versions" class="versions" aria-labelledby="versions-title">
  <div class="versions-title-row">
    <h2 id="versions-title">${versions.length === 1 ? 'One version of this message' : `${versions.length} versions of this message`}</h2>
    <p class="muted">Recipients whose messages differ only in their values share a version. Read each version's example once, then its extremes.</p>
  </div>
  <ol class="version-list">${items.join('\n')}</ol>
</section>`;
}

function renderBlock(b: VersionBlock): string {
  const where = `${b.file}:${b.line}${b.part === 'message' ? '' : `, ${b.part}`}`;
  return `<li><code>${escapeHtml(b.opening)}</code> <span class="muted">${escapeHtml(where)}</span> <strong class="outcome outcome-${cls(b.outcome)}">${escapeHtml(b.outcome)}</strong></li>`;
}

function cls(outcome: string): string {
  return outcome.replace(/[^a-z]+/g, '-');
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-GB')} ${word}${n === 1 ? '' : 's'}`;
}

function share(n: number, of: number): string {
  if (of === 0) return '';
  const pct = (100 * n) / of;
  return pct < 1 ? '&lt;1%' : `${Math.round(pct)}%`;
}
