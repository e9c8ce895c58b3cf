import { createRequire } from 'node:module';
import type * as HtmlToTextModule from 'html-to-text';
import type { DomNode, FormatCallback, HtmlToTextOptions } from 'html-to-text';
import { HELPER_NAMES, knownHelpersOnly, type HandlebarsInstance } from './helpers.js';
import { plainTemplate } from './plain-template.js';

/**
 * The plain-text part, derived from the HTML.
 *
 * Converting every recipient's HTML with html-to-text costs ~0.35 ms a message. Instead the
 * compiled HTML template — with its `{{…}}` still in it — is converted once into a text
 * *template*: each token is swapped for an inert placeholder, converted, and put back. Per
 * recipient we then render that text template (without Handlebars when plainTemplate can, the
 * links being written by linkText either way), which gives the same text as converting the
 * recipient's HTML, because:
 *
 * - values are written unescaped (html-to-text decodes the entities `{{x}}` produced);
 * - values have their whitespace collapsed, as html-to-text collapses it in HTML;
 * - nothing depends on the length of a value: no word wrapping, no table layout, no upper-casing
 *   of headings;
 * - each token is fenced by a marker (a plain value only when it is empty or has a space at
 *   either end: see fenceIfUntidy); after rendering, whitespace around markers is tidied the
 *   way html-to-text tidies it (an empty value or a false {{#if}} leaves no double space and
 *   no extra blank lines), and the markers removed. For that the text template marks the spaces
 *   html-to-text wrote as layout (list prefixes, indentation), and where a block or list that
 *   may render empty starts and ends: html-to-text writes the line breaks around an empty
 *   block twice, and nothing for an empty list;
 * - both paths keep at most one blank line in a row (those doubled line breaks add up, and
 *   readers gain nothing).
 *
 * Known limits, where html-to-text's handling of an empty block depends on what the template
 * cannot see: an empty block with nothing before it in its parent gets its line breaks once,
 * not twice, when text follows it there, and twice, not once, when a block that is always
 * empty (an image's cell) follows it — an empty button first in a column, above an image; and
 * an empty {{#each}} list between two runs of text in one block leaves a line break between
 * them, not a space.
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
/** A space html-to-text wrote as layout (a list item's prefix, its indentation): tidying keeps it. */
const LAYOUT = '\x17';
/** Where a block or a list that may render empty starts and ends (see tidyRun). */
const BLOCK_START = '\x18';
const BLOCK_END = '\x19';
const LIST_START = '\x1a';
const LIST_END = '\x1b';
const MARKERS = /[\x10-\x1b]/g;
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

/** Text (a value, a link, a marker) between fences, so tidying finds the whitespace around it. */
const fenced = (text: string) => `${VALUE_START}${text}${VALUE_END}`;

/**
 * html-to-text writes the line breaks around an empty block twice, and nothing for an empty
 * list. A block holding a value is written between markers, so tidying can tell when it
 * rendered empty (see tidyRun) — if it may (see mayTakeEmptyBlock). `tokens` are the
 * template's, by placeholder.
 */
function blockAsTemplate(tokens: readonly string[], breaks?: number): FormatCallback {
  const mark = (text: string) => (/[\x10-\x16]/.test(text) && mayTakeEmptyBlock(text, tokens) ? fenced(BLOCK_START) + text + fenced(BLOCK_END) : text);
  return (elem, walk, builder, formatOptions) => {
    builder.openBlock({ leadingLineBreaks: formatOptions.leadingLineBreaks || breaks });
    walk(elem.children, builder);
    builder.closeBlock({ trailingLineBreaks: formatOptions.trailingLineBreaks || breaks, blockTransform: mark });
  };
}

/** Opens a Handlebars block ({{#if}}, {{^x}}, not {{^}}), or closes one. */
const OPENS_BLOCK = /^\{\{~?(?:#|\^\s*[^\s}~])/;
const CLOSES_BLOCK = /^\{\{~?\//;

/**
 * Whether a block's converted text may render empty — it has no fixed text outside Handlebars
 * blocks — or may start with a block that renders empty: tidying then needs its markers.
 * Most blocks hold fixed text first and need none (every marker costs tidying time).
 */
function mayTakeEmptyBlock(text: string, tokens: readonly string[]): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === PLACEHOLDER_OPEN) {
      const close = text.indexOf(PLACEHOLDER_CLOSE, i);
      const token = tokens[Number(text.slice(i + 1, close))] ?? '';
      depth += OPENS_BLOCK.test(token) ? 1 : CLOSES_BLOCK.test(token) ? -1 : 0;
      i = close;
    } else if (char === ANCHOR_ELSE) {
      i = text.indexOf(ANCHOR_CLOSE, i); // an href: a link with fixed text writes that text
    } else if (char === BLOCK_START || char === LIST_START) {
      return true;
    } else if (depth === 0 && !/[\s\x10-\x1b]/.test(char)) {
      return false;
    }
  }
  return true;
}

/**
 * A list whose item prefixes end in LAYOUT, not spaces: after rendering, the space after a
 * bullet cannot otherwise be told from the space after an empty value (see markLayout). A
 * list holding a block ({{#each}}) may render empty: it gets markers as its first and last
 * items, and one trailing line break, the second being tidying's when the list has items.
 */
const listAsTemplate: FormatCallback = (elem, walk, builder, formatOptions) => {
  const format = builder.options.formatters[elem.name === 'ol' ? 'orderedList' : 'unorderedList']!;
  const nested = Object.hasOwn(builder, 'openListItem'); // in a list that marks prefixes already
  if (!nested) {
    const openListItem = builder.openListItem.bind(builder);
    builder.openListItem = ({ prefix = '' }) => openListItem({ prefix: prefix.replace(/ +$/, (spaces) => LAYOUT.repeat(spaces.length)) });
  }
  try {
    const mayBeEmpty = elem.parent?.name !== 'li' && elem.children.some((child) => child.type === 'text' && child.data?.includes(PLACEHOLDER_OPEN));
    if (!mayBeEmpty) return format(elem, walk, builder, formatOptions);
    const marker = (data: string) => ({ type: 'text', data, children: [] });
    const children = [marker(fenced(LIST_START)), ...elem.children, marker(fenced(LIST_END))];
    format(Object.create(elem, { children: { value: children } }) as DomNode, walk, builder, { ...formatOptions, trailingLineBreaks: 1 });
  } finally {
    if (!nested) delete (builder as Partial<typeof builder>).openListItem;
  }
};


/** A link as html-to-text writes it (see anchorAsTemplate), from its rendered text and href. */
function linkText(text: string, rawHref: string): string {
  const bare = rawHref.replace(MARKERS, '');
  const href = bare.startsWith('mailto:') ? bare.slice('mailto:'.length) : bare;
  if (href === '' || href.startsWith('#')) return fenced(text);
  if (!VISIBLE.test(text)) return fenced(text + href);
  // Ends with a fence like the others: the layout after a link is marked (see markLayout).
  return `${VALUE_START}${text}${VALUE_END} [${href}]${VALUE_END}`;
}

/** A character that is neither whitespace (as trim() reads it) nor a marker. */
const VISIBLE = /[^\s\x10-\x1b]/;

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
  const tokens: string[] = [];
  const convert = compileConverter({
    ...TEXT_OPTIONS,
    formatters: { anchorAsTemplate, listAsTemplate, block: blockAsTemplate(tokens), paragraph: blockAsTemplate(tokens, 2), heading: blockAsTemplate(tokens, 2) },
    selectors: [...(TEXT_OPTIONS.selectors ?? []), { selector: 'a', format: 'anchorAsTemplate' }, ...['ul', 'ol'].map((selector) => ({ selector, format: 'listAsTemplate' }))],
  });
  // html-to-text numbers an <ol>'s items when converting: a template's single {{#each}}
  // item cannot be numbered in advance.
  if (BLOCK_IN_ORDERED_LIST.test(htmlTemplate)) return undefined;
  const inert = htmlTemplate.replace(MARKERS, '').replace(TOKEN, (token) => {
    if (/^\{\{~?!/.test(token)) return '';
    tokens.push(token);
    return `${PLACEHOLDER_OPEN}${tokens.length - 1}${PLACEHOLDER_CLOSE}`;
  });
  const converted = markLayout(writeFixedLinks(limitBlankLines(convert(inert))));
  let render: (data: Record<string, unknown>) => string;
  try {
    // Written by plainTemplate, a plain value's fence is left to the value (see fenceIfUntidy).
    const lean = asHandlebars(converted, tokens, (token) => (PLAIN_VALUE.test(token) ? token : fenced(token)));
    render = plainTemplate(hbs.parse(lean), HELPER_NAMES, { blocks: { [ANCHOR_HELPER]: linkText }, value: fenceIfUntidy }) ?? compileWithHandlebars(hbs, asHandlebars(converted, tokens, fenced));
  } catch {
    return undefined;
  }
  return (data) => limitBlankLines(tidyAroundValues(render(collapseWhitespace(data))));
}

/**
 * The text template for Handlebars, every token fenced, when plainTemplate cannot write it. Only
 * then is the link helper registered: each top-level Handlebars call on this instance (a
 * subject, an HTML part) wraps every registered helper anew.
 */
function compileWithHandlebars(hbs: HandlebarsInstance, textTemplate: string): Handlebars.TemplateDelegate {
  hbs.registerHelper(ANCHOR_HELPER, function (this: unknown, options: Handlebars.HelperOptions): string {
    return linkText(options.fn(this), options.inverse(this));
  });
  return hbs.compile(textTemplate, { noEscape: true, strict: false, ...knownHelpersOnly(ANCHOR_HELPER) });
}

/** The converted template with its tokens put back, each as `write` gives it, and its links as helper blocks. */
function asHandlebars(converted: string, tokens: readonly string[], write: (token: string) => string): string {
  return converted
    .replace(PLACEHOLDER, (_, index: string) => write(tokens[Number(index)]!))
    .replaceAll(ANCHOR_OPEN, `{{#${ANCHOR_HELPER}}}`)
    .replaceAll(ANCHOR_ELSE, '{{else}}')
    .replaceAll(ANCHOR_CLOSE, `{{/${ANCHOR_HELPER}}}`);
}

/** `{{name}}`: a value plainTemplate writes through fenceIfUntidy. */
const PLAIN_VALUE = /^\{\{\s*(?!else\s*\}\})[A-Za-z_$][\w$-]*\s*\}\}$/;

/**
 * A value needs its fence only where tidying could change what is around it: when it is empty
 * or starts or ends with a space (collapsing has left no other whitespace and no markers in it).
 * Any other value reads to html-to-text like the placeholder word it replaced, so the text
 * around it is already what html-to-text writes, and tidying it changes nothing; most values are
 * like that, and each fence costs tidying time. A run of whitespace that loses its only fence
 * this way keeps its marked layout, which tidyAroundValues finds too.
 */
function fenceIfUntidy(text: string): string {
  return text !== '' && text.charCodeAt(0) !== 32 && text.charCodeAt(text.length - 1) !== 32 ? text : fenced(text);
}

/** Whitespace html-to-text wrote, the marked ends of list prefixes, and fenced markers (which write nothing). */
const CONVERTED_RUN = /(?:[ \n\x17]|\x12[\x18-\x1b]\x13)+/g;
/** Rendered, these put a fence on the run after them, or before them. */
const FENCED_AFTER = '\x11\x13\x14\x16';
const FENCED_BEFORE = '\x10\x12\x14';

/**
 * In the converted template, mark as LAYOUT each space html-to-text wrote as layout — at the start
 * of a line, or after a list prefix — where a fence will touch it: all other whitespace there
 * came from the HTML text, which tidying collapses or drops. Elsewhere LAYOUT is a space again.
 */
function markLayout(converted: string): string {
  return converted.replace(CONVERTED_RUN, (run: string, at: number) => {
    const fenced = run.includes(VALUE_START) || FENCED_AFTER.includes(converted[at - 1] ?? '-') || FENCED_BEFORE.includes(converted[at + run.length] ?? '-');
    if (!fenced) return run.replaceAll(LAYOUT, ' ');
    let lineStart = at === 0;
    let marked = '';
    for (const char of run) {
      if (char === ' ') {
        marked += lineStart ? LAYOUT : ' ';
        continue;
      }
      if (char === '\n' || char === LAYOUT) lineStart = true;
      marked += char;
    }
    return marked;
  });
}

const WHITESPACE = /[ \t\r\n\f\u200b]+/g;

/** html-to-text reads every run of whitespace in HTML text as one space; values get the same. */
function collapseWhitespace(value: unknown): never {
  return collapse(value) as never;
}

/** Whether a value has anything collapse changes: most values are plain words and single spaces. */
const UNTIDY = /[\x10-\x1b\t\r\n\f\u200b]| {2}/;

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
const LAYOUT_CODE = LAYOUT.charCodeAt(0);
const BLOCK_START_CODE = BLOCK_START.charCodeAt(0);
const BLOCK_END_CODE = BLOCK_END.charCodeAt(0);
const LIST_START_CODE = LIST_START.charCodeAt(0);
const LIST_END_CODE = LIST_END.charCodeAt(0);
const NEWLINE = 10;

/** Whitespace html-to-text may leave next to a value, a value's fence, marked layout, or a marker. */
function isRunChar(code: number): boolean {
  return code === 32 || code === 9 || code === NEWLINE || code === 13 || code === 12 || code === 0x200b || (code >= START_CODE && code <= LIST_END_CODE);
}

/**
 * Tidy the whitespace next to values the way html-to-text tidies whitespace in HTML, then
 * drop the fences and markers. A run of whitespace touching a value holds layout html-to-text
 * wrote (line breaks, and the spaces of list prefixes and indentation, marked LAYOUT) and inline
 * spaces from the HTML text and values, which html-to-text collapses. It becomes:
 * - without a line break: its layout (an empty list item's bullet space), else one space, or
 *   none at the very start or end, or if the run is only fences;
 * - with line breaks: the layout before the first, the largest group of them between two fences
 *   (a false {{#if}} around a paragraph leaves one paragraph break, not two), then the layout
 *   after the last (a list's " * "); inline spaces at a line's start or end are dropped.
 * Runs are found from the fences, and from marked layout (which a value written without its
 * fence may leave, see fenceIfUntidy), with indexOf: a regular expression starting a match at
 * every run of spaces cost more than rendering the message.
 */
export function tidyAroundValues(text: string): string {
  const nextFence = fenceFinder(text);
  let out = '';
  let done = 0;
  for (let fence = nextFence(0); fence !== -1; fence = nextFence(done)) {
    let start = fence;
    while (start > done && isRunChar(text.charCodeAt(start - 1))) start--;
    let end = fence + 1;
    while (end < text.length && isRunChar(text.charCodeAt(end))) end++;
    out += text.slice(done, start) + (end === text.length ? '' : tidyRun(text, start, end, start === 0));
    done = end;
  }
  return out + text.slice(done);
}

/**
 * The next fence or marked layout at or after `from`. Remembers where the next of each is, so
 * each part of the text is searched once, not once per fence.
 */
function fenceFinder(text: string): (from: number) => number {
  let start = text.indexOf(VALUE_START);
  let end = text.indexOf(VALUE_END);
  let layout = text.indexOf(LAYOUT);
  return (from) => {
    if (start !== -1 && start < from) start = text.indexOf(VALUE_START, from);
    if (end !== -1 && end < from) end = text.indexOf(VALUE_END, from);
    if (layout !== -1 && layout < from) layout = text.indexOf(LAYOUT, from);
    return nearer(nearer(start, end), layout);
  };
}

function nearer(a: number, b: number): number {
  return a === -1 ? b : b === -1 ? a : Math.min(a, b);
}

/**
 * text[from, to), a run of whitespace, fences, layout and markers not at the text's end, tidied
 * (see tidyAroundValues). A block or list whose start and end markers are both in the run
 * rendered empty: html-to-text writes nothing for an empty list, and for an empty block the
 * line breaks before it and after it, both — unless nothing came before it in its parent (the
 * parent started in this run too, or a list item's prefix just before), which then takes the
 * block's line breaks as its own. A list that did render items keeps two line breaks after it.
 */
function tidyRun(text: string, from: number, to: number, atStart: boolean): string {
  let breaks = 0; // the most line breaks between two fences since the last empty block
  let lines = ''; // that group of them, with the layout of its blank lines
  let written = 0; // line breaks written before empty blocks
  let group = 0;
  let groupLines = '';
  let before = ''; // layout before the first line break
  let after = ''; // layout after the last line break
  let broken = false; // a line break seen
  let inline = false;
  let open = 0; // blocks and lists started in this run, and not yet ended
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code === NEWLINE) {
      groupLines += (group > 0 ? after : '') + '\n';
      after = '';
      broken = true;
      if (++group > breaks) {
        breaks = group;
        lines = groupLines;
      }
      continue;
    }
    if (code === LAYOUT_CODE) {
      if (broken) after += ' ';
      else before += ' ';
      continue;
    }
    if (code < START_CODE || code > LIST_END_CODE) {
      inline = true;
      continue;
    }
    group = 0;
    groupLines = '';
    if (code === BLOCK_START_CODE || code === LIST_START_CODE) {
      open++;
    } else if (code === LIST_END_CODE) {
      if (open > 0) open--;
      else if (breaks < 2) {
        breaks = 2;
        lines = '\n\n';
      }
    } else if (code === BLOCK_END_CODE && open > 0 && --open === 0 && (broken || before === '')) {
      written += breaks;
      breaks = 0;
      lines = '';
    }
  }
  if (written + breaks === 0) return before !== '' ? before : inline && !atStart ? ' ' : '';
  if (atStart) return after;
  return before + (written > 0 ? '\n'.repeat(written + breaks) : lines) + after;
}
