import { sortDiagnostics, countBySeverity, error, type Diagnostic } from './core/diagnostics.js';
import { parseRecipients, type RecipientRow } from './core/recipients.js';
import { loadCampaign, type Campaign } from './io/campaign.js';

export interface ValidateResult {
  ok: boolean;
  /** False when bulletin.json itself is unusable: the command could not really start (exit 2). */
  configLoaded: boolean;
  recipients: number;
  diagnostics: Diagnostic[];
}

/** Everything `bulletin validate` checks; nothing is written or sent. */
export async function validateCampaign(dir: string): Promise<ValidateResult> {
  const { campaign, config, diagnostics } = await loadCampaign(dir);
  // Only unusable settings stop the command (exit 2); a missing template or attachment is a problem found (exit 1).
  if (!campaign) return finish({ configLoaded: config !== undefined, recipients: 0, diagnostics });
  const summary = await forEachRecipient(campaign, diagnostics, () => {});
  return finish({ configLoaded: true, recipients: summary.valid, diagnostics });
}

/** Parse the campaign's recipients with its settings, checking each row against the campaign's files. */
export async function forEachRecipient(
  campaign: Campaign,
  diagnostics: Diagnostic[],
  onRow: (row: RecipientRow) => void | Promise<void>,
): Promise<{ rows: number; valid: number }> {
  const { config } = campaign;
  const headerColumns = config.columns.name ? [config.columns.name] : [];
  let valid = 0;
  const summary = await parseRecipients(
    campaign.recipients.text,
    { file: campaign.recipients.path, emailColumn: config.columns.email, headerColumns, requiredColumns: config.required },
    async (row) => {
      const rowProblems = checkRowFiles(campaign, row);
      diagnostics.push(...rowProblems);
      if (rowProblems.length > 0) return;
      valid++;
      await onRow(row);
    },
  );
  diagnostics.push(...summary.diagnostics);
  if (config.columns.attachments && summary.header.length > 0 && !summary.header.includes(config.columns.attachments)) {
    diagnostics.push(error(campaign.recipients.path, 1, `no "${config.columns.attachments}" column, which bulletin.json names for per-recipient attachments`));
  }
  return { rows: summary.rows, valid };
}

/** Files named per recipient must exist under attachments/. */
function checkRowFiles(campaign: Campaign, row: RecipientRow): Diagnostic[] {
  const column = campaign.config.columns.attachments;
  if (!column) return [];
  const out: Diagnostic[] = [];
  for (const name of attachmentNames(row.fields[column])) {
    if (!campaign.attachmentFiles.has(name)) {
      out.push(error(campaign.recipients.path, row.line, `attachment "${name}" (column "${column}") is not in attachments/`, 'check the spelling, or add the file to the attachments folder'));
    }
  }
  return out;
}

export function attachmentNames(value: string | undefined): string[] {
  return (value ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function finish(result: Omit<ValidateResult, 'ok'>): ValidateResult {
  sortDiagnostics(result.diagnostics);
  return { ok: countBySeverity(result.diagnostics).errors === 0, ...result };
}
