import { positionOf, type Program } from './handlebars-analysis.js';
import type { HandlebarsInstance } from './helpers.js';
import type { MappedSource } from './mapped-source.js';
import type { ParsedPartial } from './partials.js';

/** Where a block is written: the subject, the preheader, the message body or a hand-written text part. */
export type MessagePart = 'subject' | 'preheader' | 'message' | 'text';

/**
 * One `{{#if}}`, `{{#unless}}`, `{{#each}}`, `{{#with}}` or `{{#name}}` section whose branch
 * depends on the recipient's row. Blocks inside an `{{#each}}` or `{{#with}}` body depend on
 * the item, not the row, and are not listed (the outer block's "empty or not" is).
 */
export interface TemplateBlock {
  /** if, unless, each, with, or `section` for `{{#name}}…{{/name}}`. */
  helper: string;
  /** The opening tag, e.g. `{{#if liaison_name}}`. */
  opening: string;
  part: MessagePart;
  file: string;
  line: number;
  column: number;
  /** Has an `{{else}}` (or `{{else if}}`). */
  hasElse: boolean;
  /** Index of the enclosing block, or -1. */
  parent: number;
  /** Which branch of the parent it stands in: '1' the block's body, '0' its `{{else}}`. */
  branch: Branch;
}

/** '1': the block's body ran (items listed, for each); '0': its else (or nothing); '-': not reached. */
export type Branch = '1' | '0';

export interface PartialUse {
  name: string;
  parent: number;
  branch: Branch;
}

/** One language variant's block structure, and a cheap way to tell which branches a row takes. */
export interface MessageStructure {
  blocks: TemplateBlock[];
  partials: PartialUse[];
  /**
   * The branches a row takes, one character per block ('1', '0', or '-' when an enclosing
   * branch was not taken), evaluated from the row's values: no render.
   */
  branchesOf(data: Record<string, unknown>): string;
}

export interface StructurePart {
  part: MessagePart;
  ast: Program;
  source: MappedSource;
}

type Evaluate = (root: Record<string, unknown>) => unknown;

/** Build the structure of one variant from the parsed parts (before partials are expanded). */
export function describeStructure(hbs: HandlebarsInstance, parts: readonly StructurePart[], partials: ReadonlyMap<string, ParsedPartial>): MessageStructure {
  const blocks: TemplateBlock[] = [];
  const partialUses: PartialUse[] = [];
  /** Per block: does its body run for this row? undefined: the helper is not one we can follow. */
  const tests: Array<Evaluate> = [];

  /**
   * `statically`: inside an item's body, or under a helper we cannot follow: only the partials
   * count (as used with the parent), no block of its own.
   */
  const walk = (program: Program | undefined, source: MappedSource, part: MessagePart, parent: number, branch: Branch, including: readonly string[], statically = false): void => {
    for (const statement of program?.body ?? []) {
      if (statement.type === 'PartialStatement') {
        const node = statement as hbs.AST.PartialStatement;
        if (node.name.type !== 'PathExpression') continue;
        const name = (node.name).original;
        partialUses.push({ name, parent, branch });
        const partial = partials.get(name);
        if (partial?.ast && !including.includes(name)) walk(partial.ast, partial.source, part, parent, branch, [...including, name], statically);
      } else if (statement.type === 'BlockStatement') {
        const node = statement as hbs.AST.BlockStatement;
        const test = statically ? undefined : blockTest(hbs, node);
        if (!test) {
          walk(node.program, source, part, parent, branch, including, true);
          walk(node.inverse, source, part, parent, branch, including, true);
          continue;
        }
        const at = positionOf(source, node);
        const index = blocks.length;
        blocks.push({
          helper: test.helper,
          opening: `{{#${describeCall(node)}}}`,
          part,
          file: at.file,
          line: at.line,
          column: at.column,
          hasElse: node.inverse !== undefined,
          parent,
          branch,
        });
        tests.push(test.runs);
        // An each/with body reads the item: its own blocks do not depend on the row.
        walk(node.program, source, part, index, '1', including, test.changesContext);
        walk(node.inverse, source, part, index, '0', including);
      }
    }
  };
  for (const p of parts) walk(p.ast, p.source, p.part, -1, '1', []);

  const parents = blocks.map((b) => b.parent);
  const branches = blocks.map((b) => b.branch);
  const count = blocks.length;
  return {
    blocks,
    partials: partialUses,
    branchesOf(data) {
      const out: string[] = new Array<string>(count);
      for (let i = 0; i < count; i++) {
        const parent = parents[i]!;
        if (parent !== -1 && out[parent] !== branches[i]) out[i] = '-';
        else out[i] = tests[i]!(data) ? '1' : '0';
      }
      return out.join('');
    },
  };
}

/** The partials a row with these branches uses, in order of first use. */
export function partialsUsed(structure: MessageStructure, branches: string): string[] {
  const used = new Set<string>();
  for (const use of structure.partials) {
    if (use.parent === -1 || branches[use.parent] === use.branch) used.add(use.name);
  }
  return [...used];
}

// ---------------------------------------------------------------- evaluating a block's argument

interface BlockTest {
  helper: string;
  runs: Evaluate;
  changesContext: boolean;
}

/**
 * How Handlebars 4.7 decides between a block's body and its else, for the helpers a template
 * may use as blocks. A test compares these with Handlebars itself.
 */
function blockTest(hbs: HandlebarsInstance, node: hbs.AST.BlockStatement): BlockTest | undefined {
  const name = node.path.original;
  const hasArgs = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
  const first = node.params[0];
  if (!hasArgs && node.path.type === 'PathExpression') {
    // `{{#name}}…{{/name}}`: Handlebars' blockHelperMissing.
    const value = evaluator(hbs, node.path);
    return {
      helper: 'section',
      changesContext: true,
      runs: (root) => {
        const v = value(root);
        if (v === true) return true;
        if (v === false || v === undefined || v === null) return false;
        if (Array.isArray(v)) return v.length > 0;
        return true;
      },
    };
  }
  if (!first) return undefined;
  const value = evaluator(hbs, first);
  switch (name) {
    case 'if':
    case 'unless': {
      const includeZero = node.hash?.pairs.some((p) => p.key === 'includeZero' && p.value.type === 'BooleanLiteral' && (p.value as hbs.AST.BooleanLiteral).value) ?? false;
      const truthy = (root: Record<string, unknown>): boolean => {
        const v = value(root);
        return !((!includeZero && !v) || isEmpty(v));
      };
      return { helper: name, changesContext: false, runs: name === 'if' ? truthy : (root) => !truthy(root) };
    }
    case 'with':
      return { helper: name, changesContext: true, runs: (root) => !isEmpty(value(root)) };
    case 'each':
      return { helper: name, changesContext: true, runs: (root) => hasItems(value(root)) };
    default:
      return undefined;
  }
}

/** Handlebars' Utils.isEmpty. */
function isEmpty(value: unknown): boolean {
  if (!value && value !== 0) return true;
  return Array.isArray(value) && value.length === 0;
}

/** Whether `{{#each}}` lists anything: only objects are iterated (a text value never is). */
function hasItems(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.length > 0;
  const iterator = (value as { [Symbol.iterator]?: () => Iterator<unknown> })[Symbol.iterator];
  if (typeof iterator === 'function') return !iterator.call(value).next().done;
  return Object.keys(value).length > 0;
}

/** An expression read at the top level of the message, where `this` is the recipient's row. */
function evaluator(hbs: HandlebarsInstance, node: hbs.AST.Node): Evaluate {
  switch (node.type) {
    case 'StringLiteral':
    case 'NumberLiteral':
    case 'BooleanLiteral': {
      const v = (node as hbs.AST.StringLiteral).value;
      return () => v;
    }
    case 'UndefinedLiteral':
      return () => undefined;
    case 'NullLiteral':
      return () => null;
    case 'PathExpression': {
      const path = node as hbs.AST.PathExpression;
      if (path.depth > 0) return () => undefined;
      let parts = path.parts;
      if (path.data) {
        if (parts[0] !== 'root') return () => undefined;
        parts = parts.slice(1);
      }
      return (root) => {
        let v: unknown = root;
        for (const key of parts) {
          if (v === null || v === undefined) return undefined;
          v = Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined;
        }
        return v;
      };
    }
    case 'SubExpression': {
      const sub = node as hbs.AST.SubExpression;
      const name = (sub.path).original;
      const params = sub.params.map((p) => evaluator(hbs, p));
      const hash = (sub.hash?.pairs ?? []).map((p) => [p.key, evaluator(hbs, p.value)] as const);
      const lookupProperty = (object: unknown, key: unknown): unknown =>
        object !== null && typeof object === 'object' && Object.prototype.hasOwnProperty.call(object, String(key)) ? (object as Record<string, unknown>)[String(key)] : undefined;
      return (root) => {
        const helper = hbs.helpers[name];
        if (!helper) return undefined;
        const options = { name, hash: Object.fromEntries(hash.map(([k, f]) => [k, f(root)])), data: { root }, lookupProperty, fn: () => '', inverse: () => '' };
        // Our helpers are pure (helpers.ts): calling them here gives the value the render sees.
        return (helper as (...args: unknown[]) => unknown).call(root, ...params.map((f) => f(root)), options);
      };
    }
    default:
      return () => undefined;
  }
}

/** `if (eq language "cy")`, as written (for the reviewer). */
function describeCall(node: hbs.AST.BlockStatement | hbs.AST.SubExpression): string {
  const parts = [node.path.type === 'PathExpression' ? (node.path).original : '…'];
  for (const p of node.params) parts.push(describeValue(p));
  for (const pair of node.hash?.pairs ?? []) parts.push(`${pair.key}=${describeValue(pair.value)}`);
  return parts.join(' ');
}

function describeValue(node: hbs.AST.Node): string {
  switch (node.type) {
    case 'PathExpression':
      return (node as hbs.AST.PathExpression).original;
    case 'StringLiteral':
      return JSON.stringify((node as hbs.AST.StringLiteral).value);
    case 'NumberLiteral':
    case 'BooleanLiteral':
      return String((node as hbs.AST.NumberLiteral).value);
    case 'SubExpression':
      return `(${describeCall(node as hbs.AST.SubExpression)})`;
    default:
      return node.type === 'NullLiteral' ? 'null' : 'undefined';
  }
}
