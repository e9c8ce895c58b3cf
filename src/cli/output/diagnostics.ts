import chalk from './color.js';
import { countBySeverity, formatLocation, type Diagnostic } from '../../core/diagnostics.js';
import { out, plural } from './terminal.js';

/** `file:line[:col]: error|warning: message`, then an indented hint. */
export function printDiagnostics(diagnostics: readonly Diagnostic[], write: (line: string) => void = out): void {
  for (const d of diagnostics) {
    const label = d.severity === 'error' ? chalk.red('error') : chalk.yellow('warning');
    write(`${chalk.bold(formatLocation(d))}: ${label}: ${d.message}`);
    if (d.hint) write(`  ${chalk.dim('hint:')} ${d.hint}`);
  }
}

export function problemSummary(diagnostics: readonly Diagnostic[]): string {
  const { errors, warnings } = countBySeverity(diagnostics);
  const e = plural(errors, 'error');
  const w = plural(warnings, 'warning');
  return `${errors > 0 ? chalk.red(e) : e}, ${warnings > 0 ? chalk.yellow(w) : w}`;
}

export function diagnosticsJson(diagnostics: readonly Diagnostic[]): object[] {
  return diagnostics.map((d) => ({ ...d, location: formatLocation(d) }));
}
