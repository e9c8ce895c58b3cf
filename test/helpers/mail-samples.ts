/**
 * Raw mail as it arrives in a sender's mailbox, for source and parser tests and the bench:
 * RFC 3464 bounces (Postfix's shape, with the returned bulletin) and plain replies. Fictional
 * people and organisations only; CRLF line endings, as on the wire.
 */

/** A bulletin as bulletin sends it: text + HTML alternative, quoted-printable, about `bodyBytes` in total. */
export function bulletinMessage(i: number, bodyBytes = 8_000): string {
  const paragraph =
    'Hartmoor Community Safety Partnership met on Tuesday to review the winter plan. Residents can =\r\nreach the duty team on 01632 960123 or 07700 900456 =E2=80=94 please share with colleagues.\r\n';
  const html = `<p style=3D"margin:0 0 12px;font-family:Arial,sans-serif;font-size:15px;color:#1a1a1a">${paragraph}</p>\r\n`;
  const half = Math.max(1, Math.floor(bodyBytes / 2));
  const text = paragraph.repeat(Math.max(1, Math.floor(half / paragraph.length)));
  const htmlBody = html.repeat(Math.max(1, Math.floor(half / html.length)));
  return [
    `From: Hartmoor Community Safety <community@example.org>`,
    `To: head${i}@school${i % 50}.example.com`,
    `Subject: Winter plan: what changes for schools`,
    `Date: Tue, 01 Dec 2026 09:00:00 +0000`,
    `Message-ID: <r20261201.${i}.bulletin@example.org>`,
    `X-Campaign-Id: winter-plan`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/alternative; boundary="alt-${i}"`,
    ``,
    `--alt-${i}`,
    `Content-Type: text/plain; charset=utf-8`,
    `Content-Transfer-Encoding: quoted-printable`,
    ``,
    text,
    `--alt-${i}`,
    `Content-Type: text/html; charset=utf-8`,
    `Content-Transfer-Encoding: quoted-printable`,
    ``,
    `<!doctype html><html><body>${htmlBody}</body></html>`,
    `--alt-${i}--`,
    ``,
  ].join('\r\n');
}

/** A Postfix-style RFC 3464 bounce for message `i`, returning the whole original (about `bodyBytes`). */
export function dsnMessage(i: number, bodyBytes = 8_000): string {
  const rcpt = `head${i}@school${i % 50}.example.com`;
  return [
    `Return-Path: <>`,
    `Received: by mx.example.org (Postfix) id 4Zq${i}; Tue, 01 Dec 2026 09:00:05 +0000 (UTC)`,
    `Date: Tue, 01 Dec 2026 09:00:05 +0000 (UTC)`,
    `From: MAILER-DAEMON@mx.example.org (Mail Delivery System)`,
    `Subject: Undelivered Mail Returned to Sender`,
    `To: community@example.org`,
    `Auto-Submitted: auto-replied`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-${i}"`,
    `Message-Id: <dsn.${i}@mx.example.org>`,
    ``,
    `This is a MIME-encapsulated message.`,
    ``,
    `--dsn-${i}`,
    `Content-Description: Notification`,
    `Content-Type: text/plain; charset=us-ascii`,
    ``,
    `This is the mail system at host mx.example.org.`,
    ``,
    `I'm sorry to have to inform you that your message could not`,
    `be delivered to one or more recipients. It's attached below.`,
    ``,
    `<${rcpt}>: host mx.school.example.com[192.0.2.25] said: 550 5.1.1`,
    `    <${rcpt}>: Recipient address rejected: User unknown (in reply to RCPT TO command)`,
    ``,
    `--dsn-${i}`,
    `Content-Description: Delivery report`,
    `Content-Type: message/delivery-status`,
    ``,
    `Reporting-MTA: dns; mx.example.org`,
    `X-Postfix-Queue-ID: 4Zq${i}`,
    `Arrival-Date: Tue, 01 Dec 2026 09:00:04 +0000 (UTC)`,
    ``,
    `Final-Recipient: rfc822; ${rcpt}`,
    `Original-Recipient: rfc822;${rcpt}`,
    `Action: failed`,
    `Status: 5.1.1`,
    `Remote-MTA: dns; mx.school.example.com`,
    `Diagnostic-Code: smtp; 550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown`,
    ``,
    `--dsn-${i}`,
    `Content-Description: Undelivered Message`,
    `Content-Type: message/rfc822`,
    ``,
    bulletinMessage(i, bodyBytes),
    `--dsn-${i}--`,
    ``,
  ].join('\r\n');
}

/** A person's reply, plain text, about 1-2 KB. */
export function replyMessage(i: number, options: { charset?: string; subject?: string } = {}): string {
  return [
    `From: Head ${i} <head${i}@school${i % 50}.example.com>`,
    `To: community@example.org`,
    `Subject: ${options.subject ?? 'Re: Winter plan: what changes for schools'}`,
    `Date: Tue, 01 Dec 2026 10:${String(i % 60).padStart(2, '0')}:00 +0000`,
    `Message-ID: <reply.${i}@school${i % 50}.example.com>`,
    `In-Reply-To: <r20261201.${i}.bulletin@example.org>`,
    `References: <r20261201.${i}.bulletin@example.org>`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=${options.charset ?? 'utf-8'}`,
    `Content-Transfer-Encoding: 8bit`,
    ``,
    `Thank you, we will share this with staff at our Monday briefing.`,
    ``,
    `Kind regards,`,
    `Head ${i}`,
    ``,
    `> Hartmoor Community Safety Partnership met on Tuesday to review the winter plan.`.repeat(1),
    ``,
  ].join('\r\n');
}

/** A message with a base64 attachment of `bytes` (decoded size), built line by line without a giant string copy. */
export function messageWithAttachment(bytes: number): Buffer {
  const head = [
    `From: Head 7 <head7@school7.example.com>`,
    `To: community@example.org`,
    `Subject: Re: Winter plan (our full site survey attached)`,
    `Date: Tue, 01 Dec 2026 11:00:00 +0000`,
    `Message-ID: <survey.7@school7.example.com>`,
    `In-Reply-To: <r20261201.7.bulletin@example.org>`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/mixed; boundary="mix"`,
    ``,
    `--mix`,
    `Content-Type: text/plain; charset=utf-8`,
    ``,
    `The survey is attached.`,
    `--mix`,
    `Content-Type: application/pdf; name="survey.pdf"`,
    `Content-Disposition: attachment; filename="survey.pdf"`,
    `Content-Transfer-Encoding: base64`,
    ``,
    ``,
  ].join('\r\n');
  const chunk = Buffer.alloc(57 * 1024, 0x41).toString('base64'); // 57 bytes → 76 base64 chars per line
  const line = chunk.match(/.{1,76}/g)!.join('\r\n') + '\r\n';
  const body = line.repeat(Math.ceil(bytes / (57 * 1024)));
  return Buffer.concat([Buffer.from(head), Buffer.from(body), Buffer.from('--mix--\r\n')]);
}

/** mboxrd: a From_ line per message, and ">"-quoting of body lines that start with (>*)From. */
export function toMbox(messages: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  messages.forEach((message, index) => {
    const text = (typeof message === 'string' ? message : message.toString('latin1')).replace(/\r\n/g, '\n');
    const quoted = text.replace(/^(>*From )/gm, '>$1');
    parts.push(Buffer.from(`From sender${index}@example.net Tue Dec  1 09:00:00 2026\n${quoted}${quoted.endsWith('\n') ? '' : '\n'}\n`, 'latin1'));
  });
  return Buffer.concat(parts);
}
