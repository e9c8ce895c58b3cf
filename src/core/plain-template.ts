import Handlebars from 'handlebars';
import type { Program } from './handlebars-analysis.js';

export type PlainRender = (data: Record<string, unknown>) => string;

export interface PlainOptions {
  /** Write `{{x}}` HTML-escaped, as Handlebars does without `noEscape` (`{{{x}}}` never is). */
  escape?: boolean;
  /**
   * Block helpers written here instead: name → what the helper returns, given its block and its
   * `{{else}}` part rendered with the same data (the helper is called without parameters).
   */
  blocks?: Readonly<Record<string, (fn: string, inverse: string) => string>>;
  /** Applied to the text of each value written unescaped, as it is written. */
  value?: (text: string) => string;
}

type Data = Record<string, unknown>;
type Part = string | ((data: Data) => string);

/**
 * A template of text, plain values (`Statement to {{school}}`) and `{{#if name}}` /
 * `{{#unless name}}` blocks (with `{{else}}`, `{{else if …}}`), rendered without Handlebars.
 * Each top-level Handlebars call first wraps every registered helper anew and builds its
 * property-access tables (~1.8 µs), and every message renders up to four templates: subject,
 * preheader, HTML and text. This writes each part in turn instead.
 *
 * Gives what Handlebars compiled with `strict: false` gives: a value read from the data's own
 * properties, written as `'' + value` (HTML-escaped by Handlebars' own escapeExpression when
 * `escape` is set), and nothing for null or a missing one; a block taken when its value is
 * truthy and not an empty array, as Handlebars' `if` decides — except that two numbers starting
 * the template or a block side by side, unescaped, are written one after the other, where
 * Handlebars adds them up (`{{a}}{{b}}` gives 12, not 3, for 1 and 2). A message's data never
 * meets that: CSV values and bulletin.json defaults are always text.
 * Undefined for anything else — another block or helper, a path with `.`, `../` or `@`, a name
 * that is also a helper, a hash, block parameters — which Handlebars then renders.
 */
export function plainTemplate(ast: Program, helpers: ReadonlySet<string>, options: PlainOptions = {}): PlainRender | undefined {
  const parts = partsOf(ast, helpers, options);
  return parts && ((data) => write(parts, data));
}

function write(parts: readonly Part[], data: Data): string {
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : part(data);
  return out;
}

function partsOf(program: Program | undefined, helpers: ReadonlySet<string>, options: PlainOptions): Part[] | undefined {
  if (!program) return [];
  if (program.blockParams && program.blockParams.length > 0) return undefined;
  const parts: Part[] = [];
  for (const node of program.body) {
    const part = partOf(node, helpers, options);
    if (part === undefined) return undefined;
    if (part !== '') parts.push(part);
  }
  return parts;
}

function partOf(node: hbs.AST.Statement, helpers: ReadonlySet<string>, options: PlainOptions): Part | undefined {
  switch (node.type) {
    case 'ContentStatement':
      return (node as hbs.AST.ContentStatement).value;
    case 'CommentStatement':
      return '';
    case 'MustacheStatement': {
      const mustache = node as hbs.AST.MustacheStatement;
      const name = plainName(mustache, helpers);
      if (name === undefined) return undefined;
      if (options.escape && mustache.escaped) return (data) => Handlebars.Utils.escapeExpression(valueOf(data, name) as string);
      const { value } = options;
      return value ? (data) => value(valueText(data, name)) : (data) => valueText(data, name);
    }
    case 'BlockStatement':
      return blockPart(node as hbs.AST.BlockStatement, helpers, options);
    default:
      return undefined;
  }
}

/** `{{#if name}}`, `{{#unless name}}`, or one of `options.blocks`; undefined for any other block. */
function blockPart(node: hbs.AST.BlockStatement, helpers: ReadonlySet<string>, options: PlainOptions): Part | undefined {
  const helper = singleName(node.path);
  const fn = partsOf(node.program, helpers, options);
  const inverse = partsOf(node.inverse, helpers, options);
  if (helper === undefined || node.hash || !fn || !inverse) return undefined;
  const written = options.blocks && Object.hasOwn(options.blocks, helper) ? options.blocks[helper] : undefined;
  if (written) return node.params.length === 0 ? (data) => written(write(fn, data), write(inverse, data)) : undefined;
  if ((helper !== 'if' && helper !== 'unless') || node.params.length !== 1) return undefined;
  const name = singleName(node.params[0]!);
  if (name === undefined || helpers.has(name)) return undefined;
  const [taken, otherwise] = helper === 'if' ? [fn, inverse] : [inverse, fn];
  return (data) => write(isTrue(valueOf(data, name)) ? taken : otherwise, data);
}

/** The name a `{{name}}` reads, if that is all it does. */
function plainName(node: hbs.AST.MustacheStatement, helpers: ReadonlySet<string>): string | undefined {
  if (node.params.length > 0 || node.hash) return undefined;
  const name = singleName(node.path);
  return name === undefined || helpers.has(name) ? undefined : name;
}

/** `name`: one segment, no `this`, `../` or `@`. */
function singleName(expression: hbs.AST.Expression): string | undefined {
  if (expression.type !== 'PathExpression') return undefined;
  const path = expression as hbs.AST.PathExpression;
  return !path.data && path.depth === 0 && path.parts.length === 1 ? path.parts[0] : undefined;
}

/**
 * As Handlebars reads a value: its own properties only (an inherited one, such as `toString`,
 * is denied). A function — which CSV and JSON data never hold — is not called here.
 */
function valueOf(data: Data, name: string): unknown {
  return Object.hasOwn(data, name) ? data[name] : undefined;
}

function valueText(data: Data, name: string): string {
  const value = valueOf(data, name);
  return value === undefined || value === null ? '' : `${value as string}`;
}

/** Handlebars' `if`: false for a falsy value (0 included) and for an empty array. */
function isTrue(value: unknown): boolean {
  return Boolean(value) && !(Array.isArray(value) && value.length === 0);
}
