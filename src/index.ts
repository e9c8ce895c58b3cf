/** The library API: what the CLI itself is built on. */
export { configSchema, configJsonSchema, parseConfig, type Config } from './core/config.js';
export { formatLocation, type Diagnostic, type Severity } from './core/diagnostics.js';
export { parseRecipients, detectDelimiter, type RecipientRow, type RecipientOptions } from './core/recipients.js';
export { checkAddress, recipientKey } from './core/address.js';
export { compileTemplate, type CompiledTemplate, type TemplateInput } from './core/template.js';
export { composeMessage, type MessageInput } from './core/message.js';
export { summarizeRun, reportRows, toCsv, type ManifestRecord, type ManifestState, type RunSummary } from './core/manifest.js';
export { loadCampaign, CampaignError, type Campaign } from './io/campaign.js';
export { validateCampaign, type ValidateResult } from './validate.js';
export { planCampaign, prepareCampaign, planMessages, buildMessageBytes, type PlannedMessage, type PlanResult } from './plan.js';
export { previewCampaign, type PreviewOptions, type PreviewResult } from './preview.js';
export { approveCampaign, type ApproveOutcome } from './approve.js';
export { sendCampaign, type SendRequest, type SendResult, type SendSummary } from './send.js';
export { loadRun, runReport, type LoadedRun } from './runs.js';
