import { parse } from 'csv-parse/sync';
import { recipientKey } from './address.js';
import { detectDelimiter } from './recipients.js';

/**
 * Addresses never to mail: the column named "email" if there is one, else the first column.
 * A header line is optional; anything without an @ is ignored.
 */
export function parseSuppressionList(text: string): Set<string> {
  const records: string[][] = parse(text, { delimiter: detectDelimiter(text), relax_column_count: true, skip_empty_lines: true, bom: true, relax_quotes: true });
  const header = records[0]?.map((h) => h.trim().toLowerCase()) ?? [];
  const column = Math.max(0, header.indexOf('email'));
  const keys = new Set<string>();
  for (const record of records) {
    const value = record[column]?.trim() ?? '';
    if (value.includes('@')) keys.add(recipientKey(value));
  }
  return keys;
}

/** Lines to append to a suppression list (header first when the file is new). */
export function suppressionLines(addresses: Iterable<{ email: string; reason: string }>, withHeader: boolean): string {
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = withHeader ? ['email,reason'] : [];
  for (const a of addresses) lines.push(`${quote(a.email)},${quote(a.reason)}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
