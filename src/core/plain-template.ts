import type { Program } from './handlebars-analysis.js';

export type PlainRender = (data: Record<string, unknown>) => string;

type Part = string | { name: string };

/**
 * A template that is only text and plain values (`Statement to {{school}}`), rendered without
 * Handlebars. Each top-level Handlebars call first wraps every registered helper anew (~3 µs),
 * more than a subject or a preheader takes to render, and every message renders both.
 *
 * Gives what Handlebars compiled with `noEscape` and `strict: false` gives: a value read from
 * the data's own properties, written as `'' + value`, and nothing for null or a missing one —
 * except that two numbers starting the template side by side are written one after the other,
 * where Handlebars adds them up (`{{a}}{{b}}` gives 12, not 3, for 1 and 2).
 * Undefined for anything else — a block, a helper, a path with `.`, `../` or `@`, a name that is
 * also a helper — which Handlebars then renders.
 */
export function plainTemplate(ast: Program, helpers: ReadonlySet<string>): PlainRender | undefined {
  const parts: Part[] = [];
  for (const node of ast.body) {
    if (node.type === 'ContentStatement') parts.push((node as hbs.AST.ContentStatement).value);
    else if (node.type === 'MustacheStatement') {
      const name = plainName(node as hbs.AST.MustacheStatement, helpers);
      if (name === undefined) return undefined;
      parts.push({ name });
    } else if (node.type !== 'CommentStatement') return undefined;
  }
  return (data) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : valueText(data, part.name);
    return out;
  };
}

/** The name a `{{name}}` reads, if that is all it does. */
function plainName(node: hbs.AST.MustacheStatement, helpers: ReadonlySet<string>): string | undefined {
  if (node.params.length > 0 || node.hash || node.path.type !== 'PathExpression') return undefined;
  const path = node.path as hbs.AST.PathExpression;
  const [name] = path.parts;
  if (path.data || path.depth !== 0 || path.parts.length !== 1 || name === undefined || helpers.has(name)) return undefined;
  return name;
}

/**
 * As Handlebars writes a value: its own properties only (an inherited one, such as `toString`,
 * is denied), and a function — which CSV and JSON data never hold — is not called here.
 */
function valueText(data: Record<string, unknown>, name: string): string {
  const value = Object.hasOwn(data, name) ? data[name] : undefined;
  return value === undefined || value === null ? '' : `${value as string}`;
}
