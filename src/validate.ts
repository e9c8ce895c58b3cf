import { planCampaign } from './plan.js';
import { countBySeverity, escalateAccessibility, type Diagnostic } from './core/diagnostics.js';

export interface ValidateResult {
  ok: boolean;
  /** False when bulletin.json itself is unusable: the command could not really start (exit 2). */
  configLoaded: boolean;
  /** Recipients whose message rendered without an error (suppressed ones not counted). */
  recipients: number;
  diagnostics: Diagnostic[];
}

export interface ValidateOptions {
  /** Accessibility warnings become errors. */
  strict?: boolean;
  /** Passed on to prepareCampaign (PrepareOptions). */
  onCsvWorkerStarted?: () => void;
}

/** Everything `bulletin validate` checks: the plan without the apply. Nothing is written or sent. */
export async function validateCampaign(dir: string, options: ValidateOptions = {}): Promise<ValidateResult> {
  const plan = await planCampaign(dir, { text: false, html: false, csvInWorker: true, accessibility: true, ...(options.onCsvWorkerStarted ? { onCsvWorkerStarted: options.onCsvWorkerStarted } : {}) });
  if (options.strict) escalateAccessibility(plan.diagnostics);
  const ok = plan.configLoaded && countBySeverity(plan.diagnostics).errors === 0;
  return { ok, configLoaded: plan.configLoaded, recipients: plan.messages, diagnostics: plan.diagnostics };
}
