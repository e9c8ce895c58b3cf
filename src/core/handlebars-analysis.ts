import { closest, error, type Diagnostic } from './diagnostics.js';
import type { HandlebarsInstance } from './helpers.js';
import type { MappedSource, SourcePosition } from './mapped-source.js';

export type Program = hbs.AST.Program;
type Node = hbs.AST.Node;

/** One place a template reads a top-level data value (a CSV column). */
export interface VariableUse {
  name: string;
  file: string;
  line: number;
  column: number;
  /** Used as the argument of a block (`{{#if x}}`, `{{#each x}}`): blank is a normal case there. */
  block: boolean;
  /** The helper the value is passed to, if any (`{{default x "…"}}` → "default"). */
  helper?: string;
  /** Inside a block (`{{#if liaison}}…{{x}}…{{/if}}`): shown only when the block says so. */
  conditional?: boolean;
}

/** Parse Handlebars; a syntax error becomes a diagnostic at the user's file, line and column. */
export function parseHandlebars(hbs: HandlebarsInstance, source: MappedSource): { ast?: Program; diagnostics: Diagnostic[] } {
  try {
    return { ast: hbs.parse(source.text), diagnostics: [] };
  } catch (e) {
    return { diagnostics: [syntaxError(hbs, source, e)] };
  }
}

export function positionOf(source: MappedSource, node: Node, end = false): SourcePosition {
  const at = end ? node.loc.end : node.loc.start;
  return source.locate(source.offsetOf(at.line, at.column));
}

export function offsetsOf(source: MappedSource, node: Node): { start: number; end: number } {
  return { start: source.offsetOf(node.loc.start.line, node.loc.start.column), end: source.offsetOf(node.loc.end.line, node.loc.end.column) };
}

// ---------------------------------------------------------------- syntax errors

interface JisonHash {
  token?: string | null;
  text?: string;
  line?: number;
  loc?: { last_line: number; last_column: number };
}

function syntaxError(hbs: HandlebarsInstance, source: MappedSource, e: unknown): Diagnostic {
  const message = e instanceof Error ? e.message : String(e);
  const located = e as { lineNumber?: number; column?: number };
  // Semantic errors ("if doesn't match each - 3:4") carry their own position.
  if (typeof located.lineNumber === 'number') {
    const at = source.locate(source.offsetOf(located.lineNumber, located.column ?? 0));
    const [what] = message.split(' - ');
    const mismatch = /^(\S+) doesn't match (\S+)$/.exec(what ?? '');
    const text = mismatch ? `{{/${mismatch[2]}}} does not close {{#${mismatch[1]}}}` : (what ?? message);
    return error(at.file, at.line, `Handlebars: ${text}`, 'every {{#name}} needs its own {{/name}}, innermost first', at.column);
  }
  const hash = reparseForLocation(hbs, source.text);
  if (hash?.token === 'EOF') {
    const open = lastUnclosedBlock(source.text);
    const at = source.locate(open?.offset ?? source.text.length);
    const name = open?.name ?? 'block';
    return error(at.file, at.line, `Handlebars: {{#${name}}} is never closed`, `add {{/${name}}} where the block should end`, at.column);
  }
  const lineColumn = hash?.loc ? source.offsetOf(hash.loc.last_line, hash.loc.last_column) : source.offsetOf((hash?.line ?? 0) + 1, 0);
  const at = source.locate(lineColumn);
  if (hash?.token === 'OPEN_ENDBLOCK') {
    return error(at.file, at.line, 'Handlebars: a closing {{/…}} without its opening {{#…}}', 'remove it, or add the missing {{#if …}} / {{#each …}} above', at.column);
  }
  const near = hash?.text ? ` near "${hash.text}"` : '';
  return error(
    at.file,
    at.line,
    `Handlebars syntax error${near}`,
    'check the {{…}} here: every {{ needs }}, text arguments need matching quotes, and inside an attribute use single quotes',
    at.column,
  );
}

interface JisonParser {
  yy: Record<string, unknown>;
  parse(text: string): unknown;
}

/**
 * Handlebars throws parse errors as plain text with a 20-character excerpt. Parsing again with
 * a private parser instance and our own error hook gives the exact line and column.
 */
function reparseForLocation(hbs: HandlebarsInstance, text: string): JisonHash | undefined {
  // `Parser` is on every Handlebars instance but missing from its type declarations.
  const shared = (hbs as unknown as { Parser?: { yy?: Record<string, unknown>; Parser?: new () => JisonParser } }).Parser;
  if (!shared?.Parser || !shared.yy) return undefined;
  const parser = new shared.Parser();
  let found: JisonHash | undefined;
  parser.yy = Object.create(shared.yy) as Record<string, unknown>;
  parser.yy.parseError = (message: string, hash: JisonHash) => {
    found = hash;
    throw new Error(message);
  };
  try {
    parser.parse(text);
  } catch {
    // expected: we only wanted the hash
  }
  return found;
}

function lastUnclosedBlock(text: string): { name: string; offset: number } | undefined {
  const stack: { name: string; offset: number }[] = [];
  for (const m of text.matchAll(/\{\{~?\s*([#^/])\s*(?:\*|>)?\s*([^\s}~()]+)/g)) {
    if (m[1] === '/') stack.pop();
    else stack.push({ name: m[2]!, offset: m.index });
  }
  return stack.at(-1);
}

// ---------------------------------------------------------------- variables

/** Blocks whose body runs with a new `this`: paths inside are relative to the item. */
const CONTEXT_BLOCKS = new Set(['each', 'with']);

interface Scope {
  /** How many context-changing blocks we are inside; 0 means paths read the recipient's data. */
  depth: number;
  locals: ReadonlySet<string>;
  /** Inside any block: what is read here may not be shown at all. */
  conditional?: boolean;
}

export interface VariableAnalysis {
  variables: VariableUse[];
  diagnostics: Diagnostic[];
}

/**
 * List the data variables a template reads, with their positions, and report calls to helpers
 * that do not exist (Handlebars would only fail at render time, recipient by recipient).
 */
export function findVariables(ast: Program, source: MappedSource, helpers: ReadonlySet<string>): VariableAnalysis {
  const result: VariableAnalysis = { variables: [], diagnostics: [] };

  const record = (path: hbs.AST.PathExpression, scope: Scope, block: boolean, helper?: string): void => {
    const name = topLevelName(path, scope);
    if (name === undefined) return;
    const at = positionOf(source, path);
    const use: VariableUse = { name, file: at.file, line: at.line, column: at.column, block };
    if (helper !== undefined) use.helper = helper;
    if (scope.conditional) use.conditional = true;
    result.variables.push(use);
  };

  const value = (node: Node, scope: Scope, block: boolean, helper?: string): void => {
    if (node.type === 'PathExpression') record(node as hbs.AST.PathExpression, scope, block, helper);
    else if (node.type === 'SubExpression') call(node as hbs.AST.SubExpression, scope);
  };

  const args = (node: { params: Node[]; hash?: hbs.AST.Hash }, scope: Scope, block: boolean, helper: string): void => {
    for (const param of node.params) value(param, scope, block, helper);
    for (const pair of node.hash?.pairs ?? []) value(pair.value, scope, false, helper);
  };

  const checkHelper = (path: hbs.AST.PathExpression): void => {
    if (helpers.has(path.original)) return;
    const at = positionOf(source, path);
    const guess = closest(path.original, [...helpers]);
    result.diagnostics.push(
      error(at.file, at.line, `unknown helper "${path.original}"`, guess ? `did you mean "${guess}"?` : `available helpers: ${[...helpers].join(', ')}`, at.column),
    );
  };

  /** `{{name}}`, `{{helper a b}}` or `(helper a b)`. */
  const call = (node: hbs.AST.MustacheStatement | hbs.AST.SubExpression, scope: Scope): void => {
    if (node.path.type !== 'PathExpression') return;
    const path = node.path as hbs.AST.PathExpression;
    const hasArgs = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
    if (!hasArgs && !helpers.has(path.original)) {
      record(path, scope, false);
      return;
    }
    checkHelper(path);
    args(node, scope, false, path.original);
  };

  const block = (node: hbs.AST.BlockStatement, scope: Scope): void => {
    const path = node.path;
    const hasArgs = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
    let inner: Scope;
    if (hasArgs || helpers.has(path.original)) {
      checkHelper(path);
      args(node, scope, true, path.original);
      inner = CONTEXT_BLOCKS.has(path.original) ? enter(scope, node.program) : withLocals(scope, node.program);
    } else {
      // `{{#name}}…{{/name}}`: a Mustache-style section over a value, which becomes `this`.
      record(path, scope, true);
      inner = enter(scope, node.program);
    }
    walk(node.program, { ...inner, conditional: true });
    // `{{else}}` of an #each or #with runs in the outer context.
    if (node.inverse) walk(node.inverse, { ...scope, conditional: true });
  };

  const walk = (program: Program, scope: Scope): void => {
    for (const statement of program.body) {
      if (statement.type === 'MustacheStatement') call(statement as hbs.AST.MustacheStatement, scope);
      else if (statement.type === 'BlockStatement') block(statement as hbs.AST.BlockStatement, scope);
    }
  };

  walk(ast, { depth: 0, locals: new Set() });
  return result;
}

function enter(scope: Scope, program: Program | undefined): Scope {
  return { depth: scope.depth + 1, locals: new Set([...scope.locals, ...(program?.blockParams ?? [])]) };
}

function withLocals(scope: Scope, program: Program | undefined): Scope {
  const params = program?.blockParams ?? [];
  return params.length === 0 ? scope : { depth: scope.depth, locals: new Set([...scope.locals, ...params]) };
}

/** The recipient-data name a path reads, or undefined for `this`, `@index`, item-relative paths and block params. */
function topLevelName(path: hbs.AST.PathExpression, scope: Scope): string | undefined {
  if (path.data) return path.parts[0] === 'root' || path.original.startsWith('@root') ? path.parts[1] : undefined;
  const first = path.parts[0];
  if (first === undefined) return undefined;
  if (path.depth === 0 && scope.locals.has(first)) return undefined;
  return scope.depth - path.depth === 0 ? first : undefined;
}

// ---------------------------------------------------------------- partials and raw output

export interface PartialUse {
  node: hbs.AST.PartialStatement | hbs.AST.PartialBlockStatement;
  /** The partial's name, or undefined for a dynamic `{{> (expression)}}`. */
  name?: string;
}

/** Every `{{> name}}` in a template, at any depth. */
export function findPartials(ast: Program): PartialUse[] {
  const found: PartialUse[] = [];
  const walk = (program: Program | undefined): void => {
    for (const statement of program?.body ?? []) {
      if (statement.type === 'PartialStatement' || statement.type === 'PartialBlockStatement') {
        const node = statement as hbs.AST.PartialStatement;
        const use: PartialUse = { node };
        if (node.name.type === 'PathExpression') use.name = (node.name).original;
        found.push(use);
        if (statement.type === 'PartialBlockStatement') walk((statement as hbs.AST.PartialBlockStatement).program);
      } else if (statement.type === 'BlockStatement' || statement.type === 'DecoratorBlock') {
        const block = statement as hbs.AST.BlockStatement;
        walk(block.program);
        walk(block.inverse);
      }
    }
  };
  walk(ast);
  return found;
}

/** True when the template writes a value unescaped (`{{{x}}}` or `{{& x}}`). */
export function usesRawOutput(ast: Program): boolean {
  const walk = (program: Program | undefined): boolean =>
    (program?.body ?? []).some((statement) => {
      if (statement.type === 'MustacheStatement') return !(statement as hbs.AST.MustacheStatement).escaped;
      if (statement.type === 'BlockStatement') {
        const block = statement as hbs.AST.BlockStatement;
        return walk(block.program) || walk(block.inverse);
      }
      return false;
    });
  return walk(ast);
}
