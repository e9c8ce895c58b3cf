import { closest, error, type Diagnostic } from './diagnostics.js';
import { findPartials, offsetsOf, parseHandlebars, positionOf, type Program } from './handlebars-analysis.js';
import type { HandlebarsInstance } from './helpers.js';
import { MappedSource, type Edit } from './mapped-source.js';

export interface ParsedPartial {
  source: MappedSource;
  /** Undefined when the partial has a syntax error (already reported). */
  ast?: Program;
}

/** Parse every partial once; syntax errors are reported here, once per file. */
export function parsePartials(
  hbs: HandlebarsInstance,
  files: Record<string, { path: string; text: string }>,
): { partials: Map<string, ParsedPartial>; diagnostics: Diagnostic[] } {
  const partials = new Map<string, ParsedPartial>();
  const diagnostics: Diagnostic[] = [];
  for (const [name, file] of Object.entries(files)) {
    const source = MappedSource.fromFile(withoutFinalNewline(file.text), file.path);
    const parsed = parseHandlebars(hbs, source);
    diagnostics.push(...parsed.diagnostics);
    partials.set(name, parsed.ast ? { source, ast: parsed.ast } : { source });
  }
  return { partials, diagnostics };
}

/**
 * Replace every `{{> name}}` with the partial's text, recursively, before MJML sees the
 * message: MJML silently drops Handlebars that stands between its elements, which is exactly
 * where a partial holding a whole <mj-section> is written. The result stays mapped to the
 * partial files, so later diagnostics name the partial and its line.
 */
export function expandPartials(
  source: MappedSource,
  ast: Program,
  partials: ReadonlyMap<string, ParsedPartial>,
  diagnostics: Diagnostic[],
  including: readonly string[] = [],
): MappedSource {
  const edits: Edit[] = [];
  for (const use of findPartials(ast)) {
    const at = positionOf(source, use.node);
    const { start, end } = offsetsOf(source, use.node);
    const drop = (message: string, hint: string): void => {
      diagnostics.push(error(at.file, at.line, message, hint, at.column));
      edits.push({ start, end, insert: MappedSource.synthetic('', at) });
    };
    if (use.node.type === 'PartialBlockStatement') {
      drop('partial blocks ({{#> name}}…{{/name}}) are not supported', 'write {{> name}} and put the surrounding markup in the partial itself');
      continue;
    }
    if (use.name === undefined) {
      drop('dynamic partials ({{> (expression)}}) are not supported', 'name the partial directly, e.g. {{> footer}}; to choose one, use {{#if}} … {{else}} … {{/if}}');
      continue;
    }
    if (use.node.params.length > 0 || (use.node.hash?.pairs.length ?? 0) > 0) {
      drop(`arguments to a partial are not supported ({{> ${use.name} …}})`, `write {{> ${use.name}}}: a partial sees the same values as the message`);
      continue;
    }
    const partial = partials.get(use.name);
    if (!partial) {
      const guess = closest(use.name, [...partials.keys()]);
      drop(
        `missing partial "${use.name}"`,
        guess ? `did you mean {{> ${guess}}}?` : `add partials/${use.name}.mjml (partials are named by file name without extension)`,
      );
      continue;
    }
    if (including.includes(use.name)) {
      drop(`partial "${use.name}" includes itself (${[...including, use.name].join(' → ')})`, 'remove the {{> …}} that closes the loop');
      continue;
    }
    if (!partial.ast) {
      edits.push({ start, end, insert: MappedSource.synthetic('', at) });
      continue;
    }
    edits.push({ start, end, insert: expandPartials(partial.source, partial.ast, partials, diagnostics, [...including, use.name]) });
  }
  return edits.length === 0 ? source : source.splice(edits);
}

/** A partial file ends with a newline; the `{{> name}}` line already has one. */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
