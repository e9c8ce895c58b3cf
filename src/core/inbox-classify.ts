import type { Address, Attachment, Email } from 'postal-mime';

/**
 * Classify one message from the sender's mailbox: bounce, delay, auto-reply, complaint,
 * unsubscribe request, human reply, or unknown. Pure: the caller parses the message with
 * postal-mime (ideally with INBOX_PARSE_OPTIONS) and matches the result to runs.
 */

export type InboxKind = 'bounce' | 'delay' | 'auto-reply' | 'complaint' | 'unsubscribe' | 'reply' | 'unknown';

export interface AffectedRecipient {
  /** Lowercased bare address. */
  email: string;
  /** Enhanced status code, e.g. '5.1.1' (from a basic SMTP code when that is all there is: 5xx → '5.0.0'). */
  status?: string;
  /** RFC 3464 Action: 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded'. */
  action?: string;
  /** The server's text, one line, trimmed. */
  diagnostic?: string;
  /** RFC 3464 Final-Recipient when it differs from the Original-Recipient reported in `email` (an alias expanded by the far side). */
  finalRecipient?: string;
}

export interface Classification {
  kind: InboxKind;
  /** bounce/delay: the failed recipients; complaint: the complaining address(es) (ARF Original-Rcpt-To / returned To);
   *  auto-reply/reply/unsubscribe: the sender (From) of this message. */
  recipients: AffectedRecipient[];
  /** The Message-ID of OUR original message when found in a returned message/rfc822 or text/rfc822-headers part,
   *  an ARF report, SES JSON (mail.headers / commonHeaders), or a body that quotes headers; '<...>' form. */
  originalMessageId?: string;
  /** Every Message-ID this message refers to, best first: originalMessageId, then In-Reply-To, then References (newest first). */
  referencedMessageIds: string[];
  /** Addresses this message was delivered to (To, Delivered-To, X-Original-To, Envelope-To, X-Envelope-To), lowercased: for VERP and unsubscribe matching. */
  deliveredTo: string[];
  /** Which form was recognised: 'rfc3464', 'arf', 'ses-json', 'exim', 'qmail', 'postfix', 'sendmail', 'exchange', 'office365', ... */
  form?: string;
  /** One human line on why (for --json and debugging). */
  reason: string;
}

export interface ClassifyContext {
  /** The campaign's List-Unsubscribe mailto addresses (bare, any case). A message delivered to one is `unsubscribe`. */
  unsubscribeAddresses: string[];
}

/**
 * postal-mime options for the inbox: every message/rfc822 part stays an attachment, so the
 * returned original's headers (and its Message-ID) reach the classifier. With the default
 * options a bounce that is not multipart/report has its returned message folded into `text`
 * as a From/Subject/Date/To table, and the Message-ID is lost.
 */
export const INBOX_PARSE_OPTIONS = { forceRfc822Attachments: true } as const;

/** Regexes never see more than this of any one part: bounded work on a 40 MB attachment. */
const MAX_SCAN = 256 * 1024;

export function classifyMessage(email: Email, context: ClassifyContext): Classification {
  let message: MessageView | undefined;
  try {
    message = viewOf(email);
    return (
      fromSesJson(message) ??
      fromArf(message) ??
      fromDeliveryStatus(message) ??
      fromPlainTextBounce(message) ??
      fromAutoReply(message) ??
      fromUnsubscribe(message, context) ??
      fromReply(message) ??
      unknown(message, message.daemonSender ? 'from a mail server, but not a bounce form it recognises' : 'no bounce, auto-reply, complaint, unsubscribe or reply signs')
    );
  } catch (error) {
    // A classifier bug must not stop a 10,000-message run: report the message as unknown.
    const detail = error instanceof Error ? error.message : String(error);
    return {
      kind: 'unknown',
      recipients: [],
      referencedMessageIds: message?.references ?? [],
      deliveredTo: message?.deliveredTo ?? [],
      reason: `could not be classified (${oneLine(detail)})`,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// A bounded, pre-digested view of the message

interface MessageView {
  email: Email;
  headers: Map<string, string[]>;
  subject: string;
  from: string | undefined;
  fromName: string;
  /** Human-readable body (text, or text from the HTML), at most MAX_SCAN characters. */
  text: string;
  deliveredTo: string[];
  /** In-Reply-To then References newest first, deduplicated. */
  references: string[];
  daemonSender: boolean;
  /** Headers that say a program, not a person, sent this. */
  automated: boolean;
}

function viewOf(email: Email): MessageView {
  const headers = new Map<string, string[]>();
  for (const h of Array.isArray(email.headers) ? email.headers : []) {
    const key = String(h.key ?? '').toLowerCase();
    const list = headers.get(key);
    if (list) list.push(String(h.value ?? ''));
    else headers.set(key, [String(h.value ?? '')]);
  }
  const first = (name: string): string | undefined => headers.get(name)?.[0];
  const from = mailboxOf(email.from);
  const fromAddress = from?.address ? bareAddress(from.address) : bareAddress(first('from') ?? '');
  const fromName = from?.name ?? '';
  const subject = oneLine(typeof email.subject === 'string' ? email.subject : first('subject') ?? '');
  const text = bodyText(email);

  const delivered = new Set<string>();
  for (const a of email.to ?? []) for (const m of mailboxesOf(a)) addAddress(delivered, m.address);
  for (const name of ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to']) {
    for (const v of headers.get(name) ?? []) for (const a of addressesIn(v)) delivered.add(a);
  }
  if (email.to === undefined) for (const v of headers.get('to') ?? []) for (const a of addressesIn(v)) delivered.add(a);

  const references = unique([...messageIdsIn(first('in-reply-to') ?? email.inReplyTo ?? ''), ...messageIdsIn(first('references') ?? email.references ?? '').reverse()]);

  const local = fromAddress?.split('@')[0] ?? '';
  const daemonSender =
    /^(?:mailer-?daemon|mail-?daemon|postmaster|mdaemon|mail\.delivery|maildelivery|mail-delivery(?:-system)?|bounces?|mailerdaemon)$/i.test(local) ||
    /\b(?:mailer[- ]daemon|mail delivery (?:system|subsystem|service)|postmaster|system administrator)\b/i.test(fromName) ||
    (fromAddress === undefined && /mailer-daemon/i.test(first('from') ?? ''));
  const returnPath = first('return-path')?.trim();
  const autoSubmitted = (first('auto-submitted') ?? '').trim().toLowerCase();
  const automated =
    daemonSender ||
    returnPath === '<>' ||
    headers.has('x-failed-recipients') ||
    headers.has('x-ms-exchange-message-is-ndr') ||
    (autoSubmitted !== '' && !autoSubmitted.startsWith('no'));

  return { email, headers, subject, from: fromAddress, fromName, text, deliveredTo: [...delivered], references, daemonSender, automated };
}

function header(message: MessageView, name: string): string | undefined {
  return message.headers.get(name)?.[0];
}

function bodyText(email: Email): string {
  if (typeof email.text === 'string' && email.text.trim() !== '') return email.text.slice(0, MAX_SCAN);
  if (typeof email.html === 'string' && email.html !== '') return htmlToText(email.html.slice(0, MAX_SCAN));
  return '';
}

/** Just enough HTML to text for an NDR that has only an HTML body: block tags to line breaks, entities decoded. */
function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style|head)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
      .replace(/<br\b[^>]*>/gi, '\n')
      .replace(/<\/(?:p|div|tr|li|h[1-6]|pre|table|blockquote)\s*>/gi, '\n')
      .replace(/<[^>]{0,2000}>/g, ''),
  ).replace(/[ \t\u00a0]+\n/g, '\n');
}

function decodeEntities(s: string): string {
  const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ', rsquo: '\u2019', lsquo: '\u2018' };
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return named[ref.toLowerCase()] ?? whole;
  });
}

/** An attachment's content as text (UTF-8, invalid bytes replaced), at most `limit` characters. */
function attachmentText(attachment: Attachment, limit = MAX_SCAN): string {
  const content = attachment.content as unknown;
  if (typeof content === 'string') {
    if (attachment.encoding === 'base64') return Buffer.from(content.slice(0, Math.ceil((limit * 4) / 3) + 4), 'base64').toString('utf8');
    return content.slice(0, limit);
  }
  if (content instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(content, 0, Math.min(limit, content.byteLength)));
  if (ArrayBuffer.isView(content)) return new TextDecoder().decode(new Uint8Array(content.buffer, content.byteOffset, Math.min(limit, content.byteLength)));
  return '';
}

function attachmentsOf(message: MessageView, types: readonly string[]): Attachment[] {
  const list = Array.isArray(message.email.attachments) ? message.email.attachments : [];
  return list.filter((a) => types.includes(String(a.mimeType ?? '').toLowerCase()));
}

const RETURNED_TYPES = ['message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers'] as const;

/** Header fields of a block (a header section, or one DSN field group): lowercased names, folded lines joined. */
function parseFields(block: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const match = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!match) continue;
    const key = match[1]!.toLowerCase();
    const list = fields.get(key);
    if (list) list.push(match[2]!.trim());
    else fields.set(key, [match[2]!.trim()]);
  }
  return fields;
}

/** The header section of a returned message (or text/rfc822-headers part). */
function returnedHeaders(attachment: Attachment): Map<string, string[]> {
  const text = attachmentText(attachment, 64 * 1024);
  const end = text.search(/\r?\n\r?\n/);
  return parseFields(end >= 0 ? text.slice(0, end) : text);
}

/** The Message-ID of the returned original: from a returned part, else from headers quoted in the body. */
function returnedMessageId(message: MessageView): string | undefined {
  for (const part of attachmentsOf(message, RETURNED_TYPES)) {
    const id = messageIdsIn(returnedHeaders(part).get('message-id')?.[0] ?? '')[0];
    if (id) return id;
  }
  // qmail, Exim, Yahoo, Gmail and Exchange quote the original's headers in the text itself.
  const quoted = /^[ \t>]*Message-ID:[ \t]*(<[^<>\s]+>)/im.exec(message.text);
  return quoted?.[1];
}

// ---------------------------------------------------------------------------------------------
// Addresses, Message-IDs, status codes

const ADDRESS = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+@[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?(?:\.[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?)*/;
const ADDRESS_GLOBAL = new RegExp(ADDRESS.source, 'g');

function bareAddress(s: string): string | undefined {
  const match = ADDRESS.exec(s);
  return match ? match[0].replace(/^\.+|\.+$/g, '').toLowerCase() : undefined;
}

function addressesIn(s: string): string[] {
  return unique((s.slice(0, 4096).match(ADDRESS_GLOBAL) ?? []).map((a) => a.replace(/^\.+|\.+$/g, '').toLowerCase()));
}

function addAddress(set: Set<string>, raw: string | undefined): void {
  const address = raw ? bareAddress(raw) : undefined;
  if (address) set.add(address);
}

function mailboxesOf(address: Address | undefined): { name: string; address: string }[] {
  if (!address) return [];
  if (Array.isArray(address.group)) return address.group.map((m) => ({ name: m.name ?? '', address: m.address ?? '' }));
  return [{ name: address.name ?? '', address: address.address ?? '' }];
}

function mailboxOf(address: Address | undefined): { name: string; address: string } | undefined {
  return mailboxesOf(address)[0];
}

function messageIdsIn(s: string): string[] {
  return (s.slice(0, 16 * 1024).match(/<[^<>\s]+@[^<>\s]+>/g) ?? []).slice(0, 100);
}

const ENHANCED_STATUS = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

/** The enhanced status code in a server's text, else one derived from its basic SMTP code (550 → 5.0.0). */
function statusIn(text: string): string | undefined {
  const enhanced = ENHANCED_STATUS.exec(text);
  if (enhanced) return `${enhanced[1]}.${enhanced[2]}.${enhanced[3]}`;
  const basic = /(?:^|[^\d.#-])([45])\d\d(?=[\s\-:;,.)]|$)/.exec(text);
  return basic ? `${basic[1]}.0.0` : undefined;
}

/** When a plain-text bounce gives no code at all, a few phrases are unambiguous enough to name one. */
function statusFromPhrase(text: string, temporary: boolean): string {
  if (/mailbox (?:is )?full|over ?quota|quota exceeded|insufficient (?:disk )?space/i.test(text)) return temporary ? '4.2.2' : '5.2.2';
  if (temporary) return '4.0.0';
  if (/user unknown|unknown user|no such (?:user|mailbox|recipient)|not listed in|does not exist|doesn['’]t exist|not found|recipient name is not recognized|invalid recipient|address rejected/i.test(text)) return '5.1.1';
  if (/host unknown|domain (?:not found|does not exist)|no mx/i.test(text)) return '5.1.2';
  if (/spam|blocked|blacklist|blocklist|policy|rejected by/i.test(text)) return '5.7.1';
  return '5.0.0';
}

const SMTP_CODE = /\b[245]\d\d\b|\b[245]\.\d{1,3}\.\d{1,3}\b/;

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 1000);
}

function unique<T>(list: T[]): T[] {
  return [...new Set(list)];
}

function result(message: MessageView, kind: InboxKind, recipients: AffectedRecipient[], form: string, reason: string, originalMessageId?: string): Classification {
  const out: Classification = {
    kind,
    recipients,
    referencedMessageIds: unique([...(originalMessageId ? [originalMessageId] : []), ...message.references]),
    deliveredTo: message.deliveredTo,
    form,
    reason,
  };
  if (originalMessageId) out.originalMessageId = originalMessageId;
  return out;
}

function unknown(message: MessageView, reason: string): Classification {
  return { kind: 'unknown', recipients: [], referencedMessageIds: message.references, deliveredTo: message.deliveredTo, reason };
}

function senderAsRecipient(message: MessageView): AffectedRecipient[] {
  return message.from ? [{ email: message.from }] : [];
}

// ---------------------------------------------------------------------------------------------
// Amazon SES JSON notifications (raw, or inside an SNS envelope whose Message is that JSON as a string)

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function sesNotification(text: string): Json | undefined {
  if (!text.includes('notificationType') && !text.includes('eventType')) return undefined;
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  // SNS email adds an unsubscribe footer after the JSON: try the last few closing braces.
  let end = text.lastIndexOf('}');
  for (let tries = 0; tries < 4 && end > start; tries++) {
    try {
      let value: unknown = JSON.parse(text.slice(start, end + 1));
      if (isObject(value) && typeof value.Message === 'string') value = JSON.parse(value.Message);
      if (isObject(value) && (typeof value.notificationType === 'string' || typeof value.eventType === 'string')) return value;
      return undefined;
    } catch {
      end = text.lastIndexOf('}', end - 1);
    }
  }
  return undefined;
}

function fromSesJson(message: MessageView): Classification | undefined {
  let note = sesNotification(message.text);
  for (const part of note ? [] : attachmentsOf(message, ['application/json', 'text/json'])) {
    note = sesNotification(attachmentText(part));
    if (note) break;
  }
  if (!note) return undefined;
  const type = str(note.notificationType) ?? str(note.eventType) ?? '';
  const mail = isObject(note.mail) ? note.mail : {};
  const headerList = Array.isArray(mail.headers) ? mail.headers.filter(isObject) : [];
  const idHeader = headerList.find((h) => str(h.name)?.toLowerCase() === 'message-id');
  const common = isObject(mail.commonHeaders) ? mail.commonHeaders : {};
  const originalMessageId = messageIdsIn(str(idHeader?.value) ?? str(common.messageId) ?? '')[0];

  if (type === 'Bounce' && isObject(note.bounce)) {
    const bounce = note.bounce;
    const bounceType = str(bounce.bounceType) ?? 'Undetermined';
    const list = Array.isArray(bounce.bouncedRecipients) ? bounce.bouncedRecipients.filter(isObject) : [];
    const recipients: AffectedRecipient[] = [];
    for (const r of list) {
      const email = bareAddress(str(r.emailAddress) ?? '');
      if (!email) continue;
      const diagnostic = oneLine((str(r.diagnosticCode) ?? '').replace(/^[\w-]+;\s*/, ''));
      const status = statusIn(str(r.status) ?? '') ?? statusIn(diagnostic) ?? (bounceType === 'Permanent' ? '5.0.0' : '4.0.0');
      recipients.push({ email, status, action: str(r.action)?.toLowerCase() ?? (bounceType === 'Permanent' ? 'failed' : 'delayed'), diagnostic: diagnostic || `SES ${bounceType} bounce (${str(bounce.bounceSubType) ?? 'General'})` });
    }
    // SES decides permanence itself (a full mailbox is Transient even with a 5.2.2 status); Undetermined goes by the status.
    const permanent = bounceType === 'Permanent' || (bounceType !== 'Transient' && recipients.some((r) => r.status?.startsWith('5')));
    return result(message, permanent ? 'bounce' : 'delay', recipients, 'ses-json', `Amazon SES ${bounceType} bounce notification (${str(bounce.bounceSubType) ?? 'General'})`, originalMessageId);
  }
  if (type === 'Complaint' && isObject(note.complaint)) {
    const complaint = note.complaint;
    const list = Array.isArray(complaint.complainedRecipients) ? complaint.complainedRecipients.filter(isObject) : [];
    const feedback = str(complaint.complaintFeedbackType) ?? 'abuse';
    const recipients = list.flatMap((r) => {
      const email = bareAddress(str(r.emailAddress) ?? '');
      return email ? [{ email, diagnostic: `complaint (${feedback}) via ${str(complaint.userAgent) ?? 'Amazon SES'}` }] : [];
    });
    return result(message, 'complaint', recipients, 'ses-json', `Amazon SES complaint notification (${feedback})`, originalMessageId);
  }
  return result(message, 'unknown', [], 'ses-json', `Amazon SES ${type || 'unrecognised'} notification, not a failure`, originalMessageId);
}

// ---------------------------------------------------------------------------------------------
// ARF (RFC 5965) complaints

function fromArf(message: MessageView): Classification | undefined {
  const reports = attachmentsOf(message, ['message/feedback-report']);
  const contentType = header(message, 'content-type') ?? '';
  if (reports.length === 0 && !/report-type\s*=\s*"?feedback-report/i.test(contentType)) return undefined;
  const fields = reports[0] ? parseFields(attachmentText(reports[0], 64 * 1024)) : new Map<string, string[]>();
  const feedbackType = (fields.get('feedback-type')?.[0] ?? 'abuse').toLowerCase().trim();
  const returned = attachmentsOf(message, RETURNED_TYPES)[0];
  const returnedFields = returned ? returnedHeaders(returned) : undefined;
  const originalMessageId = returnedMessageId(message);

  const addresses = unique((fields.get('original-rcpt-to') ?? []).flatMap(addressesIn));
  // Providers redact the complainer in the returned To ("redacted@"); only a real address counts.
  if (addresses.length === 0) for (const a of addressesIn(returnedFields?.get('to')?.[0] ?? '')) if (!/^redacted@|@redacted/i.test(a)) addresses.push(a);
  const agent = fields.get('user-agent')?.[0];
  const recipients = addresses.map((email) => ({ email, diagnostic: `Feedback-Type: ${feedbackType}${agent ? ` (${agent})` : ''}` }));

  // auth-failure is a DMARC/DKIM failure report, not a person's complaint; not-spam is the opposite of one.
  if (feedbackType === 'auth-failure' || feedbackType === 'not-spam') {
    return result(message, 'unknown', recipients, 'arf', `ARF report with Feedback-Type: ${feedbackType}, not a complaint`, originalMessageId);
  }
  return result(message, 'complaint', recipients, 'arf', `ARF feedback report, Feedback-Type: ${feedbackType}`, originalMessageId);
}

// ---------------------------------------------------------------------------------------------
// RFC 3464 delivery status notifications

interface DsnRecipient extends AffectedRecipient {
  outcome: 'bounce' | 'delay' | 'success';
}

function fromDeliveryStatus(message: MessageView): Classification | undefined {
  const parts = attachmentsOf(message, ['message/delivery-status', 'message/global-delivery-status']);
  if (parts.length === 0) return undefined;
  const recipients: DsnRecipient[] = [];
  for (const part of parts) {
    // Groups are separated by blank lines; the first (Reporting-MTA …) is per message.
    for (const group of attachmentText(part).split(/\r?\n[ \t]*\r?\n/)) {
      const fields = parseFields(group);
      const finalRecipient = dsnAddress(fields.get('final-recipient')?.[0]);
      const originalRecipient = dsnAddress(fields.get('original-recipient')?.[0]);
      // We sent to the original address; the final one may be an alias the far side expanded.
      const email = originalRecipient ?? finalRecipient;
      if (!email) continue;
      const diagnostic = oneLine((fields.get('diagnostic-code')?.[0] ?? '').replace(/^[\w-]+\s*;\s*/, ''));
      let status = statusIn(fields.get('status')?.[0] ?? '') ?? statusIn(diagnostic);
      let action = (fields.get('action')?.[0] ?? '').trim().toLowerCase().split(/[\s;(]/)[0] ?? '';
      if (action === '') action = status?.startsWith('5') ? 'failed' : status?.startsWith('4') ? 'delayed' : status?.startsWith('2') ? 'delivered' : 'failed';
      // Action: failed with a 4.x.x status is a temporary failure the MTA gave up on: a soft bounce, counted as a delay.
      // Action: delayed is never final, whatever its status says.
      const outcome: DsnRecipient['outcome'] =
        action === 'failed' ? (status?.startsWith('4') ? 'delay' : 'bounce') : action === 'delayed' ? 'delay' : ['delivered', 'relayed', 'expanded'].includes(action) ? 'success' : status?.startsWith('4') ? 'delay' : 'bounce';
      if (!status && outcome !== 'success') status = outcome === 'bounce' ? '5.0.0' : '4.0.0';
      const entry: DsnRecipient = { email, action, outcome };
      if (status) entry.status = status;
      entry.diagnostic = diagnostic || diagnosticFromText(message.text, email) || `${action}${status ? ` ${status}` : ''} (no Diagnostic-Code given)`;
      if (finalRecipient && finalRecipient !== email) entry.finalRecipient = finalRecipient;
      if (!recipients.some((r) => r.email === email && r.action === action)) recipients.push(entry);
    }
  }
  if (recipients.length === 0) return undefined; // an empty report: let the plain-text forms try
  const originalMessageId = returnedMessageId(message);
  const strip = (list: DsnRecipient[]): AffectedRecipient[] => list.map(({ outcome: _outcome, ...r }) => r);
  const failed = recipients.filter((r) => r.outcome === 'bounce');
  const delayed = recipients.filter((r) => r.outcome === 'delay');
  if (failed.length > 0) {
    const actions = unique([...failed, ...delayed].map((r) => r.action)).join(', ');
    return result(message, 'bounce', strip([...failed, ...delayed]), 'rfc3464', `RFC 3464 report, Action: ${actions}`, originalMessageId);
  }
  if (delayed.length > 0) {
    return result(message, 'delay', strip(delayed), 'rfc3464', `RFC 3464 report, Action: ${unique(delayed.map((r) => r.action)).join(', ')} (temporary)`, originalMessageId);
  }
  // A success DSN (delivered/relayed/expanded) is good news, not a failure: listed as unknown, never a bounce.
  return result(message, 'unknown', strip(recipients), 'rfc3464', `RFC 3464 success report, Action: ${unique(recipients.map((r) => r.action)).join(', ')}`, originalMessageId);
}

function dsnAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const semicolon = value.indexOf(';');
  return bareAddress(semicolon >= 0 ? value.slice(semicolon + 1) : value);
}

/** A line of the human text naming the address with an SMTP code, when the report itself gave no Diagnostic-Code. */
function diagnosticFromText(text: string, address: string): string | undefined {
  const lower = text.slice(0, 64 * 1024).toLowerCase();
  let at = lower.indexOf(address);
  while (at >= 0) {
    const start = lower.lastIndexOf('\n', at) + 1;
    const end = lower.indexOf('\n', at);
    const line = text.slice(start, end < 0 ? undefined : end);
    if (SMTP_CODE.test(line)) return oneLine(line);
    at = lower.indexOf(address, at + address.length);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Plain-text bounces (the forms real servers send outside RFC 3464)

interface PlainForm {
  form: string;
  /** Recognises the form in the human part of the body. */
  test: RegExp;
  /** Whole-text patterns whose group 1 is a failed address. */
  recipients?: RegExp[];
  /** Whole-text patterns whose group 1 is the server's diagnostic. */
  diagnostic?: RegExp[];
}

// Most specific first: several forms share phrases with the generic ones below them.
const PLAIN_FORMS: PlainForm[] = [
  { form: 'qmail', test: /This is the qmail-send program/i },
  { form: 'yahoo', test: /Sorry, we were unable to deliver your message to the following address/i, diagnostic: [/Remote host said:\s*(.+)/i] },
  { form: 'exim', test: /This message was created automatically by mail delivery software|could not be delivered to one or more of its\s+recipients|has not yet been delivered to one or more of its\s+recipients/i },
  { form: 'postfix', test: /This is the mail system at host|I'm sorry to have to inform you that your message could not|THIS IS A WARNING ONLY\.\s+YOU DO NOT NEED TO RESEND/i },
  {
    form: 'sendmail',
    test: /-{3,}\s*The following addresses had (?:permanent fatal|transient non-fatal) errors|-{3,}\s*Transcript of session follows|Warning: message still undelivered after|could not send message for past/i,
    recipients: [/^<([^<>\s]+@[^<>\s]+)>\.\.\. Deferred/im],
    diagnostic: [/\(reason:\s*([^)\n]+)\)/i, /^<[^<>\s]+>\.\.\. (Deferred.*)$/im],
  },
  {
    form: 'office365',
    test: /Your message to \S+ couldn['’]t be delivered|Remote Server returned '|Exchange Online|Office 365|Microsoft 365/i,
    recipients: [/Your message to\s+<?([^\s<>]+@[^\s<>]+?)>?\s+couldn['’]t be delivered/i],
    diagnostic: [/Remote Server returned '([^'\n]+)'/i, /Reported error:\s*(.+)/i],
  },
  {
    form: 'exchange',
    test: /did not reach the following recipient\(s\)|Your message did not reach some or all of the intended recipients|Delivery has failed to these recipients or (?:distribution lists|groups)|RESOLVER\.ADR\./i,
    diagnostic: [/#(\d{3}[ -]\d\.\d{1,3}\.\d{1,3}[^#\n]*?)\s*##?/, /Remote Server returned '([^'\n]+)'/i],
  },
  { form: 'domino', test: /was not delivered to:|not listed in (?:the )?(?:public )?Domino Directory|-+ Failure Reasons -+/i, diagnostic: [/because:\s*\n+\s*(.+)/i] },
  {
    form: 'gmail',
    test: /Delivery to the following recipients? (?:failed permanently|has been delayed)|Google tried to deliver your message|The response from the remote server was|Address not found|There was a temporary problem delivering your message/i,
    recipients: [/Your message wasn['’]t delivered to\s+<?([^\s<>]+@[^\s<>]+?)>?\s+because/i, /There was a temporary problem delivering your message to\s+<?([^\s<>]+@[^\s<>]+?)>?\.?\s/i],
    diagnostic: [/(?:The response from the remote server was|The error that the other server returned was|The response was):?\s*\n?\s*(.+)/i],
  },
  { form: 'outlook.com', test: /Delivery to the following recipients failed\.|Delivery to the following recipients has been delayed\./i },
  {
    form: 'ses',
    test: /The following message to <[^>]+> was undeliverable|An error occurred while trying to deliver the mail to the following recipients/i,
    recipients: [/The following message to <([^>]+)> was undeliverable/i],
    diagnostic: [/The reason for the problem:\s*\n\s*(.+)/i],
  },
  {
    // Gateways (Mimecast, Barracuda, Proofpoint and the like) that refuse on the recipient organisation's behalf.
    form: 'spam-filter',
    test: /An email that you attempted to send to the following address could not be delivered|(?:rejected|blocked) by (?:our |the )?[\w .-]{0,40}(?:policy|filter|firewall)|message (?:was )?blocked|blocked by our (?:bulk|spam)|\b5\.7\.\d{1,3}\b/i,
    recipients: [/Your message to:?\s*<?([^\s<>]+@[^\s<>]+?)>?\s*\n?\s*was (?:blocked|rejected)/i],
    diagnostic: [/Additional information follows\s*:\s*\n\s*--\s*(.+)/i, /((?:550|554|553)[ -]5\.7\.\d{1,3}.*)/],
  },
  {
    form: 'generic',
    test: /could not be delivered|undeliverable|undelivered mail|delivery (?:has )?failed|permanent (?:fatal )?error|returned mail|delivery status notification|user unknown|mailbox unavailable|failed permanently|not yet been delivered|delivery (?:has been )?delayed/i,
  },
];

/** Start of the returned original (or its headers) inside a plain-text bounce: nothing below names a failed recipient. */
const RETURNED_MARKER =
  /^[ \t]*-*[ \t]*(?:Below this line is a copy of the message|This is a copy of the message|Original message headers:|Original message follows|Original message -+|Returned Message -+|The header of the original message|Undelivered Message|Included is a copy of the message header|Message Headers follow)/im;

/** Delay phrasing of every form (Sendmail, Postfix, Exim, Gmail, Exchange warnings). */
const DELAY_TEXT =
  /warning (?:message )?only|do not need to resend|still undelivered after|has not yet been delivered|(?:will|to) (?:keep|continue) (?:trying|to try|retrying)|will retry for|will be retried|has been delayed|delivery (?:has been )?delayed|delivery incomplete|temporary problem delivering|transient non-fatal errors|\bDeferred:/i;

/** What may come before the address on a line that names a failed recipient (nothing, "<", "-- ", "* "). */
const RECIPIENT_LINE_PREFIX = /^(?:<|-+\s*|\*+\s*)?$/;
/** A display name before it ("Roberts, Nia<mailto:", "Amira Castell <") counts only when nothing but ">" follows the address. */
const DISPLAY_NAME_PREFIX = /^[\w .,'"-]{1,60}<(?:mailto:)?$/;

function fromPlainTextBounce(message: MessageView): Classification | undefined {
  const failedHeader = unique((message.headers.get('x-failed-recipients') ?? []).flatMap(addressesIn));
  if (!message.automated) return undefined;
  const cut = message.text.search(RETURNED_MARKER);
  const human = cut >= 0 ? message.text.slice(0, cut) : message.text;
  const matched = PLAIN_FORMS.find((f) => f.test.test(human)) ?? (failedHeader.length > 0 ? PLAIN_FORMS.at(-1) : undefined);
  // A subject such as "Undeliverable" on an automated message counts: the headers already say a program sent it.
  const generic = PLAIN_FORMS.at(-1)!;
  const form = matched ?? (message.daemonSender && generic.test.test(message.subject) ? generic : undefined);
  if (!form) return undefined;

  const temporary = DELAY_TEXT.test(human) || /\(Delay\)|\bdelayed\b|\bwarning\b/i.test(message.subject);
  const recipients = plainRecipients(message, human, form, failedHeader);
  const globalDiagnostic = firstMatch(form.diagnostic ?? [], message.text.slice(0, 64 * 1024));
  const affected: AffectedRecipient[] = recipients.map(({ email, diagnostic: local }) => {
    const diagnostic =
      (SMTP_CODE.test(local) ? local : (globalDiagnostic ?? diagnosticFromText(human, email) ?? local)) || summaryLine(human) || message.subject || 'delivery failed';
    const status = statusIn(diagnostic) ?? statusFromPhrase(diagnostic, temporary);
    return { email, status, action: temporary ? 'delayed' : 'failed', diagnostic };
  });
  // A permanent-looking form whose every code is 4.x.x is a temporary failure (a soft bounce): counted, not suppressed.
  const permanent = !temporary && (affected.length === 0 || affected.some((r) => r.status?.startsWith('5')));
  const kind: InboxKind = permanent ? 'bounce' : 'delay';
  const names: Record<string, string> = { generic: 'non-standard bounce', 'spam-filter': 'spam filter rejection', ses: 'Amazon SES notification', 'outlook.com': 'Outlook.com/Hotmail notification' };
  const label = names[form.form] ?? `${form.form} notification`;
  const why = `${label}${temporary ? ' (delay warning)' : ''}${affected.length === 0 ? ', no failed address found' : ''}`;
  return result(message, kind, affected, form.form, why, returnedMessageId(message));
}

function firstMatch(patterns: RegExp[], text: string): string | undefined {
  for (const pattern of patterns) {
    const found = pattern.exec(text)?.[1];
    if (found && oneLine(found)) return oneLine(found);
  }
  return undefined;
}

/** The first line of the human text that says what went wrong, for forms that give no server text. */
function summaryLine(human: string): string | undefined {
  const line = /^.*(?:not (?:be )?delivered|undeliverable|failed|rejected|blocked|not listed|unknown|delayed|could not).*$/im.exec(human.slice(0, 16 * 1024));
  return line ? oneLine(line[0]) : undefined;
}

/**
 * Failed addresses in a plain-text bounce: lines that start with an address (bare, <...>, "Name<mailto:...>",
 * "-- address", Postfix's "(expanded from <...>)"), each with the lines under it as its diagnostic. When an
 * address shows up twice (Exchange repeats it under "Diagnostic information for administrators"), the
 * occurrence with an SMTP code wins. X-Failed-Recipients, when present, is the list.
 */
function plainRecipients(message: MessageView, human: string, form: PlainForm, failedHeader: string[]): { email: string; diagnostic: string }[] {
  const found = new Map<string, string>();
  // Postfix wraps "(expanded from <...>)" onto the next line.
  const lines = human.replace(/\(expanded\s+from\s+</gi, '(expanded from <').split(/\r?\n/);
  const excluded = new Set([message.from ?? '', ...message.deliveredTo]);
  let current: string | undefined;
  let buffer: string[] = [];
  const flush = (): void => {
    if (current === undefined) return;
    const diagnostic = oneLine(buffer.join(' '));
    const previous = found.get(current) ?? '';
    if (previous === '' || (!SMTP_CODE.test(previous) && SMTP_CODE.test(diagnostic))) found.set(current, diagnostic);
    current = undefined;
    buffer = [];
  };
  for (const raw of lines.slice(0, 2000)) {
    const line = raw.trim();
    const match = ADDRESS.exec(line);
    const prefix = match ? line.slice(0, match.index) : '';
    const named = match !== null && DISPLAY_NAME_PREFIX.test(prefix) && /^>?\s*:?\s*$/.test(line.slice(match.index + match[0].length));
    const address = match && (RECIPIENT_LINE_PREFIX.test(prefix) || named) ? bareAddress(match[0]) : undefined;
    if (address && !excluded.has(address)) {
      flush();
      // Postfix: "<alias@far.example> (expanded from <we-sent-to@example.org>): reason"
      const expanded = /\(expanded from <([^<>\s]+)>\)/i.exec(line);
      current = expanded?.[1] ? (bareAddress(expanded[1]) ?? address) : address;
      const rest = line.slice(match!.index + match![0].length).replace(/^>?\s*(?:\(expanded from <[^>]*>\))?\s*:?\s*/, '').replace(/^(?:<mailto:[^>]*>|on \w{3}, .*)$/i, '');
      buffer = rest ? [rest] : [];
      if (!found.has(current)) found.set(current, '');
    } else if (current !== undefined) {
      // A blank line ends the lines under an address: what follows is the notice's own prose.
      if (line === '') flush();
      else if (buffer.length < 6) buffer.push(line.replace(/^\(reason:\s*(.*?)\)?$/i, '$1'));
    }
  }
  flush();
  for (const pattern of [...(form.recipients ?? []), /RCPT TO:\s*<([^<>\s]+@[^<>\s]+)>/i]) {
    const address = bareAddress(pattern.exec(message.text.slice(0, 64 * 1024))?.[1] ?? '');
    if (address && !excluded.has(address) && !found.has(address)) found.set(address, '');
  }
  if (failedHeader.length > 0) return failedHeader.map((email) => ({ email, diagnostic: found.get(email) ?? '' }));
  return [...found].map(([email, diagnostic]) => ({ email, diagnostic }));
}

// ---------------------------------------------------------------------------------------------
// Auto-replies (RFC 3834, X-Autoreply and friends, Exchange and Gmail out-of-office)

/** Subject prefixes that out-of-office responders write (English, French, German, Dutch, Spanish, Italian, Portuguese, Nordic, Polish). */
const AUTO_REPLY_SUBJECT =
  /^(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response)|autoreply|out of (?:the )?office(?: autoreply)?|réponse automatique|abwesenheitsnotiz|automatische antwort|automatisch antwoord|respuesta automática|risposta automatica|resposta automática|autosvar|automatisk svar|automaattinen vastaus|odpowiedź automatyczna|自动回复|自動応答)\s*:|^out of (?:the )?office\b/i;

function fromAutoReply(message: MessageView): Classification | undefined {
  const autoSubmitted = (header(message, 'auto-submitted') ?? '').trim().toLowerCase();
  const precedence = (header(message, 'precedence') ?? '').trim().toLowerCase();
  const xAuto = ['x-autoreply', 'x-autorespond', 'x-autoresponse', 'x-autoreply-from', 'x-mail-autoreply', 'x-autogenerated', 'x-autoresponder'].find((h) => {
    const v = header(message, h);
    return v !== undefined && !/^\s*(?:no|false|0)\s*$/i.test(v);
  });
  const subjectSays = AUTO_REPLY_SUBJECT.test(message.subject);
  const exchange = [...message.headers.keys()].some((k) => k.startsWith('x-ms-exchange-') || k === 'thread-topic' || k === 'x-ms-has-attach');
  const google = [...message.headers.keys()].some((k) => k.startsWith('x-gm-') || k.startsWith('x-google-'));

  let signal: string | undefined;
  if (autoSubmitted.startsWith('auto-replied')) signal = `Auto-Submitted: ${autoSubmitted}`;
  // auto-generated that is not a bounce (bounces were tried first) is a program answering: Exchange OOF sends exactly this.
  else if (autoSubmitted.startsWith('auto-generated') || autoSubmitted.startsWith('auto-notified')) signal = `Auto-Submitted: ${autoSubmitted}`;
  else if (xAuto) signal = `${xAuto} header`;
  else if (precedence === 'auto_reply') signal = 'Precedence: auto_reply';
  // Precedence bulk/junk alone marks lists and newsletters too; only with an out-of-office subject does it mean an auto-reply.
  else if (subjectSays) signal = `subject "${message.subject.slice(0, 60)}"${precedence === 'bulk' || precedence === 'junk' ? ` with Precedence: ${precedence}` : ''}`;
  if (!signal) return undefined;

  const form = exchange && (subjectSays || autoSubmitted !== '') ? 'exchange-oof' : google && autoSubmitted !== '' ? 'gmail-vacation' : autoSubmitted !== '' ? 'rfc3834' : xAuto ? 'x-autoreply' : 'subject';
  return result(message, 'auto-reply', senderAsRecipient(message), form, `auto-reply (${signal})`);
}

// ---------------------------------------------------------------------------------------------
// Unsubscribe requests and replies

function fromUnsubscribe(message: MessageView, context: ClassifyContext): Classification | undefined {
  const listed = new Set((context.unsubscribeAddresses ?? []).map((a) => bareAddress(a)).filter((a): a is string => a !== undefined));
  const to = message.deliveredTo.find((a) => listed.has(a));
  if (to) return result(message, 'unsubscribe', senderAsRecipient(message), 'unsubscribe-mailto', `sent to the unsubscribe address ${to}${/unsubscribe/i.test(message.subject) ? ' with subject "unsubscribe"' : ''}`);
  // Our List-Unsubscribe mailto carries ?subject=unsubscribe: that exact subject means the same request,
  // even when an alias or forward hid the address it was sent to.
  if (/^\s*unsubscribe\s*$/i.test(message.subject)) return result(message, 'unsubscribe', senderAsRecipient(message), 'unsubscribe-subject', 'subject is exactly "unsubscribe"');
  return undefined;
}

const REPLY_SUBJECT = /^\s*(?:re|aw|sv|vs|antw|antwort|odp|ynt|res|rif|r|réf|ref|vá|回复|答复|返信)\s*(?:\[\d+\])?\s*[:：]/i;

function fromReply(message: MessageView): Classification | undefined {
  const threaded = header(message, 'in-reply-to') !== undefined || header(message, 'references') !== undefined;
  const subjectSays = REPLY_SUBJECT.test(message.subject);
  if (!threaded && !subjectSays) return undefined;
  const why = threaded ? (header(message, 'in-reply-to') !== undefined ? 'In-Reply-To' : 'References') : `subject "${message.subject.slice(0, 60)}"`;
  return result(message, 'reply', senderAsRecipient(message), 'reply', `a person's reply (${why})`);
}
