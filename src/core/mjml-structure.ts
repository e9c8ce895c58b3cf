import { error, type Diagnostic } from './diagnostics.js';
import { MappedSource, type Edit } from './mapped-source.js';

/**
 * Where Handlebars may stand in an MJML document. MJML parses the document as XML and
 * rebuilds every element, so a `{{…}}` survives only where MJML copies text through:
 *
 * - content of elements MJML does not parse further (mj-text, mj-button, mj-table, mj-raw…);
 * - free-text attribute values (href, src, alt, title…);
 * - between elements, only block tags ({{#if}}, {{else}}, {{/if}}, {{#each}}…), which we wrap
 *   in <mj-raw> so MJML keeps them (it silently drops them otherwise).
 */

/** Elements whose content MJML copies as HTML: Handlebars inside is safe. */
const CONTENT_ELEMENTS = new Set([
  'mj-text', 'mj-button', 'mj-table', 'mj-raw', 'mj-preview', 'mj-title', 'mj-style',
  'mj-social-element', 'mj-navbar-link', 'mj-accordion-text', 'mj-accordion-title', 'mj-carousel-image', 'mj-breakpoint',
]);

/** Attributes MJML copies verbatim; the others are validated or recomputed (colours, sizes…). */
export const FREE_TEXT_ATTRIBUTES = new Set(['href', 'src', 'alt', 'title', 'name', 'rel', 'target', 'css-class', 'background-url', 'srcset']);

export type TokenContext = 'content' | 'attribute' | 'between' | 'comment';

/** One `{{…}}` of the MJML source, and where it stands. */
export interface TemplateToken {
  text: string;
  start: number;
  context: TokenContext;
  /** The MJML element around it (or the one whose tag holds the attribute). */
  element?: string;
  attribute?: string;
  /** Already reported as unsupported; the survival guard skips it. */
  reported?: boolean;
}

export interface StructureScan {
  tokens: TemplateToken[];
  /** Wrap block tags standing between elements in <mj-raw>. */
  edits: Edit[];
  diagnostics: Diagnostic[];
}

const MJML_TAG = /^<(\/?)(mjml|mj-[a-z-]+)\b/;

export function scanStructure(source: MappedSource): StructureScan {
  const text = source.text;
  const scan: StructureScan = { tokens: [], edits: [], diagnostics: [] };
  const open: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('<!--', i)) {
      i = scanComment(text, i, scan);
      continue;
    }
    const tag = text[i] === '<' ? MJML_TAG.exec(text.slice(i, i + 40)) : null;
    if (tag) {
      const name = tag[2]!;
      const closing = tag[1] === '/';
      const end = scanTag(source, i, name, scan);
      if (closing) {
        const at = open.lastIndexOf(name);
        if (at >= 0) open.length = at;
        i = end;
      } else if (text[end - 2] === '/') {
        i = end;
      } else if (CONTENT_ELEMENTS.has(name)) {
        i = scanContent(text, end, name, scan);
      } else {
        open.push(name);
        i = end;
      }
      if (name === 'mj-include') reportInclude(source, i, scan);
      continue;
    }
    if (text.startsWith('{{', i)) {
      const end = mustacheEnd(text, i);
      between(source, text.slice(i, end), i, open, scan);
      i = end;
      continue;
    }
    i++;
  }
  return scan;
}

/** A `{{…}}` standing directly between MJML elements. */
function between(source: MappedSource, token: string, start: number, open: readonly string[], scan: StructureScan): void {
  const element = open.at(-1);
  const record: TemplateToken = { text: token, start, context: 'between' };
  if (element !== undefined) record.element = element;
  if (isComment(token)) {
    scan.tokens.push({ ...record, context: 'comment' });
    return;
  }
  scan.tokens.push(record);
  const at = source.locate(start);
  if (!isBlockTag(token)) {
    record.reported = true;
    scan.diagnostics.push(
      error(at.file, at.line, `${token} stands between MJML elements, where MJML drops it`, 'put it inside an <mj-text> (or <mj-button>, <mj-raw>)', at.column),
    );
    return;
  }
  if (open.includes('mj-head')) {
    record.reported = true;
    scan.diagnostics.push(
      error(at.file, at.line, `${token} inside <mj-head> is not supported`, 'MJML moves head elements around, so a condition there would not apply; keep blocks in <mj-body>', at.column),
    );
    return;
  }
  const wrap = (text: string): MappedSource => MappedSource.synthetic(text, at);
  scan.edits.push({
    start,
    end: start + token.length,
    insert: MappedSource.concat([wrap('<mj-raw>'), source.slice(start, start + token.length), wrap('</mj-raw>')]),
  });
}

/** Read an MJML tag up to its `>`, checking Handlebars in its attributes. Returns the offset after `>`. */
function scanTag(source: MappedSource, start: number, element: string, scan: StructureScan): number {
  const text = source.text;
  let i = start + 1;
  let attribute: string | undefined;
  let quote: string | undefined;
  while (i < text.length) {
    if (text.startsWith('{{', i)) {
      const end = mustacheEnd(text, i);
      const token = text.slice(i, end);
      const at = source.locate(i);
      if (quote === undefined || attribute === undefined) {
        scan.tokens.push({ text: token, start: i, context: 'attribute', element, reported: true });
        scan.diagnostics.push(error(at.file, at.line, `${token} inside the <${element}> tag is not supported`, 'Handlebars may only stand inside an attribute value, e.g. href="{{link}}"', at.column));
      } else {
        const record: TemplateToken = { text: token, start: i, context: 'attribute', element, attribute };
        record.reported = !checkAttributeToken(token, element, attribute, quote, at, scan);
        scan.tokens.push(record);
      }
      i = end;
      continue;
    }
    const ch = text[i]!;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '>') {
      return i + 1;
    } else if (/[a-z]/i.test(ch) && /[\s"']/.test(text[i - 1] ?? ' ')) {
      const name = /^[a-z][a-z0-9-]*/i.exec(text.slice(i))![0];
      attribute = name;
      i += name.length;
      continue;
    }
    i++;
  }
  return text.length;
}

/** False (and a diagnostic) when the expression cannot work in this attribute. */
function checkAttributeToken(token: string, element: string, attribute: string, quote: string, at: { file: string; line: number; column: number }, scan: StructureScan): boolean {
  if (token.includes(quote)) {
    const other = quote === '"' ? "'" : '"';
    scan.diagnostics.push(
      error(at.file, at.line, `${token} uses ${quote} inside a ${attribute}="…" attribute, which ends the attribute early`, `write ${other} inside the expression instead, e.g. {{formatDate date ${other}long${other}}}`, at.column),
    );
    return false;
  }
  if (!FREE_TEXT_ATTRIBUTES.has(attribute)) {
    scan.diagnostics.push(
      error(
        at.file,
        at.line,
        `${token} in the ${attribute} attribute of <${element}> is not supported: MJML checks or recomputes ${attribute} values`,
        `use a fixed ${attribute}; to vary it, write the element twice inside {{#if …}} … {{else}} … {{/if}}. Handlebars may stand in ${[...FREE_TEXT_ATTRIBUTES].join(', ')}`,
        at.column,
      ),
    );
    return false;
  }
  return true;
}

/** Content of an element MJML copies through: every token there is expected to survive. */
function scanContent(text: string, start: number, element: string, scan: StructureScan): number {
  const close = text.indexOf(`</${element}`, start);
  const end = close < 0 ? text.length : close;
  for (const m of text.slice(start, end).matchAll(MUSTACHE)) {
    scan.tokens.push({ text: m[0], start: start + m.index, context: isComment(m[0]) ? 'comment' : 'content', element });
  }
  return end;
}

function scanComment(text: string, start: number, scan: StructureScan): number {
  const close = text.indexOf('-->', start);
  const end = close < 0 ? text.length : close + 3;
  for (const m of text.slice(start, end).matchAll(MUSTACHE)) scan.tokens.push({ text: m[0], start: start + m.index, context: 'comment' });
  return end;
}

function reportInclude(source: MappedSource, offset: number, scan: StructureScan): void {
  const at = source.locate(source.text.lastIndexOf('<mj-include', offset));
  scan.diagnostics.push(error(at.file, at.line, '<mj-include> is not supported', 'put the shared block in partials/NAME.mjml and write {{> NAME}} here', at.column));
}

/** `{{!-- … --}}`, `{{{ … }}}`, `{{ … }}`. */
export const MUSTACHE = /\{\{!--[\s\S]*?--\}\}|\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\}/g;

function mustacheEnd(text: string, start: number): number {
  MUSTACHE.lastIndex = start;
  const m = MUSTACHE.exec(text);
  MUSTACHE.lastIndex = 0;
  return m && m.index === start ? start + m[0].length : start + 2;
}

function isComment(token: string): boolean {
  return /^\{\{~?!/.test(token);
}

function isBlockTag(token: string): boolean {
  return /^\{\{~?\s*([#^/]|else\b)/.test(token);
}

/**
 * The guard: every `{{…}}` of the source must still be in MJML's output. Anything MJML
 * dropped or rewrote would silently vanish from every message, so it is an error.
 */
export function checkTokensSurvived(source: MappedSource, tokens: readonly TemplateToken[], html: string): Diagnostic[] {
  const expected = new Map<string, TemplateToken[]>();
  for (const token of tokens) {
    if (token.context === 'comment') continue;
    const list = expected.get(token.text) ?? [];
    list.push(token);
    expected.set(token.text, list);
  }
  const diagnostics: Diagnostic[] = [];
  for (const [text, all] of expected) {
    // Tokens already reported as unsupported are expected to be missing.
    const uses = all.filter((use) => !use.reported);
    if (countOccurrences(html, text) >= uses.length) continue;
    for (const use of uses) {
      const at = source.locate(use.start);
      const where = use.attribute ? `the ${use.attribute} attribute of <${use.element}>` : use.element ? `<${use.element}>` : 'the message';
      const hint =
        use.element === 'mj-style'
          ? 'MJML rewrites styles it inlines: keep Handlebars out of <mj-style inline="inline">, or put the value in a normal <mj-style>'
          : 'move it into the content of an <mj-text> or a free-text attribute (href, src, alt, title)';
      diagnostics.push(error(at.file, at.line, `${text} in ${where} does not survive MJML (it is dropped or changed)`, hint, at.column));
    }
  }
  return diagnostics;
}

function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}
