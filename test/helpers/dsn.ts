/**
 * What a receiving mail server sends back later: an RFC 3464 delivery status notification for a
 * message it had accepted with 250, built with nodemailer's MIME builder the way an MTA lays one
 * out (human part, message/delivery-status, the returned message), and person-written answers.
 */
import MimeNode from 'nodemailer/lib/mime-node';

export interface DsnOptions {
  /** Where the DSN goes: the original's envelope sender (a VERP address, or the From). */
  to: string;
  recipient: string;
  /** The original message as the server received it. */
  original: Buffer;
  status?: string;
  action?: 'failed' | 'delayed';
  diagnostic?: string;
  /** Return only the headers (text/rfc822-headers), as many servers do. */
  headersOnly?: boolean;
  /** Leave the original out entirely (then only VERP or the address can match it). */
  withoutOriginal?: boolean;
}

export async function buildDsn(options: DsnOptions): Promise<Buffer> {
  const action = options.action ?? 'failed';
  const status = options.status ?? (action === 'failed' ? '5.1.1' : '4.4.7');
  const diagnostic = options.diagnostic ?? (action === 'failed' ? `550 5.1.1 <${options.recipient}>: Recipient address rejected: User unknown in virtual mailbox table` : '451 4.4.7 Delivery time expired, still trying');
  const root = new MimeNode('multipart/report; report-type=delivery-status');
  root.setHeader({
    From: 'Mail Delivery System <MAILER-DAEMON@mx.schools.example.net>',
    To: options.to,
    Subject: action === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)',
    'Auto-Submitted': 'auto-replied',
  });
  root
    .createChild('text/plain')
    .setContent(
      action === 'failed'
        ? `This is the mail system at host mx.schools.example.net.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n<${options.recipient}>: ${diagnostic}\r\n`
        : `This is the mail system at host mx.schools.example.net.\r\n\r\n####################################################################\r\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n####################################################################\r\n`,
    );
  root
    .createChild('message/delivery-status')
    .setContent(
      `Reporting-MTA: dns; mx.schools.example.net\r\nArrival-Date: Fri, 27 Nov 2026 10:02:15 +0000\r\n\r\nFinal-Recipient: rfc822; ${options.recipient}\r\nOriginal-Recipient: rfc822;${options.recipient}\r\nAction: ${action}\r\nStatus: ${status}\r\nRemote-MTA: dns; store.schools.example.net\r\nDiagnostic-Code: smtp; ${diagnostic}\r\n`,
    );
  if (!options.withoutOriginal) {
    const headers = options.original.subarray(0, Math.max(0, options.original.indexOf('\r\n\r\n')) + 2);
    if (options.headersOnly) root.createChild('text/rfc822-headers').setContent(headers);
    else root.createChild('message/rfc822').setContent(options.original);
  }
  return root.build();
}

/** A person answering one of our messages, quoting it below. */
export async function buildReply(options: { from: string; to: string; inReplyTo: string; subject: string; text: string }): Promise<Buffer> {
  const node = new MimeNode('text/plain');
  node.setHeader({ From: options.from, To: options.to, Subject: `Re: ${options.subject}`, 'In-Reply-To': options.inReplyTo, References: options.inReplyTo });
  node.setContent(`${options.text}\r\n\r\nOn Fri, 27 Nov 2026 at 10:02, Hartmoor Community Safety wrote:\r\n> Dear colleague,\r\n> the original statement\r\n`);
  return node.build();
}

/** An out-of-office answer as Exchange writes one. */
export async function buildOutOfOffice(options: { from: string; to: string; inReplyTo: string; subject: string }): Promise<Buffer> {
  const node = new MimeNode('text/plain');
  node.setHeader({ From: options.from, To: options.to, Subject: `Automatic reply: ${options.subject}`, 'In-Reply-To': options.inReplyTo, 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' });
  node.setContent('I am out of the office until Monday 7 December with limited access to email.\r\n');
  return node.build();
}

/** An mbox (mboxrd) of these messages, as a mail program exports one. */
export function toMbox(messages: Buffer[]): Buffer {
  const parts = messages.map((m) => {
    const text = m.toString('utf8').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
    return `From MAILER-DAEMON Fri Nov 27 10:05:00 2026\n${text}${text.endsWith('\n') ? '' : '\n'}\n`;
  });
  return Buffer.from(parts.join(''), 'utf8');
}
