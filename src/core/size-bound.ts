import type { Program } from './handlebars-analysis.js';

/**
 * An upper bound of a rendered message's size in UTF-8 bytes, read from the compiled HTML
 * template once, so that checking a message against Gmail's clip size does not need the
 * message itself. Rendering a 20 KB message costs ~40 µs; adding up a dozen value lengths
 * costs nothing, and for all but a message near the limit the bound settles the check.
 *
 * The bound counts every literal part of the template, both branches of every `{{#if}}`, and
 * each value at the most bytes one UTF-16 unit can become: 6, when Handlebars escapes `"` as
 * `&quot;` (a non-ASCII unit is at most 3 bytes). A template whose size depends on values in
 * ways this does not follow (`{{#each}}`, `{{#with}}`, paths like `a.b`, unknown helpers) has
 * no bound, and each of its messages is rendered to be measured.
 */
export interface SizeBound {
  /** Bytes that do not depend on any value. */
  fixedBytes: number;
  /** Bytes per UTF-16 unit of each variable's value, summed over where it is shown. */
  bytesPerUnit: ReadonlyMap<string, number>;
}

/** Most UTF-8 bytes one UTF-16 unit of a value becomes once Handlebars has escaped it. */
const ESCAPED = 6;
/** upper/lower can turn one unit into three (ß → SS, ŉ → ʼN), each escaped at worst. */
const CASED = 3 * ESCAPED;
/** formatDate returns its input unchanged or a date like "30 September 2027". */
const DATE_TEXT_BYTES = 32;

type Node = hbs.AST.Node;

export function sizeBound(ast: Program): SizeBound | undefined {
  const bytesPerUnit = new Map<string, number>();
  let fixedBytes = 0;
  const addVariable = (name: string, perUnit: number): void => {
    bytesPerUnit.set(name, (bytesPerUnit.get(name) ?? 0) + perUnit);
  };

  /** A helper argument or a shown value; false when its size cannot be followed. */
  const value = (node: Node, perUnit: number): boolean => {
    if (node.type === 'StringLiteral') {
      fixedBytes += perUnit * (node as hbs.AST.StringLiteral).value.length;
      return true;
    }
    if (node.type === 'NumberLiteral' || node.type === 'BooleanLiteral') {
      fixedBytes += perUnit * String((node as hbs.AST.NumberLiteral).value).length;
      return true;
    }
    const name = variableName(node);
    if (name === undefined) return false;
    addVariable(name, perUnit);
    return true;
  };

  const mustache = (node: hbs.AST.MustacheStatement): boolean => {
    if (node.hash && node.hash.pairs.length > 0) return false;
    const name = variableName(node.path);
    if (name === undefined) return false;
    if (node.params.length === 0) return value(node.path, ESCAPED);
    switch (name) {
      case 'default': // one of its arguments: at most all of them
        return node.params.every((p) => value(p, ESCAPED));
      case 'upper':
      case 'lower':
        return node.params.length === 1 && value(node.params[0]!, CASED);
      case 'formatDate':
        fixedBytes += ESCAPED * DATE_TEXT_BYTES;
        return value(node.params[0]!, ESCAPED);
      case 'eq':
        fixedBytes += 'false'.length;
        return true;
      default:
        return false;
    }
  };

  const walk = (program: hbs.AST.Program | undefined): boolean => {
    for (const node of program?.body ?? []) {
      switch (node.type) {
        case 'ContentStatement':
          fixedBytes += Buffer.byteLength(literalText(node as hbs.AST.ContentStatement), 'utf8');
          break;
        case 'CommentStatement':
          break;
        case 'MustacheStatement':
          if (!mustache(node as hbs.AST.MustacheStatement)) return false;
          break;
        case 'BlockStatement': {
          // if/unless show one branch or the other; their arguments are not shown.
          const block = node as hbs.AST.BlockStatement;
          const helper = variableName(block.path);
          if (helper !== 'if' && helper !== 'unless') return false;
          if (!walk(block.program) || !walk(block.inverse)) return false;
          break;
        }
        default:
          return false;
      }
    }
    return true;
  };

  return walk(ast) ? { fixedBytes, bytesPerUnit } : undefined;
}

/** The bound for one message's values (Infinity for a value that is not a string). */
export function boundFor(bound: SizeBound, data: Readonly<Record<string, unknown>>): number {
  let bytes = bound.fixedBytes;
  for (const [name, perUnit] of bound.bytesPerUnit) {
    const v = data[name];
    // Message data are strings (CSV values and defaults); anything else has no bound.
    if (typeof v === 'string') bytes += perUnit * v.length;
    else if (v !== undefined && v !== null) return Infinity;
  }
  return bytes;
}

/**
 * The literal as written: whitespace control (`{{~`) and standalone lines only ever remove from
 * it. (@types/handlebars mistypes `original` on content statements.)
 */
function literalText(node: hbs.AST.ContentStatement): string {
  const original: unknown = (node as unknown as { original: unknown }).original;
  return typeof original === 'string' && original.length >= node.value.length ? original : node.value;
}

/** A plain top-level name (`school`), not `a.b`, `../x`, `this` or `@index`. */
function variableName(node: Node): string | undefined {
  if (node.type !== 'PathExpression') return undefined;
  const path = node as hbs.AST.PathExpression;
  if (path.data || path.depth !== 0 || path.parts.length !== 1 || path.original.startsWith('this')) return undefined;
  return path.parts[0];
}
