import { createRequire } from 'node:module';
import type * as HtmlToTextModule from 'html-to-text';
import type { FormatCallback, HtmlToTextOptions } from 'html-to-text';
import { knownHelpersOnly, type HandlebarsInstance } from './helpers.js';

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

type CompileConverter = typeof HtmlToTextModule.compile;
let loadedCompiler: CompileConverter | undefined;

/**
 * html-to-text's compile, loaded on first use (its CommonJS build, so it can be loaded then, in
 * the middle of a render): loading it takes ~50 ms, and `validate` never renders a text part.
 */
function compileConverter(options: HtmlToTextOptions): ReturnType<CompileConverter> {
  loadedCompiler ??= (createRequire(import.meta.url)('html-to-text') as typeof HtmlToTextModule).compile;
  return loadedCompiler(options);
}

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

// Control characters: inert for html-to-text, never in a real message (any in a value or the
// template are dropped), and, unlike private-use characters, they keep a Latin-1 text in V8's
// one-byte strings, which halves what each message's text costs to build, copy and tidy.
const PLACEHOLDER_OPEN = '\x10';
const PLACEHOLDER_CLOSE = '\x11';
/** Fence each value in the rendered text so whitespace around it can be tidied. */
const VALUE_START = '\x12';
const VALUE_END = '\x13';
const ANCHOR_OPEN = '\x14';
const ANCHOR_ELSE = '\x15';
const ANCHOR_CLOSE = '\x16';
const MARKERS = /[\x10-\x16]/g;
const ANCHOR_HELPER = 'bulletinTextLink';

/**
 * html-to-text writes a link as `text [href]`, as `href` when the text is empty, and as `text`
 * when the href is empty — decided by values a template only knows per recipient. When
 * deriving the text template, every link becomes a block helper call that makes the same
 * decision at render time.
 */
const anchorAsTemplate: FormatCallback = (elem, walk, builder) => {
  const attribs = elem.attribs as Record<string, string | undefined> | undefined;
  const href = attribs?.['href'] ?? '';
  builder.addInline(ANCHOR_OPEN, { noWordTransform: true });
  walk(elem.children, builder);
  builder.addInline(`${ANCHOR_ELSE}${href}${ANCHOR_CLOSE}`, { noWordTransform: true });
};

function registerAnchorHelper(hbs: HandlebarsInstance): void {
  hbs.registerHelper(ANCHOR_HELPER, function (this: unknown, options: Handlebars.HelperOptions): string {
    return linkText(options.fn(this), options.inverse(this));
  });
}

/** A link as html-to-text writes it (see anchorAsTemplate), from its rendered text and href. */
function linkText(text: string, rawHref: string): string {
  const bare = rawHref.replace(MARKERS, '');
  const href = bare.startsWith('mailto:') ? bare.slice('mailto:'.length) : bare;
  if (href === '' || href.startsWith('#')) return `${VALUE_START}${text}${VALUE_END}`;
  if (!VISIBLE.test(text)) return `${VALUE_START}${text}${href}${VALUE_END}`;
  return `${VALUE_START}${text}${VALUE_END} [${href}]`;
}

/** A character that is neither whitespace (as trim() reads it) nor a marker. */
const VISIBLE = /[^\s\x10-\x16]/;

/** A link in the converted template: its text, then its href, either with placeholders in it. */
const CONVERTED_LINK = /\x14([^\x14-\x16]*)\x15([^\x14-\x16]*)\x16/g;

/**
 * A link whose text and href are both fixed is written out once, here, instead of by the
 * helper in every message (two sub-template calls each); the result is the same string.
 */
function writeFixedLinks(converted: string): string {
  return converted.replace(CONVERTED_LINK, (link, text: string, href: string) =>
    text.includes(PLACEHOLDER_OPEN) || href.includes(PLACEHOLDER_OPEN) ? link : linkText(text, href),
  );
}

/**
 * One reusable converter (html-to-text's compile step is the expensive part). Its output
 * keeps at most one blank line in a row: html-to-text adds a line break for each empty
 * block, and MJML layouts have many (an image cell, a spacer, a hidden conditional section).
 */
export function createConverter(): HtmlToText {
  let convert: ((html: string) => string) | undefined;
  return (html) => limitBlankLines((convert ??= compileConverter(TEXT_OPTIONS))(html));
}

/**
 * html-to-text counts the line breaks around an empty block twice (and keeps them at the
 * end of the text): at most one blank line in a row, none at either end.
 */
function limitBlankLines(text: string): string {
  // Looked for first: a derived text rarely has anything to limit (its template has been limited
  // already), and each replace copies the text.
  const limited = text.includes('\n\n\n') ? text.replace(/\n{3,}/g, '\n\n') : text;
  return (limited.startsWith('\n') ? limited.replace(/^\n+/, '') : limited).trimEnd();
}

export type TextRenderer = (data: Record<string, unknown>, html: string) => string;

/** The per-message path: correct for any template, ~10× slower. */
export function convertPerMessage(convert: HtmlToText): TextRenderer {
  return (_data, html) => convert(html);
}

const TOKEN = /\{\{!--[\s\S]*?--\}\}|\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\}/g;
const PLACEHOLDER = /\x10(\d+)\x11/g;
const BLOCK_IN_ORDERED_LIST = /<ol\b(?:(?!<\/ol>)[\s\S])*?\{\{~?[#^/]/i;

/**
 * Convert the HTML template to a text template once. Undefined when that cannot give the same
 * text as converting each message — a block inside an <ol> (items are numbered at conversion),
 * or a block whose opening and closing tags met different fates — and the caller then
 * converts per message.
 */
export function deriveTextTemplate(hbs: HandlebarsInstance, htmlTemplate: string): TextRenderer | undefined {
  const convert = compileConverter({ ...TEXT_OPTIONS, formatters: { anchorAsTemplate }, selectors: [...(TEXT_OPTIONS.selectors ?? []), { selector: 'a', format: 'anchorAsTemplate' }] });
  registerAnchorHelper(hbs);
  // html-to-text numbers an <ol>'s items when converting: a template's single {{#each}}
  // item cannot be numbered in advance.
  if (BLOCK_IN_ORDERED_LIST.test(htmlTemplate)) return undefined;
  const tokens: string[] = [];
  const inert = htmlTemplate.replace(MARKERS, '').replace(TOKEN, (token) => {
    if (/^\{\{~?!/.test(token)) return '';
    tokens.push(token);
    return `${PLACEHOLDER_OPEN}${tokens.length - 1}${PLACEHOLDER_CLOSE}`;
  });
  const textTemplate = writeFixedLinks(limitBlankLines(convert(inert)))
    .replace(PLACEHOLDER, (_, index: string) => `${VALUE_START}${tokens[Number(index)]}${VALUE_END}`)
    .replaceAll(ANCHOR_OPEN, `{{#${ANCHOR_HELPER}}}`)
    .replaceAll(ANCHOR_ELSE, '{{else}}')
    .replaceAll(ANCHOR_CLOSE, `{{/${ANCHOR_HELPER}}}`);
  let render: Handlebars.TemplateDelegate;
  try {
    hbs.parse(textTemplate);
    render = hbs.compile(textTemplate, { noEscape: true, strict: false, ...knownHelpersOnly(ANCHOR_HELPER) });
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

/** Whether a value has anything collapse changes: most values are plain words and single spaces. */
const UNTIDY = /[\x10-\x16\t\r\n\f\u200b]| {2}/;

/** The value with every string collapsed; the same value when none needs it (most data: no copy). */
function collapse(value: unknown): unknown {
  if (typeof value === 'string') return UNTIDY.test(value) ? value.replace(MARKERS, '').replace(WHITESPACE, ' ') : value;
  if (Array.isArray(value)) return value.some(isUntidy) ? value.map(collapse) : value;
  if (isPlainObject(value) && isUntidy(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = collapse(item);
    return out;
  }
  return value;
}

function isUntidy(value: unknown): boolean {
  if (typeof value === 'string') return UNTIDY.test(value);
  if (Array.isArray(value)) return value.some(isUntidy);
  if (isPlainObject(value)) {
    for (const key in value) if (isUntidy(value[key])) return true;
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

const START_CODE = VALUE_START.charCodeAt(0);
const END_CODE = VALUE_END.charCodeAt(0);
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/** Whitespace html-to-text may leave next to a value, or a value's fence. */
function isRunChar(code: number): boolean {
  return code === 32 || code === 9 || code === NEWLINE || code === CARRIAGE_RETURN || code === 12 || code === 0x200b || code === START_CODE || code === END_CODE;
}

/**
 * Tidy the whitespace next to values the way html-to-text tidies whitespace in HTML, then
 * drop the fences. In a run of whitespace touching a value:
 * - without a line break: one space, or none at the very start or end, or if the run is only fences;
 * - with line breaks: the largest group of them between two fences (a false {{#if}} around a
 *   paragraph leaves one paragraph break, not two), then the indentation html-to-text itself
 *   wrote after the last one (a list's " * "), not the leading spaces of a value.
 * Runs are found from the fences with indexOf: a regular expression starting a match at every
 * run of spaces cost more than rendering the message.
 */
export function tidyAroundValues(text: string): string {
  const state = { depth: 0 }; // depth > 0: inside a value's fences
  const nextFence = fenceFinder(text);
  let out = '';
  let done = 0;
  for (let fence = nextFence(0); fence !== -1; fence = nextFence(done)) {
    let start = fence;
    while (start > done && isRunChar(text.charCodeAt(start - 1))) start--;
    let end = fence + 1;
    while (end < text.length && isRunChar(text.charCodeAt(end))) end++;
    out += text.slice(done, start) + tidyRun(text, start, end, start === 0 || end === text.length, state);
    done = end;
  }
  return out + text.slice(done);
}

/**
 * The next fence at or after `from`. Remembers where the next start and end fences are, so each
 * part of the text is searched once, not once per fence.
 */
function fenceFinder(text: string): (from: number) => number {
  let start = text.indexOf(VALUE_START);
  let end = text.indexOf(VALUE_END);
  return (from) => {
    if (start !== -1 && start < from) start = text.indexOf(VALUE_START, from);
    if (end !== -1 && end < from) end = text.indexOf(VALUE_END, from);
    return start === -1 ? end : end === -1 ? start : Math.min(start, end);
  };
}

/** The whitespace of text[from, to), a run of whitespace and fences, tidied (see tidyAroundValues). */
function tidyRun(text: string, from: number, to: number, atEdge: boolean, state: { depth: number }): string {
  let breaks = 0;
  let group = 0;
  let whitespace = false;
  let indentation = '';
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code === START_CODE || code === END_CODE) {
      state.depth += code === START_CODE ? 1 : -1;
      group = 0;
      continue;
    }
    whitespace = true;
    if (code === NEWLINE) {
      breaks = Math.max(breaks, ++group);
      indentation = '';
    } else if (state.depth === 0 && code !== CARRIAGE_RETURN) {
      indentation += text[i];
    }
  }
  if (!whitespace || atEdge) return '';
  // More than one blank line would be limited to one anyway (limitBlankLines).
  return breaks === 0 ? ' ' : (breaks === 1 ? '\n' : '\n\n') + indentation;
}
