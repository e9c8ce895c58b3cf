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
  // Before the file is read (MJML's worker has started) and again once a large file's worker has
  // started, which resets V8's flags (heap.ts): the young generation stays at its first size.
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
