import type { MailComposerOptions, MailComposerAttachment } from 'nodemailer/lib/mail-composer';
import type { Config } from './config.js';
import type { RecipientRow } from './recipients.js';

/** What the template produced for one recipient. */
export interface MessageContent {
  subject: string;
  html: string;
  text: string;
}

export interface AttachmentData {
  filename: string;
  content: Buffer;
}

export interface MessageInput {
  config: Config;
  row: RecipientRow;
  content: MessageContent;
  messageId: string;
  date: Date;
  attachments: AttachmentData[];
  /** Rendered one-click unsubscribe URL for this recipient, if configured. */
  unsubscribeUrl?: string;
  /** A test send: goes to this address instead, subject marked [TEST]. */
  testTo?: string;
}

/**
 * The nodemailer MailComposer options for one message: the one description of a message that
 * preview (.eml files) and send (the bytes handed to the server) both build from.
 */
export function composeMessage(input: MessageInput): MailComposerOptions {
  const { config, row, content } = input;
  const name = config.columns.name ? row.fields[config.columns.name] : undefined;
  const headers: Record<string, string> = {
    'Auto-Submitted': 'auto-generated',
    // Outlook/Exchange: no out-of-office or auto-replies to a statement sent to many.
    'X-Auto-Response-Suppress': 'OOF, AutoReply',
  };
  const unsubscribe = listUnsubscribe(config, input.unsubscribeUrl);
  if (unsubscribe) headers['List-Unsubscribe'] = unsubscribe;
  // RFC 8058 one-click needs an HTTPS URI to POST to; a mailto alone cannot be one-click.
  if (input.unsubscribeUrl?.startsWith('https://')) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  if (config.listId) headers['List-Id'] = config.listId;
  if (input.testTo) headers['X-Bulletin-Test-For'] = row.email;
  const options: MailComposerOptions = {
    from: config.from,
    to: input.testTo ?? (name ? { name, address: row.email } : row.email),
    subject: input.testTo ? `[TEST] ${content.subject}` : content.subject,
    date: input.date,
    messageId: input.messageId,
    text: content.text,
    html: content.html,
    headers,
    attachments: input.attachments.map((a): MailComposerAttachment => ({ filename: a.filename, content: a.content })),
    // Choosing an encoding makes MailComposer rescan each 20 KB part many times per message;
    // quoted-printable suits a statement's mostly-ASCII text and HTML, and any UTF-8.
    textEncoding: 'quoted-printable',
    disableFileAccess: true,
    disableUrlAccess: true,
    xMailer: false,
  };
  if (config.replyTo) options.replyTo = config.replyTo;
  return options;
}

function listUnsubscribe(config: Config, url: string | undefined): string | undefined {
  const parts: string[] = [];
  if (config.unsubscribe?.mailto) parts.push(`<mailto:${config.unsubscribe.mailto}?subject=unsubscribe>`);
  if (url) parts.push(`<${url}>`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** Bare address of the From setting, for the SMTP envelope and Message-ID domain. */
export function senderAddress(from: string): string {
  const match = /<([^>]+)>\s*$/.exec(from);
  return (match?.[1] ?? from).trim();
}

/**
 * Stable per run and recipient, so a resend of an uncertain message carries the same Message-ID
 * and receiving servers can recognise the duplicate.
 */
export function messageIdFor(runId: string, key: string, fromAddress: string, hash: (s: string) => string): string {
  const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1) || 'bulletin.invalid';
  return `<${runId}.${hash(key).slice(0, 20)}@${domain}>`;
}
