/** A problem found in a campaign: collected in full, never thrown at the first one. */
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  /** Path as the user knows it, relative to the campaign folder where possible. */
  file: string;
  line?: number;
  column?: number;
  severity: Severity;
  message: string;
  hint?: string;
  /** The check that found it, where a reader may filter on it: `accessibility/contrast`, … */
  check?: string;
}

export function error(file: string, line: number | undefined, message: string, hint?: string, column?: number): Diagnostic {
  return withOptional({ file, line, column, severity: 'error', message, hint });
}

export function warning(file: string, line: number | undefined, message: string, hint?: string, column?: number): Diagnostic {
  return withOptional({ file, line, column, severity: 'warning', message, hint });
}

/** Accessibility warnings become errors (`--strict`): the author asked for them to block. */
export function escalateAccessibility(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) if (isAccessibility(d)) d.severity = 'error';
}

export function isAccessibility(d: Diagnostic): boolean {
  return d.check?.startsWith('accessibility/') ?? false;
}

function withOptional(d: { file: string; line: number | undefined; column: number | undefined; severity: Severity; message: string; hint: string | undefined }): Diagnostic {
  const out: Diagnostic = { file: d.file, severity: d.severity, message: d.message };
  if (d.line !== undefined) out.line = d.line;
  if (d.column !== undefined) out.column = d.column;
  if (d.hint !== undefined) out.hint = d.hint;
  return out;
}

/** `file:line[:col]: error|warning: message` — the one format every command prints. */
export function formatLocation(d: Diagnostic): string {
  let where = d.file;
  if (d.line !== undefined) where += `:${d.line}`;
  if (d.line !== undefined && d.column !== undefined) where += `:${d.column}`;
  return where;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function countBySeverity(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const d of diagnostics) if (d.severity === 'error') errors++;
  return { errors, warnings: diagnostics.length - errors };
}

/**
 * Order two texts by their UTF-16 code units: stable, and unlike localeCompare it does not load
 * ICU's locale data, which costs a process ~8 MB resident (a send avoids every use of it).
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stable order for output: by file, then line, then column. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort(
    (a, b) =>
      compareText(a.file, b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

/** Closest candidate by edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = editDistance(word.toLowerCase(), c.toLowerCase());
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
