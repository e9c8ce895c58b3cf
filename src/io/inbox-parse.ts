/**
 * One message from a mailbox, parsed and classified: what `inbox` keeps of it (the parsed
 * message itself, attachments and all, is dropped at once).
 */
import { classifyMessage, type Classification } from '../core/inbox-classify.js';
import { parseMail } from './parse-mail.js';

export type ParsedInbound =
  | { ok: false; problem: string }
  | { ok: true; classification: Classification; messageId?: string; from?: string; subject?: string; date?: string; text?: string };

/** Of the text, only the start is kept: replies are listed with their first lines. */
const TEXT_KEPT = 4096;

export async function parseInbound(raw: Buffer, unsubscribeAddresses: string[]): Promise<ParsedInbound> {
  const parsed = await parseMail(raw);
  if (!parsed.ok) return parsed;
  const { email } = parsed;
  const out: ParsedInbound = { ok: true, classification: classifyMessage(email, { unsubscribeAddresses }) };
  if (email.messageId?.trim()) out.messageId = email.messageId.trim();
  if (email.from?.address) out.from = email.from.address;
  if (email.subject) out.subject = email.subject;
  if (email.date) out.date = email.date;
  if (email.text) out.text = email.text.slice(0, TEXT_KEPT);
  return out;
}
