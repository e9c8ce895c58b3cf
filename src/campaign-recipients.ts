import type { Campaign } from './io/campaign.js';
import { error, type Diagnostic } from './core/diagnostics.js';
import { parseRecipients, type CsvRecords, type RecipientRow } from './core/recipients.js';

/**
 * Parse the campaign's recipients with its settings, checking each row against the campaign's
 * files. `csv`: the recipients already being parsed (in a worker); by default they are parsed here.
 */
export async function forEachRecipient(
  campaign: Campaign,
  diagnostics: Diagnostic[],
  onRow: (row: RecipientRow) => void | Promise<void>,
  csv?: CsvRecords,
): Promise<{ rows: number; valid: number; header: string[] }> {
  const { config } = campaign;
  const headerColumns = config.columns.name ? [config.columns.name] : [];
  let valid = 0;
  const summary = await parseRecipients(
    csv ?? campaign.recipients.text,
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
  return { rows: summary.rows, valid, header: summary.header };
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
