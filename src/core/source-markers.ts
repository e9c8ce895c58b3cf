import type { MappedSource, SourcePosition } from './mapped-source.js';
import { MUSTACHE } from './mjml-structure.js';

/**
 * A copy of the MJML source in which every element carries a marker MJML copies into its
 * HTML: `css-class="bulletin-src-N"` on MJML elements (MJML puts it on the element's outer
 * HTML), `data-bulletin-src="N"` on HTML tags written inside mj-text, mj-button, mj-raw…
 * A check on the HTML MJML makes of it finds the nearest marked ancestor of what it reports
 * and so names the template line (partials included). The marked HTML is only ever read by
 * checks; the message that is sent is compiled from the source as written.
 */
export interface MarkedSource {
  text: string;
  /** Marker N → the element it was put on. */
  origins: SourceOrigin[];
  /** The `<mjml>` tag, for what concerns the whole message (its language). */
  root?: SourcePosition;
}

export interface SourceOrigin {
  position: SourcePosition;
  /** Element name as written, lower case: `mj-image`, `p`, `a`… */
  tag: string;
  /** Attributes written on the element in the source, lower case (MJML adds defaults of its own). */
  attributes: ReadonlySet<string>;
}

export const MARKER_CLASS_PREFIX = 'bulletin-src-';
export const MARKER_ATTRIBUTE = 'data-bulletin-src';

/** MJML elements that take no css-class (MJML would reject it, or it has no HTML of its own). */
const NO_CSS_CLASS = new Set(['mjml', 'mj-raw', 'mj-include', 'mj-body']);

const TAG_NAME = /^<([a-zA-Z][a-zA-Z0-9-]*)/;

export function markSource(source: MappedSource): MarkedSource {
  const text = source.text;
  const origins: SourceOrigin[] = [];
  const out: string[] = [];
  let root: SourcePosition | undefined;
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '{' && text.startsWith('{{', i)) {
      i = mustacheEnd(text, i);
      continue;
    }
    if (ch !== '<') {
      i++;
      continue;
    }
    if (text.startsWith('<!--', i)) {
      const close = text.indexOf('-->', i);
      i = close < 0 ? text.length : close + 3;
      continue;
    }
    // The head holds settings, styles and the title: nothing there is shown as an element.
    if (text.startsWith('<mj-head', i)) {
      const close = text.indexOf('</mj-head>', i);
      i = close < 0 ? text.length : close;
      continue;
    }
    const name = TAG_NAME.exec(text.slice(i, i + 64))?.[1];
    if (name === undefined) {
      i++;
      continue;
    }
    const tag = readTag(text, i);
    const lower = name.toLowerCase();
    if (lower === 'mjml') root = source.locate(i);
    if (!NO_CSS_CLASS.has(lower)) {
      const index = origins.length;
      origins.push({ position: source.locate(i), tag: lower, attributes: new Set(tag.attributes.keys()) });
      const isMjml = lower.startsWith('mj-');
      const existingClass = isMjml ? tag.attributes.get('css-class') : undefined;
      if (existingClass !== undefined) {
        // MJML would take one of two css-class attributes: add ours to the author's.
        out.push(text.slice(copied, existingClass), `${MARKER_CLASS_PREFIX}${index} `);
        copied = existingClass;
      } else {
        const at = i + 1 + name.length;
        out.push(text.slice(copied, at), isMjml ? ` css-class="${MARKER_CLASS_PREFIX}${index}"` : ` ${MARKER_ATTRIBUTE}="${index}"`);
        copied = at;
      }
    }
    i = tag.end;
  }
  out.push(text.slice(copied));
  const marked: MarkedSource = { text: out.join(''), origins };
  if (root) marked.root = root;
  return marked;
}

/** A tag up to its `>`: attribute names → offset where the value's text starts (after its quote). */
function readTag(text: string, start: number): { end: number; attributes: Map<string, number> } {
  const attributes = new Map<string, number>();
  let i = start + 1;
  while (i < text.length && /[a-zA-Z0-9-]/.test(text[i]!)) i++;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '>') return { end: i + 1, attributes };
    if (ch === '{' && text.startsWith('{{', i)) {
      i = mustacheEnd(text, i);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:.-]*)(\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?/.exec(text.slice(i, i + 4096));
    if (m) {
      attributes.set(m[1]!.toLowerCase(), m[2] === undefined ? i + m[0].length : valueStart(text, i + m[1]!.length));
      i += m[0].length;
      continue;
    }
    i++;
  }
  return { end: text.length, attributes };
}

/** Offset of the first character of an attribute's value, given the offset right after its name. */
function valueStart(text: string, afterName: number): number {
  let i = afterName;
  while (/\s/.test(text[i] ?? '')) i++;
  if (text[i] === '=') i++;
  while (/\s/.test(text[i] ?? '')) i++;
  return text[i] === '"' || text[i] === "'" ? i + 1 : i;
}

function mustacheEnd(text: string, start: number): number {
  MUSTACHE.lastIndex = start;
  const m = MUSTACHE.exec(text);
  MUSTACHE.lastIndex = 0;
  return m && m.index === start ? start + m[0].length : start + 2;
}
