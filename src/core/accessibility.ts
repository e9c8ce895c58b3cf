import Color from 'colorjs.io';
import { isTag, isText, type ChildNode, type Element } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import { MARKER_ATTRIBUTE, MARKER_CLASS_PREFIX, type SourceOrigin } from './source-markers.js';

/**
 * Accessibility and readability checks on one rendered message: the HTML MJML produced, its
 * styles inlined. What they look for, and why, is in the README ("Accessibility checks"). Each finding names the
 * template element it concerns (through the markers of source-markers.ts).
 */
export type AccessibilityCheck = 'contrast' | 'alt-text' | 'link-text' | 'heading-order' | 'language' | 'text-in-images' | 'font-size';

export interface AccessibilityFinding {
  check: AccessibilityCheck;
  message: string;
  hint: string;
  /** The template element concerned; undefined: the message as a whole. */
  origin?: SourceOrigin;
}

export interface AccessibilityOptions {
  /** The language this message is written in (config "language", or the variant's): `lang` must match it. */
  expectedLanguage?: string;
  /** Marker N → template element (markSource). */
  origins?: readonly SourceOrigin[];
  /** Link texts that say nothing out of context, compared ignoring case and end punctuation. */
  vagueLinkTexts?: readonly string[];
  minimumFontPx?: number;
  /** Fewer visible words than this, with an image: the text is probably in the images. */
  minimumWords?: number;
}

/** English, and the Welsh a bilingual public body would write. */
export const VAGUE_LINK_TEXTS: readonly string[] = [
  'click here', 'click', 'here', 'click this', 'read more', 'more', 'more info', 'more information', 'find out more', 'learn more',
  'link', 'this link', 'this', 'go', 'details', 'continue', 'website', 'web page', 'this page',
  'cliciwch yma', 'cliciwch', 'yma', 'mwy', 'darllen mwy', 'darllenwch fwy', 'rhagor', 'rhagor o wybodaeth', 'mwy o wybodaeth', 'dolen', 'y ddolen hon', 'gwefan',
];
export const MINIMUM_FONT_PX = 14;
export const MINIMUM_WORDS_WITH_IMAGES = 20;

/** WCAG 2.2 AA, 1.4.3. Large text: 18pt, or 14pt bold (CSS px = pt × 4/3). */
const NORMAL_RATIO = 4.5;
const LARGE_RATIO = 3;
const LARGE_PX = 24;
const LARGE_BOLD_PX = 18.66;

const SKIPPED_ELEMENTS = new Set(['head', 'style', 'script', 'title', 'template', 'noscript', 'xml']);
const HEADING = /^h([1-6])$/;
/** Browsers' own sizes (em of the parent) and weights, which MJML's output relies on. */
const UA_FONT_EM: Record<string, number> = { h1: 2, h2: 1.5, h3: 1.17, h4: 1, h5: 0.83, h6: 0.67, small: 1 / 1.2, big: 1.2, sub: 1 / 1.2, sup: 1 / 1.2 };
const UA_BOLD = new Set(['b', 'strong', 'th', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const FONT_KEYWORDS: Record<string, number> = { 'xx-small': 9, 'x-small': 10, small: 13, medium: 16, large: 18, 'x-large': 24, 'xx-large': 32, 'xxx-large': 48 };
const FONT_SIZE_ATTRIBUTE = [10, 10, 13, 16, 18, 24, 32, 48];
const UA_LINK_COLOR = '#0000ee';

interface Context {
  color: Color;
  background: Color;
  /** Text here stands on an image whose colour is unknown: contrast cannot be computed. */
  unknownBackground: boolean;
  fontPx: number;
  bold: boolean;
  hidden: boolean;
  /** sub/sup: small by design. */
  script: boolean;
  origin: SourceOrigin | undefined;
  /** Where the font size, the text colour and the background were set: where a fix goes. */
  fontOrigin: SourceOrigin | undefined;
  colorOrigin: SourceOrigin | undefined;
  backgroundOrigin: SourceOrigin | undefined;
  link: LinkState | undefined;
}

interface LinkState {
  href: string;
  label: string | undefined;
  text: string[];
  decorativeImages: number;
  origin: SourceOrigin | undefined;
}

export function checkAccessibility(html: string, options: AccessibilityOptions = {}): AccessibilityFinding[] {
  return new Checker(options).run(html);
}

class Checker {
  private readonly findings = new Map<string, AccessibilityFinding>();
  private readonly colors = new Map<string, Color | null>();
  private readonly contrasts = new Map<Color, Map<Color, number>>();
  private readonly vague: Set<string>;
  private readonly minimumFontPx: number;
  private rules: Rule[] = [];
  private words = 0;
  private images = 0;
  private firstImage: SourceOrigin | undefined;
  private firstImageSeen = false;
  private previousHeading: number | undefined;

  constructor(private readonly options: AccessibilityOptions) {
    this.vague = new Set((options.vagueLinkTexts ?? VAGUE_LINK_TEXTS).map(normaliseLinkText));
    this.minimumFontPx = options.minimumFontPx ?? MINIMUM_FONT_PX;
  }

  run(html: string): AccessibilityFinding[] {
    const document = parseDocument(html);
    const htmlElement = document.children.find((n): n is Element => isTag(n) && n.name === 'html');
    this.rules = parseStyleSheets(document.children);
    this.checkLanguage(htmlElement);
    const start: Context = {
      color: this.color('#000000')!,
      background: this.color('#ffffff')!,
      unknownBackground: false,
      fontPx: 16,
      bold: false,
      hidden: false,
      script: false,
      origin: undefined,
      fontOrigin: undefined,
      colorOrigin: undefined,
      backgroundOrigin: undefined,
      link: undefined,
    };
    this.visitChildren(document.children, start);
    const minimumWords = this.options.minimumWords ?? MINIMUM_WORDS_WITH_IMAGES;
    if (this.images > 0 && this.words < minimumWords) {
      this.add({
        check: 'text-in-images',
        message: `the message is mostly images: ${this.words} word${this.words === 1 ? '' : 's'} of text beside ${this.images} image${this.images === 1 ? '' : 's'}`,
        hint: 'write the message as text: text in an image cannot be read aloud, resized or translated, and is not shown when images are blocked',
        ...(this.firstImage ? { origin: this.firstImage } : {}),
      });
    }
    return [...this.findings.values()];
  }

  private checkLanguage(htmlElement: Element | undefined): void {
    const lang = htmlElement?.attribs.lang?.trim() ?? '';
    const expected = this.options.expectedLanguage;
    if (lang === '' || lang.toLowerCase() === 'und') {
      const example = expected ?? 'en';
      this.add({
        check: 'language',
        message: 'the message does not say its language, so screen readers may read it with the wrong voice',
        hint: `write <mjml lang="${example}">`,
      });
    } else if (expected !== undefined && primary(lang) !== primary(expected)) {
      this.add({
        check: 'language',
        message: `the message says its language is "${lang}", but it is the ${expected} version`,
        hint: `write <mjml lang="${expected}">, or check that this is the right file for "${expected}"`,
      });
    }
  }

  private visitChildren(children: readonly ChildNode[], context: Context): void {
    for (const child of children) {
      if (isText(child)) this.visitText(child.data, context);
      else if (isTag(child)) this.visitElement(child, context);
    }
  }

  private visitElement(element: Element, parent: Context): void {
    const name = element.name.toLowerCase();
    if (SKIPPED_ELEMENTS.has(name)) return;
    const style = this.declarations(element);
    const context = this.contextFor(element, name, style, parent);
    if (name === 'img') {
      this.visitImage(element, context);
      return;
    }
    const heading = HEADING.exec(name);
    if (heading && !context.hidden) this.visitHeading(Number(heading[1]), context);
    if (name === 'a' && element.attribs.href !== undefined && !context.hidden) {
      const label = element.attribs['aria-label'];
      const link: LinkState = { href: element.attribs.href, label, text: [], decorativeImages: 0, origin: context.origin };
      this.visitChildren(element.children, { ...context, link });
      this.checkLink(link);
      return;
    }
    this.visitChildren(element.children, context);
  }

  private contextFor(element: Element, name: string, style: ReadonlyMap<string, string>, parent: Context): Context {
    const context: Context = { ...parent };
    const marker = markerOf(element);
    if (marker !== undefined) context.origin = this.options.origins?.[marker] ?? parent.origin;
    if (isHidden(element, style)) context.hidden = true;
    if (name === 'sub' || name === 'sup') context.script = true;

    const uaEm = UA_FONT_EM[name];
    let fontPx = uaEm === undefined ? parent.fontPx : parent.fontPx * uaEm;
    const sizeAttribute = name === 'font' ? Number(element.attribs.size) : NaN;
    if (Number.isInteger(sizeAttribute)) fontPx = FONT_SIZE_ATTRIBUTE[Math.min(7, Math.max(1, sizeAttribute))]!;
    const fontSize = style.get('font-size');
    if (fontSize !== undefined) fontPx = parseFontSize(fontSize, parent.fontPx) ?? fontPx;
    if (fontPx !== parent.fontPx) context.fontOrigin = context.origin;
    context.fontPx = fontPx;
    const weight = style.get('font-weight');
    context.bold = weight !== undefined ? isBold(weight, parent.bold) : UA_BOLD.has(name) || parent.bold;

    const background = this.backgroundOf(element, style);
    if (background.color && background.color.alpha > 0) {
      context.background = over(background.color, parent.background);
      context.unknownBackground = false;
      context.backgroundOrigin = context.origin;
    } else if (background.image) {
      context.unknownBackground = true;
    }
    const color = style.get('color') ?? (name === 'font' ? element.attribs.color : undefined) ?? (name === 'a' ? UA_LINK_COLOR : undefined);
    const parsed = color === undefined ? undefined : this.color(color);
    if (parsed) {
      context.color = parsed;
      context.colorOrigin = context.origin;
    }
    return context;
  }

  private backgroundOf(element: Element, style: ReadonlyMap<string, string>): { color?: Color; image: boolean } {
    const image = /url\(/i.test(style.get('background') ?? '') || /url\(/i.test(style.get('background-image') ?? '') || element.attribs.background !== undefined;
    for (const value of [style.get('background-color'), style.get('background'), element.attribs.bgcolor]) {
      if (value === undefined) continue;
      const color = this.color(value) ?? colorToken(value, (token) => this.color(token));
      if (color) return { color, image };
    }
    return { image };
  }

  private visitText(data: string, context: Context): void {
    const text = data.replace(/\s+/g, ' ').trim();
    if (text === '' || context.hidden || context.fontPx < 2) return;
    context.link?.text.push(text);
    this.words += countWords(text);
    if (!context.unknownBackground) {
      const ratio = this.contrast(context.color, context.background);
      const large = context.fontPx >= LARGE_PX || (context.bold && context.fontPx >= LARGE_BOLD_PX);
      const needed = large ? LARGE_RATIO : NORMAL_RATIO;
      if (ratio < needed) {
        const fg = hex(over(context.color, context.background));
        const bg = hex(context.background);
        const better = betterColor(over(context.color, context.background), context.background, needed);
        const origin = context.colorOrigin ?? context.backgroundOrigin ?? context.origin;
        this.add(`contrast\0${originKey(origin)}\0${fg}\0${bg}\0${needed}`, {
          check: 'contrast',
          message: `text ${quote(text)} has a contrast of ${floor2(ratio)}:1 (${fg} on ${bg}); WCAG 2.2 AA asks for ${needed}:1 for ${large ? 'large' : 'this size of'} text`,
          hint: `use a ${better.darker ? 'darker' : 'lighter'} text colour such as ${better.hex} (${floor2(better.ratio)}:1), or change the background`,
          ...(origin ? { origin } : {}),
        });
      }
    }
    if (context.fontPx < this.minimumFontPx && !context.script) {
      const origin = context.fontOrigin ?? context.origin;
      this.add(`font-size\0${originKey(origin)}\0${context.fontPx}`, {
        check: 'font-size',
        message: `text ${quote(text)} is set in ${round1(context.fontPx)}px, smaller than ${this.minimumFontPx}px`,
        hint: `use font-size="${this.minimumFontPx}px" or more (MJML's mj-text is 13px unless set, e.g. in <mj-attributes>)`,
        ...(origin ? { origin } : {}),
      });
    }
  }

  private visitImage(element: Element, context: Context): void {
    if (context.hidden || isTrackingPixel(element)) return;
    this.images++;
    if (!this.firstImageSeen) {
      this.firstImageSeen = true;
      this.firstImage = context.origin;
    }
    const alt = element.attribs.alt;
    const src = element.attribs.src ?? '';
    const where = context.origin ? { origin: context.origin } : {};
    const name = fileName(src);
    if (alt === undefined || (alt.trim() === '' && context.origin?.tag === 'mj-image' && !context.origin.attributes.has('alt'))) {
      this.add({
        check: 'alt-text',
        message: `an image has no alt text (${name}): screen readers and mail programs that block images show nothing in its place`,
        hint: 'describe it with alt="…"; write alt="" only for a decorative image that is not a link',
        ...where,
      });
      return;
    }
    if (alt.trim() === '') {
      if (context.link) context.link.decorativeImages++;
      return;
    }
    if (looksLikeFileName(alt)) {
      this.add({
        check: 'alt-text',
        message: `an image's alt text is a file name, "${alt.trim()}": that is what a screen reader will read out`,
        hint: 'describe what the image shows or says, e.g. alt="Hartmoor Constabulary crest"',
        ...where,
      });
    }
    context.link?.text.push(alt.trim());
  }

  private visitHeading(level: number, context: Context): void {
    const previous = this.previousHeading;
    this.previousHeading = level;
    if (previous === undefined || level <= previous + 1) return;
    this.add({
      check: 'heading-order',
      message: `a heading skips a level: <h${level}> follows <h${previous}>`,
      hint: `use <h${previous + 1}> here (style it to look as you wish), so that screen reader users, who move from heading to heading, do not think a section is missing`,
      ...(context.origin ? { origin: context.origin } : {}),
    });
  }

  private checkLink(link: LinkState): void {
    const where = link.origin ? { origin: link.origin } : {};
    const written = (link.label ?? link.text.join(' ')).replace(/\s+/g, ' ').trim();
    if (written === '') {
      const why = link.decorativeImages > 0 ? 'its only content is an image with alt=""' : 'it has no text';
      this.add({
        check: 'link-text',
        message: `a link to ${shortUrl(link.href)} has no name: ${why}, so a screen reader reads out only "link"`,
        hint: link.decorativeImages > 0 ? 'give the image an alt text that says where the link goes' : 'put text inside the link that says where it goes',
        ...where,
      });
      return;
    }
    if (this.vague.has(normaliseLinkText(written))) {
      this.add({
        check: 'link-text',
        message: `link text ${quote(written)} says nothing out of context (links are often read out as a list)`,
        hint: 'say where the link goes, e.g. "Report a hate crime online" instead of "click here"',
        ...where,
      });
    } else if (isBareUrl(written, link.href)) {
      this.add({
        check: 'link-text',
        message: `link text ${quote(written)} is a web address, which a screen reader spells out`,
        hint: 'use words that say where it goes, e.g. "Hartmoor Constabulary website"',
        ...where,
      });
    }
  }

  /** Cached per pair: a message has few colours and many text nodes (Color.js is ~50 µs a call). */
  private contrast(fg: Color, bg: Color): number {
    let row = this.contrasts.get(fg);
    if (!row) this.contrasts.set(fg, (row = new Map<Color, number>()));
    let ratio = row.get(bg);
    if (ratio === undefined) row.set(bg, (ratio = Color.contrast(over(fg, bg), bg, 'WCAG21')));
    return ratio;
  }

  private declarations(element: Element): ReadonlyMap<string, string> {
    const inline = element.attribs.style;
    if (this.rules.length === 0 && inline === undefined) return EMPTY;
    return cascade(element, this.rules, inline);
  }

  private color(value: string): Color | undefined {
    const key = value.trim().toLowerCase().replace(/\s*!important$/, '');
    let color = this.colors.get(key);
    if (color === undefined) {
      try {
        color = new Color(key).to('srgb');
      } catch {
        color = null;
      }
      this.colors.set(key, color);
    }
    return color ?? undefined;
  }

  /** One finding per key: by default the same message about the same element. */
  private add(keyOrFinding: string | AccessibilityFinding, given?: AccessibilityFinding): void {
    const finding = typeof keyOrFinding === 'string' ? given! : keyOrFinding;
    const key = typeof keyOrFinding === 'string' ? keyOrFinding : `${finding.check}\0${originKey(finding.origin)}\0${finding.message}`;
    if (!this.findings.has(key)) this.findings.set(key, finding);
  }
}

const EMPTY: ReadonlyMap<string, string> = new Map();

function originKey(origin: SourceOrigin | undefined): string {
  return origin ? `${origin.position.file}:${origin.position.line}:${origin.position.column}` : '';
}

function markerOf(element: Element): number | undefined {
  const data = element.attribs[MARKER_ATTRIBUTE];
  if (data !== undefined) return Number(data);
  const classes = element.attribs.class;
  if (classes === undefined || !classes.includes(MARKER_CLASS_PREFIX)) return undefined;
  for (const c of classes.split(/\s+/)) {
    if (c.startsWith(MARKER_CLASS_PREFIX)) {
      const n = Number(c.slice(MARKER_CLASS_PREFIX.length));
      if (Number.isInteger(n)) return n;
    }
  }
  return undefined;
}

function isHidden(element: Element, style: ReadonlyMap<string, string>): boolean {
  if (element.attribs.hidden !== undefined) return true;
  if (style.get('display')?.trim() === 'none') return true;
  if (style.get('visibility')?.trim() === 'hidden') return true;
  const opacity = style.get('opacity');
  if (opacity !== undefined && Number.parseFloat(opacity) === 0) return true;
  if (/^(hidden|clip)$/.test(style.get('overflow')?.trim() ?? '')) {
    for (const p of ['max-height', 'height', 'max-width', 'width']) {
      const v = style.get(p);
      if (v !== undefined && /^0(\.0+)?(px|em|rem|%)?$/.test(v.trim())) return true;
    }
  }
  return false;
}

function isTrackingPixel(element: Element): boolean {
  const { width, height } = element.attribs;
  return (width !== undefined && Number(width) <= 1) || (height !== undefined && Number(height) <= 1);
}

function parseFontSize(value: string, parentPx: number): number | undefined {
  const v = value.trim().toLowerCase();
  const keyword = FONT_KEYWORDS[v];
  if (keyword !== undefined) return keyword;
  if (v === 'smaller') return parentPx / 1.2;
  if (v === 'larger') return parentPx * 1.2;
  const m = /^(\d*\.?\d+)(px|pt|em|rem|%)?$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'pt':
      return (n * 4) / 3;
    case 'em':
      return n * parentPx;
    case 'rem':
      return n * 16;
    case '%':
      return (n / 100) * parentPx;
    default:
      return n;
  }
}

function isBold(weight: string, parentBold: boolean): boolean {
  const w = weight.trim().toLowerCase();
  if (w === 'bold' || w === 'bolder') return true;
  if (w === 'normal' || w === 'lighter') return false;
  const n = Number(w);
  return Number.isFinite(n) ? n >= 700 : parentBold;
}

/** A colour inside a shorthand such as `background: #fff url(a.png) no-repeat`. */
function colorToken(value: string, parse: (token: string) => Color | undefined): Color | undefined {
  for (const token of value.match(/[a-z-]+\([^)]*\)|[^\s]+/gi) ?? []) {
    if (/^url\(/i.test(token)) continue;
    const color = parse(token);
    if (color) return color;
  }
  return undefined;
}

/** fg painted over an opaque bg. */
function over(fg: Color, bg: Color): Color {
  const a = fg.alpha;
  if (a >= 1) return fg;
  const f = fg.coords;
  const b = bg.coords;
  return new Color('srgb', [0, 1, 2].map((i) => a * (f[i] ?? 0) + (1 - a) * (b[i] ?? 0)) as [number, number, number]);
}

/** The text colour moved towards black or white (keeping its hue) until it reaches the ratio. */
function betterColor(fg: Color, bg: Color, needed: number): { hex: string; ratio: number; darker: boolean } {
  const target = needed + 0.05;
  const towards = (l: number): Color => {
    const c = fg.to('oklch');
    c.set('l', l);
    return c.toGamut({ space: 'srgb' }).to('srgb');
  };
  const darker = Color.contrast(towards(0), bg, 'WCAG21') >= Color.contrast(towards(1), bg, 'WCAG21');
  const start = fg.to('oklch').coords[0] ?? 0.5;
  let near = start;
  let far = darker ? 0 : 1;
  for (let i = 0; i < 24; i++) {
    const mid = (near + far) / 2;
    if (Color.contrast(towards(mid), bg, 'WCAG21') >= target) far = mid;
    else near = mid;
  }
  const best = towards(far);
  return { hex: hex(best), ratio: Color.contrast(best, bg, 'WCAG21'), darker };
}

function hex(color: Color): string {
  return color.to('srgb').toString({ format: 'hex', collapse: false });
}

function floor2(n: number): string {
  return (Math.floor(n * 100) / 100).toFixed(2);
}

function round1(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function quote(text: string): string {
  return `"${text.length > 40 ? `${text.slice(0, 39).trimEnd()}…` : text}"`;
}

function primary(lang: string): string {
  return lang.trim().toLowerCase().split(/[-_]/)[0] ?? '';
}

function countWords(text: string): number {
  let n = 0;
  for (const word of text.split(' ')) if (/[\p{L}\p{N}]/u.test(word)) n++;
  return n;
}

function normaliseLinkText(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/^[\s.,:;!?…»«›‹→←>\-–—()[\]"'’‘“”]+|[\s.,:;!?…»«›‹→←>\-–—()[\]"'’‘“”]+$/g, '');
}

function isBareUrl(text: string, href: string): boolean {
  if (/^(https?:\/\/|www\.)\S+$/i.test(text)) return true;
  const bare = (s: string) => s.replace(/^https?:\/\//i, '').replace(/\/$/, '').toLowerCase();
  return /^https?:/i.test(href) && bare(text) === bare(href);
}

const IMAGE_FILE = /\.(png|jpe?g|gif|webp|svg|bmp|tiff?|heic|avif|ico)$/i;
const CAMERA_NAME = /^(img|dsc|dscn|dscf|pxl|image|photo|pic|screenshot|screen shot|scan)[\s_-]?\d+/i;

function looksLikeFileName(alt: string): boolean {
  const a = alt.trim();
  return (IMAGE_FILE.test(a) && !/\s\S+\s/.test(a)) || CAMERA_NAME.test(a);
}

function fileName(src: string): string {
  if (src === '') return 'no src';
  const path = src.split(/[?#]/)[0] ?? src;
  return path.slice(path.lastIndexOf('/') + 1) || src;
}

function shortUrl(href: string): string {
  return href.length > 60 ? `${href.slice(0, 59)}…` : href;
}

/* ---- A small cascade: enough for the <style> blocks MJML leaves in the head. ---- */

interface Compound {
  tag?: string;
  id?: string;
  classes: string[];
}

interface Rule {
  /** Right to left: the element itself first, then its ancestors (descendant or child). */
  compounds: Compound[];
  specificity: number;
  order: number;
  declarations: Map<string, { value: string; important: boolean }>;
}

/** Rules of <style> elements without a media query; anything we cannot match is left out. */
function parseStyleSheets(nodes: readonly ChildNode[]): Rule[] {
  const rules: Rule[] = [];
  const visit = (list: readonly ChildNode[]) => {
    for (const node of list) {
      if (!isTag(node)) continue;
      if (node.name === 'style') {
        if (node.attribs.media === undefined) parseStyleSheet(node.children.map((c) => (isText(c) ? c.data : '')).join(''), rules);
      } else if (node.name !== 'body') visit(node.children);
    }
  };
  visit(nodes);
  return rules;
}

function parseStyleSheet(css: string, rules: Rule[]): void {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, '');
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    if (open < 0) return;
    const prelude = text.slice(i, open).trim();
    if (prelude.startsWith('@')) {
      i = blockEnd(text, open);
      continue;
    }
    const close = text.indexOf('}', open);
    if (close < 0) return;
    const declarations = parseDeclarations(text.slice(open + 1, close));
    for (const selector of prelude.split(',')) {
      const compounds = parseSelector(selector.trim());
      if (compounds) rules.push({ compounds, specificity: specificity(compounds), order: rules.length, declarations });
    }
    i = close + 1;
  }
}

function blockEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i + 1;
  }
  return text.length;
}

function parseSelector(selector: string): Compound[] | undefined {
  const parts = selector.replace(/\s*>\s*/g, ' ').split(/\s+/).filter(Boolean);
  if (parts.length === 0) return undefined;
  const compounds: Compound[] = [];
  for (const part of parts.reverse()) {
    const m = /^(\*|[a-z][a-z0-9-]*)?((?:[.#][\w-]+)*)(?::link|:visited)?$/i.exec(part);
    if (!m) return undefined;
    const compound: Compound = { classes: [] };
    if (m[1] && m[1] !== '*') compound.tag = m[1].toLowerCase();
    for (const [, kind, name] of (m[2] ?? '').matchAll(/([.#])([\w-]+)/g)) {
      if (kind === '#') compound.id = name!;
      else compound.classes.push(name!);
    }
    compounds.push(compound);
  }
  return compounds;
}

function specificity(compounds: readonly Compound[]): number {
  let s = 0;
  for (const c of compounds) s += (c.id ? 10000 : 0) + c.classes.length * 100 + (c.tag ? 1 : 0);
  return s;
}

function parseDeclarations(block: string): Map<string, { value: string; important: boolean }> {
  const out = new Map<string, { value: string; important: boolean }>();
  for (const declaration of block.split(/;(?![^(]*\))/)) {
    const colon = declaration.indexOf(':');
    if (colon < 0) continue;
    const property = declaration.slice(0, colon).trim().toLowerCase();
    let value = declaration.slice(colon + 1).trim();
    const important = /!\s*important$/i.test(value);
    if (important) value = value.replace(/\s*!\s*important$/i, '');
    if (property !== '' && value !== '') out.set(property, { value, important });
  }
  return out;
}

function matches(element: Element, compound: Compound): boolean {
  if (compound.tag !== undefined && element.name.toLowerCase() !== compound.tag) return false;
  if (compound.id !== undefined && element.attribs.id !== compound.id) return false;
  if (compound.classes.length > 0) {
    const classes = (element.attribs.class ?? '').split(/\s+/);
    for (const c of compound.classes) if (!classes.includes(c)) return false;
  }
  return true;
}

function ruleMatches(element: Element, rule: Rule): boolean {
  const [self, ...ancestors] = rule.compounds;
  if (!self || !matches(element, self)) return false;
  let node = element.parent;
  for (const compound of ancestors) {
    while (node && !(isTag(node) && matches(node, compound))) node = node.parent;
    if (!node) return false;
    node = node.parent;
  }
  return true;
}

/** Declarations that apply to the element: stylesheet by specificity, then inline, then !important. */
function cascade(element: Element, rules: readonly Rule[], inline: string | undefined): Map<string, string> {
  const matched = rules.filter((r) => ruleMatches(element, r)).sort((a, b) => a.specificity - b.specificity || a.order - b.order);
  const inlineDeclarations = inline === undefined ? undefined : parseDeclarations(inline);
  const out = new Map<string, string>();
  const apply = (declarations: ReadonlyMap<string, { value: string; important: boolean }>, important: boolean) => {
    for (const [property, d] of declarations) if (d.important === important) out.set(property, d.value);
  };
  for (const r of matched) apply(r.declarations, false);
  if (inlineDeclarations) apply(inlineDeclarations, false);
  for (const r of matched) apply(r.declarations, true);
  if (inlineDeclarations) apply(inlineDeclarations, true);
  return out;
}
