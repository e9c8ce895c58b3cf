import { compileTemplate, type CompiledTemplate, type TemplateFile, type TemplateInput } from '../../src/core/template.js';
import type { Diagnostic } from '../../src/core/diagnostics.js';

/** A message.mjml with a body made of sections; front matter on lines 1–4. */
export function message(body: string, frontMatter = 'subject: "Update for {{school_name}}"\npreheader: "What changes for {{school_name}}"'): string {
  return `---\n${frontMatter}\n---\n<mjml>\n  <mj-body>\n${body}\n  </mj-body>\n</mjml>\n`;
}

/** One section with one column holding `content`. */
export function section(content: string): string {
  return `    <mj-section><mj-column>${content}</mj-column></mj-section>`;
}

export interface Input {
  main: string;
  variants?: Record<string, string>;
  partials?: Record<string, string>;
  textTemplate?: TemplateFile;
  configSubject?: string;
}

export async function compile(input: Input): Promise<{ template?: CompiledTemplate; diagnostics: Diagnostic[] }> {
  const files = (record: Record<string, string> | undefined, path: (name: string) => string) =>
    Object.fromEntries(Object.entries(record ?? {}).map(([name, text]) => [name, { path: path(name), text }]));
  const full: TemplateInput = {
    main: { path: 'message.mjml', text: input.main },
    variants: files(input.variants, (lang) => `message.${lang}.mjml`),
    partials: files(input.partials, (name) => `partials/${name}.mjml`),
  };
  if (input.textTemplate) full.textTemplate = input.textTemplate;
  if (input.configSubject !== undefined) full.configSubject = input.configSubject;
  return compileTemplate(full);
}

export async function compileOk(input: Input): Promise<CompiledTemplate> {
  const { template, diagnostics } = await compile(input);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (!template || errors.length > 0) throw new Error(`expected a template, got:\n${JSON.stringify(diagnostics, null, 2)}`);
  return template;
}

/** The visible body of the HTML, without MJML's head and styles. */
export function body(html: string): string {
  return html.slice(html.indexOf('<body'));
}
