import type { checkAccessibility } from './accessibility.js';
import { compareText, error, hasErrors, sortDiagnostics, warning, type Diagnostic } from './diagnostics.js';
import { parseFrontMatter, type FrontMatter, type FrontMatterField } from './front-matter.js';
import { findVariables, parseHandlebars, usesRawOutput, type Program, type VariableUse } from './handlebars-analysis.js';
import { HELPER_NAMES, createHandlebars, knownHelpersOnly, type HandlebarsInstance } from './helpers.js';
import { MappedSource } from './mapped-source.js';
import { checkTokensSurvived, scanStructure } from './mjml-structure.js';
import { describeStructure, type MessageStructure, type StructurePart } from './message-structure.js';
import { expandPartials, parsePartials, type ParsedPartial } from './partials.js';
import { plainTemplate } from './plain-template.js';
import { markSource, type SourceOrigin } from './source-markers.js';
import type { SourcePosition } from './mapped-source.js';
import { boundFor, sizeBound, type SizeBound } from './size-bound.js';
import { convertPerMessage, createConverter, deriveTextTemplate, type HtmlToText, type TextRenderer } from './text-part.js';

export type { VariableUse } from './handlebars-analysis.js';

export interface TemplateFile {
  /** Relative to the campaign folder; used in diagnostics. */
  path: string;
  text: string;
}

export interface TemplateInput {
  /** message.mjml */
  main: TemplateFile;
  /** Language code → message.<lang>.mjml */
  variants: Record<string, TemplateFile>;
  /** Partial name (file name without extension) → file. */
  partials: Record<string, TemplateFile>;
  /** Optional hand-written text part (message.txt.hbs). */
  textTemplate?: TemplateFile;
  /** Subject from bulletin.json, used when the front matter has none. */
  configSubject?: string;
  /** MJML's compiler; default: mjml, loaded into this thread. */
  mjml2html?: Mjml2Html;
  /**
   * Also compile a marked copy of each variant (one more MJML run each), so that
   * checkAccessibility can name template lines. validate and preview ask for it; send does not.
   */
  accessibility?: boolean;
  /** The main message's language (bulletin.json "language"); a variant's is in its file name. */
  language?: string;
}

export interface RenderedContent {
  /** One line, not HTML-escaped (it is a header). */
  subject: string;
  /** Plain text; the HTML carries it escaped in a hidden <mj-preview>. */
  preheader?: string;
  html: string;
  text: string;
  /** A value put a line break into the subject (flattened here; the planner reports it). */
  subjectLineBreak?: boolean;
}

export interface CompiledTemplate {
  /** Every top-level data variable the message, its variants, partials, subject, preheader and text part read. */
  variables: VariableUse[];
  /** Language codes with their own variant. */
  languages: string[];
  /** Render one recipient; `language` picks message.<language>.mjml, else the main message. */
  render(data: Record<string, unknown>, language?: string, options?: RenderOptions): RenderedContent;
  /**
   * At least as many UTF-8 bytes as this recipient's HTML has, without rendering it; undefined
   * when the template's size cannot be bounded that way (see size-bound.ts).
   */
  htmlSizeBound(data: Record<string, unknown>, language?: string): number | undefined;
  /** The blocks and partials of the variant `language` picks (versions of the message). */
  structure(language?: string): MessageStructure;
  /**
   * Accessibility and readability warnings for this recipient's message, each at the template
   * line of the element it concerns; [] unless compiled with `accessibility`.
   */
  checkAccessibility(data: Record<string, unknown>, language?: string): Diagnostic[];
}

export interface RenderOptions {
  /** false: skip the plain-text part (validate checks without it); text is then ''. */
  text?: boolean;
  /** false: skip the HTML too (a check that has its size bound already); html is then ''. */
  html?: boolean;
  /**
   * false: skip the subject where only a value could break it onto two lines, and no value
   * has a line break (the caller knows); subject is then ''.
   */
  subject?: boolean;
}

export const CONFIG_FILE_FOR_SUBJECT = 'bulletin.json';

type Render = (data: Record<string, unknown>) => string;

interface CompiledVariant {
  html: Render;
  htmlBound?: SizeBound;
  text: TextRenderer;
  subject: Render;
  /** The subject's template has no line break anywhere, so only a value can put one in. */
  subjectWrittenOnOneLine: boolean;
  preheader?: Render;
  structure: MessageStructure;
  accessibility?: MarkedVariant;
}

/** The marked HTML of a variant (source-markers.ts), compiled by Handlebars at its first check. */
interface MarkedVariant {
  html: string;
  render?: Render;
  origins: SourceOrigin[];
  root: SourcePosition;
  language?: string;
}

/** Handlebars-level pieces shared by all variants. */
interface Shared {
  hbs: HandlebarsInstance;
  partials: ReadonlyMap<string, ParsedPartial>;
  convert: HtmlToText;
  mjml2html: Mjml2Html;
  handTextPart?: Render;
  handText?: FieldTemplate;
  mainSubject?: FieldTemplate;
  variables: VariableUse[];
  diagnostics: Diagnostic[];
  accessibility: boolean;
}

export type Mjml2Html = (mjml: string, options: { validationLevel: 'soft' }) => Promise<{ html: string; errors: { line: number; message: string; tagName: string }[] }>;

const KNOWN_HELPERS_ONLY = knownHelpersOnly();

/**
 * Compile the message once: partials expanded, MJML run once per language variant, Handlebars
 * compiled once. Rendering a recipient afterwards is one template call (plus the text part),
 * without Handlebars where the template has only values and if/unless blocks (plain-template.ts).
 * Every problem found is returned as a diagnostic; `template` is set only when there is no error.
 */
export async function compileTemplate(input: TemplateInput): Promise<{ template?: CompiledTemplate; diagnostics: Diagnostic[] }> {
  const hbs = createHandlebars();
  const { partials, diagnostics } = parsePartials(hbs, input.partials);
  const mjml2html = input.mjml2html ?? (await import('mjml')).default;
  // The checks' libraries (colour, HTML parser) load while MJML compiles in its thread: validate
  // does not wait for them, and a send, which does not check, never loads them.
  const checker = input.accessibility ? import('./accessibility.js') : undefined;
  const shared: Shared = { hbs, partials, convert: createConverter(), mjml2html, variables: [], diagnostics, accessibility: checker !== undefined };

  if (input.textTemplate) {
    const handText = compileField(shared, MappedSource.fromFile(input.textTemplate.text, input.textTemplate.path), true);
    if (handText) {
      shared.handTextPart = handText.render;
      shared.handText = handText;
    }
  }

  const main = await compileVariant(shared, input.main, input.configSubject, true, input.language);
  const variants = new Map<string, CompiledVariant | undefined>();
  for (const [language, file] of Object.entries(input.variants)) {
    variants.set(language.toLowerCase(), await compileVariant(shared, file, input.configSubject, false, language));
  }

  const result = { diagnostics: sortDiagnostics(unique(shared.diagnostics)) };
  if (!main || hasErrors(result.diagnostics)) return result;
  const compiled = new Map<string, CompiledVariant>();
  for (const [language, variant] of variants) if (variant) compiled.set(language, variant);
  const check = checker && (await checker).checkAccessibility;

  const template: CompiledTemplate = {
    variables: uniqueVariables(shared.variables),
    languages: [...compiled.keys()],
    render(data, language, options) {
      return renderVariant(variantFor(language), data, { html: options?.html ?? true, text: options?.text ?? true, subject: options?.subject ?? true });
    },
    htmlSizeBound(data, language) {
      const bound = variantFor(language).htmlBound;
      return bound && boundFor(bound, data);
    },
    structure(language) {
      return variantFor(language).structure;
    },
    checkAccessibility(data, language) {
      const marked = variantFor(language).accessibility;
      if (!marked || !check) return [];
      marked.render ??= compileMarked(hbs, marked.html);
      return accessibilityDiagnostics(check, marked, marked.render(data));
    },
  };
  const fallback = main;
  function variantFor(language: string | undefined): CompiledVariant {
    return (language && compiled.get(language.trim().toLowerCase())) || fallback;
  }
  return { template, diagnostics: result.diagnostics };
}

function renderVariant(variant: CompiledVariant, data: Record<string, unknown>, parts: Required<RenderOptions>): RenderedContent {
  const html = parts.html || parts.text ? variant.html(data) : '';
  const subject = parts.subject || !variant.subjectWrittenOnOneLine ? variant.subject(data).trim() : '';
  const content: RenderedContent = { subject: oneLine(subject), html: parts.html ? html : '', text: parts.text ? variant.text(data, html) : '' };
  // A line break here came from a value (header injection) or from the subject as written.
  if (/[\r\n]/.test(subject)) content.subjectLineBreak = true;
  // The preheader is part of the HTML: a check that skips the HTML has no use for it.
  if (variant.preheader && parts.html) content.preheader = oneLine(variant.preheader(data));
  return content;
}

/** A subject is a header: a value with a line break must not start a new header. */
function oneLine(text: string): string {
  // Most subjects have only single spaces: test before building a new string.
  return /[^\S ]| {2}/.test(text) ? text.replace(/\s+/g, ' ').trim() : text.trim();
}

interface FieldTemplate {
  render: Render;
  writtenOnOneLine: boolean;
  ast: Program;
  source: MappedSource;
}

/** A small Handlebars template (subject, preheader, text part): parsed, analysed, compiled. */
function compileField(shared: Shared, source: MappedSource, noEscape: boolean): FieldTemplate | undefined {
  const parsed = parseHandlebars(shared.hbs, source);
  shared.diagnostics.push(...parsed.diagnostics);
  if (!parsed.ast) return undefined;
  const analysis = findVariables(parsed.ast, source, HELPER_NAMES);
  shared.variables.push(...analysis.variables);
  shared.diagnostics.push(...analysis.diagnostics);
  if (analysis.diagnostics.length > 0) return undefined;
  const writtenOnOneLine = !/[\r\n]/.test(source.text.trim());
  const plain = plainTemplate(parsed.ast, HELPER_NAMES, { escape: !noEscape });
  const { ast } = parsed;
  if (plain) return { render: plain, writtenOnOneLine, ast, source };
  const render = shared.hbs.compile(source.text, { noEscape, strict: false, ...KNOWN_HELPERS_ONLY });
  return { render: (data) => render(data), writtenOnOneLine, ast, source };
}

function fieldSource(field: FrontMatterField): MappedSource {
  return MappedSource.fromFile(field.text, field.position.file, field.position.line, field.position.column);
}

/**
 * Subject precedence: the file's own front matter; for a language variant, the main message's
 * subject; then bulletin.json's. A missing subject is reported once, on the main message.
 */
function subjectFor(shared: Shared, file: TemplateFile, front: FrontMatter, configSubject: string | undefined, isMain: boolean): FieldTemplate | undefined {
  const own = front.subject;
  // A subject that is written but invalid has been reported already.
  if (!own && front.keys.has('subject')) return undefined;
  if (own) {
    const subject = compileField(shared, fieldSource(own), true);
    if (isMain) shared.mainSubject = subject;
    return subject;
  }
  if (!isMain) return shared.mainSubject;
  if (configSubject !== undefined) {
    shared.mainSubject = compileField(shared, MappedSource.fromFile(configSubject, CONFIG_FILE_FOR_SUBJECT), true);
    return shared.mainSubject;
  }
  shared.diagnostics.push(error(file.path, 1, `no subject: add \`subject:\` to the front matter of ${file.path}`, 'e.g. a first line `---`, then `subject: "Update for {{school_name}}"`, then `---`; or set "subject" in bulletin.json'));
  return undefined;
}

/** `language`: what the variant is written in; undefined when nobody said (only a missing lang is reported then). */
async function compileVariant(shared: Shared, file: TemplateFile, configSubject: string | undefined, isMain: boolean, language: string | undefined): Promise<CompiledVariant | undefined> {
  const errorsBefore = countErrors(shared.diagnostics);
  const front = parseFrontMatter(file.text, file.path);
  shared.diagnostics.push(...front.diagnostics);
  const subject = subjectFor(shared, file, front, configSubject, isMain);
  const preheaderText = front.preheader ? compileField(shared, fieldSource(front.preheader), true) : undefined;

  const html = await compileHtml(shared, file, front.body, front.preheader);
  if (!html || !subject || countErrors(shared.diagnostics) > errorsBefore) return undefined;

  const parts: StructurePart[] = [{ part: 'subject', ast: subject.ast, source: subject.source }];
  if (preheaderText) parts.push({ part: 'preheader', ast: preheaderText.ast, source: preheaderText.source });
  parts.push({ part: 'message', ast: html.ast, source: front.body });
  if (shared.handText) parts.push({ part: 'text', ast: shared.handText.ast, source: shared.handText.source });
  const structure = describeStructure(shared.hbs, parts, shared.partials);
  const variant: CompiledVariant = { html: html.render, text: html.text, subject: subject.render, subjectWrittenOnOneLine: subject.writtenOnOneLine, structure };
  if (html.bound) variant.htmlBound = html.bound;
  if (preheaderText) variant.preheader = preheaderText.render;
  if (html.marked) variant.accessibility = language === undefined ? html.marked : { ...html.marked, language };
  return variant;
}

async function compileHtml(
  shared: Shared,
  file: TemplateFile,
  body: MappedSource,
  preheader: FrontMatterField | undefined,
): Promise<{ render: Render; text: TextRenderer; bound?: SizeBound; marked?: MarkedVariant; ast: Program } | undefined> {
  const { hbs, diagnostics } = shared;
  const parsed = parseHandlebars(hbs, body);
  diagnostics.push(...parsed.diagnostics);
  if (!parsed.ast) return undefined;

  const expanded = expandPartials(body, parsed.ast, shared.partials, diagnostics);
  // Variables are read from the expanded message, so a partial used inside {{#each}} is
  // analysed in that context; positions still point into the partial's own file.
  const expandedParse = parseHandlebars(hbs, expanded);
  diagnostics.push(...expandedParse.diagnostics);
  if (!expandedParse.ast) return undefined;
  const analysis = findVariables(expandedParse.ast, expanded, HELPER_NAMES);
  shared.variables.push(...analysis.variables);
  diagnostics.push(...analysis.diagnostics);

  const withPreview = preheader ? injectPreview(expanded, preheader, file, diagnostics) : expanded;
  const structure = scanStructure(withPreview);
  diagnostics.push(...structure.diagnostics);
  const prepared = withPreview.splice(structure.edits);

  let mjml: Awaited<ReturnType<Mjml2Html>>;
  try {
    mjml = await shared.mjml2html(prepared.text, { validationLevel: 'soft' });
  } catch (e) {
    diagnostics.push(error(file.path, body.locate(0).line, `MJML: ${e instanceof Error ? e.message : String(e)}`, 'the message must be one <mjml> element containing <mj-body>'));
    return undefined;
  }
  diagnostics.push(...mjmlDiagnostics(prepared, mjml.errors, diagnostics));
  diagnostics.push(...checkTokensSurvived(withPreview, structure.tokens, mjml.html));
  if (hasErrors(diagnostics)) return undefined;

  const render = hbs.compile(mjml.html, { strict: false, ...KNOWN_HELPERS_ONLY });
  try {
    // Handlebars compiles on first use; do it now so a problem is a diagnostic, not a crash mid-send.
    render({});
  } catch (e) {
    diagnostics.push(error(file.path, undefined, `the HTML produced by MJML is not a valid Handlebars template: ${e instanceof Error ? e.message : String(e)}`));
    return undefined;
  }
  const text = shared.handTextPart
    ? ((data: Record<string, unknown>) => shared.handTextPart!(data))
    : chooseTextRenderer(shared, mjml.html, usesRawOutput(expandedParse.ast));
  const ast = hbs.parse(mjml.html);
  const bound = sizeBound(ast);
  const marked = shared.accessibility ? await compileMarkedHtml(shared, prepared, file, body) : undefined;
  return { render: plainTemplate(ast, HELPER_NAMES, { escape: true }) ?? ((data) => render(data)), text, ...(bound ? { bound } : {}), ...(marked ? { marked } : {}), ast: parsed.ast };
}

/**
 * The same message with every element marked (source-markers.ts), through MJML once more, for
 * the accessibility checks only. A failure here loses the checks, never the message.
 */
async function compileMarkedHtml(shared: Shared, prepared: MappedSource, file: TemplateFile, body: MappedSource): Promise<MarkedVariant | undefined> {
  const marked = markSource(prepared);
  try {
    const { html } = await shared.mjml2html(marked.text, { validationLevel: 'soft' });
    return { html, origins: marked.origins, root: marked.root ?? { ...body.locate(0), file: file.path } };
  } catch {
    return undefined;
  }
}

function compileMarked(hbs: HandlebarsInstance, html: string): Render {
  const render = hbs.compile(html, { strict: false, ...KNOWN_HELPERS_ONLY });
  return (data) => render(data);
}

function accessibilityDiagnostics(check: typeof checkAccessibility, marked: MarkedVariant, html: string): Diagnostic[] {
  const findings = check(html, { origins: marked.origins, ...(marked.language !== undefined ? { expectedLanguage: marked.language } : {}) });
  return findings.map((f) => {
    const at = f.origin?.position ?? marked.root;
    return { ...warning(at.file, at.line, `accessibility: ${f.message}`, f.hint, at.column), check: `accessibility/${f.check}` };
  });
}

/** Chosen (and the text template derived, ~25 ms) at the first text part rendered: validate renders none. */
function chooseTextRenderer(shared: Shared, htmlTemplate: string, rawOutput: boolean): TextRenderer {
  let chosen: TextRenderer | undefined;
  const choose = (): TextRenderer => {
    const perMessage = convertPerMessage(shared.convert);
    return (!rawOutput && deriveTextTemplate(shared.hbs, htmlTemplate)) || perMessage;
  };
  return (data, html) => (chosen ??= choose())(data, html);
}

/**
 * The preheader from front matter becomes an <mj-preview> (MJML hides it at the top of the
 * HTML). Its literal text is escaped for XML; its {{…}} are escaped by Handlebars at render.
 */
function injectPreview(source: MappedSource, preheader: FrontMatterField, file: TemplateFile, diagnostics: Diagnostic[]): MappedSource {
  const text = source.text;
  if (/<mj-preview\b/.test(text)) {
    diagnostics.push(warning(file.path, preheader.position.line, 'the front matter `preheader:` is ignored because the message has its own <mj-preview>', 'keep one of the two'));
    return source;
  }
  const preview = MappedSource.concat([
    MappedSource.synthetic('<mj-preview>', preheader.position),
    MappedSource.fromFile(escapeXmlText(preheader.text), preheader.position.file, preheader.position.line, preheader.position.column),
    MappedSource.synthetic('</mj-preview>', preheader.position),
  ]);
  const head = /<mj-head\b[^>]*>/.exec(text);
  if (head) {
    const at = head.index + head[0].length;
    return source.splice([{ start: at, end: at, insert: preview }]);
  }
  const root = /<mjml\b[^>]*>/.exec(text);
  if (!root) return source;
  const at = root.index + root[0].length;
  const headWrapped = MappedSource.concat([MappedSource.synthetic('<mj-head>', preheader.position), preview, MappedSource.synthetic('</mj-head>', preheader.position)]);
  return source.splice([{ start: at, end: at, insert: headWrapped }]);
}

/** Escape `&` and `<` outside `{{…}}`, leaving the Handlebars expressions intact. */
function escapeXmlText(text: string): string {
  return text
    .split(/(\{\{[\s\S]*?\}\})/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

function mjmlDiagnostics(prepared: MappedSource, errors: readonly { line: number; message: string; tagName: string }[], existing: readonly Diagnostic[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const e of errors) {
    const at = prepared.locateLine(e.line);
    // A Handlebars value in a typed attribute is already reported with a better message.
    if (/\{\{|\}\}/.test(e.message) && existing.some((d) => d.file === at.file && d.line === at.line && d.severity === 'error')) continue;
    out.push(error(at.file, at.line, `MJML <${e.tagName}>: ${e.message.trim()}`, mjmlHint(e.message)));
  }
  return out;
}

function mjmlHint(message: string): string | undefined {
  if (message.includes("doesn't exist or is not registered")) return 'check the element name against https://documentation.mjml.io';
  if (message.includes('is illegal')) return 'remove the attribute, or check its spelling';
  if (message.includes('{{')) return 'Handlebars may only stand in free-text attributes (href, src, alt, title) and element content';
  return undefined;
}

function countErrors(diagnostics: readonly Diagnostic[]): number {
  return diagnostics.filter((d) => d.severity === 'error').length;
}

function unique(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.file}:${d.line}:${d.column}:${d.severity}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function uniqueVariables(variables: VariableUse[]): VariableUse[] {
  const seen = new Set<string>();
  return variables
    .filter((v) => {
      const key = `${v.name}\0${v.file}:${v.line}:${v.column}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => compareText(a.file, b.file) || a.line - b.line || a.column - b.column);
}
