import chalk from '../output/color.js';
import { validateCampaign } from '../../validate.js';
import { EXIT, type ExitCode } from '../errors.js';
import { limitHeapGrowth } from '../heap.js';
import { diagnosticsJson, printDiagnostics, problemSummary } from '../output/diagnostics.js';
import { out, plural, printJson } from '../output/terminal.js';

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
}

export async function validateCommand(dir: string, options: ValidateOptions): Promise<ExitCode> {
  // As the CLI did when MJML's worker started (in case this runs without it), and again once a
  // large file's worker runs, whose start resets V8's flags (heap.ts).
  limitHeapGrowth();
  const result = await validateCampaign(dir, { strict: options.strict ?? false, onCsvWorkerStarted: limitHeapGrowth });
  const exitCode = !result.configLoaded ? EXIT.cannotStart : result.ok ? EXIT.ok : EXIT.problems;
  if (options.json) {
    printJson({ ok: result.ok, recipients: result.recipients, diagnostics: diagnosticsJson(result.diagnostics) });
    return exitCode;
  }
  printDiagnostics(result.diagnostics);
  if (result.diagnostics.length > 0) out();
  const verdict = result.ok ? chalk.green('✔ ready') : chalk.red('✖ not ready');
  out(`${verdict}: ${plural(result.recipients, 'recipient')}, ${problemSummary(result.diagnostics)}`);
  return exitCode;
}
