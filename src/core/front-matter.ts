import matter from 'gray-matter';
import { error, type Diagnostic } from './diagnostics.js';
import { MappedSource, type SourcePosition } from './mapped-source.js';

/** A front matter value that is itself a Handlebars template (subject, preheader). */
export interface FrontMatterField {
  text: string;
  /** Where the value starts in the file, for diagnostics about it. */
  position: SourcePosition;
}

export interface FrontMatter {
  subject?: FrontMatterField;
  preheader?: FrontMatterField;
  /** Keys written in the front matter, valid or not. */
  keys: Set<string>;
  /** The message without its front matter, still mapped to the lines of the real file. */
  body: MappedSource;
  diagnostics: Diagnostic[];
}

const FIELDS = ['subject', 'preheader'] as const;

/** Split `---` front matter off a message file; only `subject` and `preheader` are allowed. */
export function parseFrontMatter(text: string, file: string): FrontMatter {
  let parsed: matter.GrayMatterFile<string>;
  try {
    // An options object turns off gray-matter's process-wide cache of every input it sees.
    parsed = matter(text, {});
  } catch (e) {
    return { keys: new Set(), body: MappedSource.fromFile(text, file), diagnostics: [yamlError(e, file)] };
  }
  const bodyStart = text.length - parsed.content.length;
  const bodyLine = 1 + countNewlines(text.slice(0, bodyStart));
  const data: Record<string, unknown> = isRecord(parsed.data) ? parsed.data : {};
  const result: FrontMatter = { keys: new Set(Object.keys(data)), body: MappedSource.fromFile(parsed.content, file, bodyLine), diagnostics: [] };
  const lines = text.slice(0, bodyStart).split('\n');

  for (const [key, value] of Object.entries(data)) {
    const position = valuePosition(lines, key, file);
    if (!(FIELDS as readonly string[]).includes(key)) {
      result.diagnostics.push(
        error(file, position.line, `unknown front matter key "${key}"`, 'only `subject:` and `preheader:` are allowed here; other settings belong in bulletin.json', 1),
      );
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      result.diagnostics.push(
        error(file, position.line, `\`${key}:\` must be text`, `put the value in quotes, e.g. ${key}: "Update for {{school_name}}" (YAML reads a bare {{…}} as a map)`, 1),
      );
      continue;
    }
    result[key as (typeof FIELDS)[number]] = { text: String(value), position };
  }
  return result;
}

/** Line and column where `key:`'s value starts; column 1 of the key's line if it cannot tell. */
function valuePosition(lines: string[], key: string, file: string): SourcePosition {
  const keyPattern = new RegExp(`^(\\s*${escapeRegExp(key)}\\s*:\\s*["']?)`);
  for (let i = 1; i < lines.length; i++) {
    const match = keyPattern.exec(lines[i]!);
    if (match) return { file, line: i + 1, column: match[1]!.length + 1 };
  }
  return { file, line: 1, column: 1 };
}

function yamlError(e: unknown, file: string): Diagnostic {
  const yaml = e as { reason?: string; mark?: { line?: number; column?: number } };
  const line = yaml.mark?.line !== undefined ? yaml.mark.line + 1 : 1;
  const column = yaml.mark?.column !== undefined ? yaml.mark.column + 1 : undefined;
  return error(file, line, `invalid front matter: ${yaml.reason ?? String(e)}`, 'front matter is YAML between two `---` lines; quote values that contain : or {{', column);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
