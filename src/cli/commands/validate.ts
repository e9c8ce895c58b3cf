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
  // The CLI limited the heap's growth as MJML's worker started (main.ts); again once a large
  // file's worker runs, whose start resets V8's flags (heap.ts).
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
