import { compile as compileConverter, type HtmlToTextOptions } from 'html-to-text';
import type { HandlebarsInstance } from './helpers.js';

/**
 * The plain-text part, derived from the HTML.
 *
 * Converting every recipient's HTML with html-to-text costs ~0.35 ms a message. Instead the
 * compiled HTML template — with its `{{…}}` still in it — is converted once into a text
 * *template*: each token is swapped for an inert placeholder, converted, and put back. Per
 * recipient we then render that text template, which gives the same text as converting the
 * recipient's HTML, because:
 *
 * - values are written unescaped (html-to-text decodes the entities `{{x}}` produced);
 * - values have their whitespace collapsed, as html-to-text collapses it in HTML;
 * - nothing depends on the length of a value: no word wrapping, no table layout, no upper-casing
 *   of headings;
 * - each token is fenced by a marker; after rendering, whitespace around markers is tidied the
 *   way html-to-text tidies it (an empty value or a false {{#if}} leaves no double space and
 *   no extra blank lines), and the markers removed;
 * - both paths keep at most one blank line in a row (html-to-text counts line breaks around
 *   empty blocks twice, which a template cannot reproduce exactly, and readers gain nothing).
 *
 * Raw values (`{{{html}}}`) can contain markup, which only a real conversion handles: such
 * templates convert each rendered message instead (see `convertPerMessage`).
 */

/** html-to-text settings shared by both paths, chosen so the text cannot depend on value lengths. */
export const TEXT_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  selectors: [
    // The preheader is hidden in the HTML (MJML writes it as a display:none div).
    { selector: 'div[style^="display:none"]', format: 'skip' },
    // Logos and pictures are noise in a text part; their alt text is in the HTML.
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: false, linkBrackets: ['[', ']'] } },
    // MJML lays out with tables: read them as blocks, not as data tables with computed widths.
    { selector: 'table', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'th', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  ],
};

export type HtmlToText = (html: string) => string;

/**
 * One reusable converter (html-to-text's compile step is the expensive part). Its output
 * keeps at most one blank line in a row: html-to-text adds a line break for each empty
 * block, and MJML layouts have many (an image cell, a spacer, a hidden conditional section).
 */
export function createConverter(): HtmlToText {
  const convert = compileConverter(TEXT_OPTIONS);
  return (html) => limitBlankLines(convert(html));
}

function limitBlankLines(text: string): string {
  return text.replace(/\n{3,}/g, '\n\n');
}

export type TextRenderer = (data: Record<string, unknown>, html: string) => string;

/** The per-message path: correct for any template, ~10× slower. */
export function convertPerMessage(convert: HtmlToText): TextRenderer {
  return (_data, html) => convert(html);
}

const PLACEHOLDER_OPEN = '\uE000';
const PLACEHOLDER_CLOSE = '\uE001';
/** Fences each value in the rendered text so whitespace around it can be tidied. */
const MARK = '\uE002';
const PRIVATE_CHARS = /[\uE000-\uE002]/g;
const TOKEN = /\{\{!--[\s\S]*?--\}\}|\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\}/g;
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

/**
 * Convert the HTML template to a text template once. Undefined if the result is not a valid
 * template (a block's opening and closing tags ended up in different fates); the caller then
 * converts per message.
 */
export function deriveTextTemplate(hbs: HandlebarsInstance, htmlTemplate: string, convert: HtmlToText): TextRenderer | undefined {
  const tokens: string[] = [];
  const inert = htmlTemplate.replace(PRIVATE_CHARS, '').replace(TOKEN, (token) => {
    if (/^\{\{~?!/.test(token)) return '';
    tokens.push(token);
    return `${PLACEHOLDER_OPEN}${tokens.length - 1}${PLACEHOLDER_CLOSE}`;
  });
  const textTemplate = convert(inert).replace(PLACEHOLDER, (_, index: string) => `${MARK}${tokens[Number(index)]}${MARK}`);
  let render: Handlebars.TemplateDelegate;
  try {
    hbs.parse(textTemplate);
    render = hbs.compile(textTemplate, { noEscape: true, strict: false });
  } catch {
    return undefined;
  }
  return (data) => limitBlankLines(tidyAroundValues(render(collapseWhitespace(data))));
}

const WHITESPACE = /[ \t\r\n\f\u200b]+/g;

/** html-to-text reads every run of whitespace in HTML text as one space; values get the same. */
function collapseWhitespace(value: unknown): never {
  return collapse(value) as never;
}

function collapse(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(PRIVATE_CHARS, '').replace(WHITESPACE, ' ');
  if (Array.isArray(value)) return value.map(collapse);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = collapse(item);
    return out;
  }
  return value;
}

const RUN_WITH_MARK = /[ \t\r\n\f\u200b\uE002]*\uE002[ \t\r\n\f\u200b\uE002]*/g;

/**
 * Whitespace next to a value is what html-to-text would have merged with the value's own:
 * a run without a line break becomes one space (none at a line's edge), a run with line
 * breaks keeps its largest group of them (a false {{#if}} around a paragraph leaves one
 * paragraph break, not two) and the indentation after the last one.
 */
export function tidyAroundValues(text: string): string {
  return text.replace(RUN_WITH_MARK, (run: string, offset: number) => {
    const pieces = run.split(MARK);
    const breaks = Math.max(...pieces.map(countBreaks));
    const atStart = offset === 0;
    const atEnd = offset + run.length === text.length;
    if (breaks === 0) {
      if (!pieces.some((p) => p.length > 0) || atStart || atEnd) return '';
      return ' ';
    }
    if (atStart || atEnd) return '';
    const plain = pieces.join('');
    return '\n'.repeat(breaks) + plain.slice(plain.lastIndexOf('\n') + 1);
  });
}

function countBreaks(piece: string): number {
  let n = 0;
  for (let i = 0; i < piece.length; i++) if (piece.charCodeAt(i) === 10) n++;
  return n;
}
