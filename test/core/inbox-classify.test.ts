import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { classifyMessage, INBOX_PARSE_OPTIONS, type Classification, type InboxKind } from '../../src/core/inbox-classify.js';

// The corpus: one realistic message per form (test/fixtures/inbox/README.md describes each).
// DSNs from a real MTA are not generated here: Debian's postfix/exim are not installed on these
// machines or in CI, so the RFC 3464 files are written in the shape Postfix and Sendmail produce.
const CORPUS = path.resolve(import.meta.dirname, '..', 'fixtures', 'inbox');
const context = { unsubscribeAddresses: ['unsubscribe@example.org'] };
const ours = (hex: string): string => `<2026-11-27T10-02-11Z-ab12.${hex}@example.org>`;

async function classifyFile(file: string, options: object = INBOX_PARSE_OPTIONS): Promise<Classification> {
  const email = await PostalMime.parse(readFileSync(path.join(CORPUS, file)), options);
  return classifyMessage(email, context);
}

async function classifyRaw(raw: string, ctx = context): Promise<Classification> {
  return classifyMessage(await PostalMime.parse(raw, INBOX_PARSE_OPTIONS), ctx);
}

interface Expected {
  kind: InboxKind;
  form?: string;
  /** email, status, action of each recipient, in order. */
  recipients: [string, string?, string?][];
  original?: string;
}

const TABLE: Record<string, Expected> = {
  'rfc3464-failed.eml': { kind: 'bounce', form: 'rfc3464', recipients: [['amira.castell@brookfield.example.com', '5.1.1', 'failed']], original: ours('0123456789abcdef0123') },
  'rfc3464-delayed.eml': { kind: 'delay', form: 'rfc3464', recipients: [['owen.penhale@stmarys.example.net', '4.4.1', 'delayed']], original: ours('1111111111abcdef0123') },
  'rfc3464-mixed.eml': {
    kind: 'bounce',
    form: 'rfc3464',
    recipients: [
      ['bursar@harbourside.example.com', '5.1.1', 'failed'],
      ['office@harbourside.example.com', '4.2.2', 'delayed'],
    ],
    original: ours('2222222222abcdef0123'),
  },
  'rfc3464-delayed-5xx.eml': { kind: 'delay', form: 'rfc3464', recipients: [['jo.tremayne@penwith.example.net', '5.2.2', 'delayed']], original: ours('3333333333abcdef0123') },
  'rfc3464-success.eml': { kind: 'unknown', form: 'rfc3464', recipients: [['kit.rowe@stmarys.example.net', '2.0.0', 'delivered']], original: ours('4444444444abcdef0123') },
  'rfc3464-foreign.eml': { kind: 'bounce', form: 'rfc3464', recipients: [['finance.team@brookfield.example.com', '5.1.1', 'failed']], original: '<CAJ7mQ4Nv2x8L0hRpX3sFwzK9dT1yEbU@mail.example.org>' },
  'forged-bounce.eml': { kind: 'bounce', form: 'rfc3464', recipients: [['never.sent@example.net', '5.1.1', 'failed']], original: '<2026-01-01T00-00-00Z-ffff.ffffffffffffffffffff@example.org>' },
  'arf-abuse.eml': { kind: 'complaint', form: 'arf', recipients: [['dana.quill@example.net']], original: ours('5555555555abcdef0123') },
  'arf-redacted.eml': { kind: 'complaint', form: 'arf', recipients: [], original: ours('6666666666abcdef0123') },
  'ses-json-sns-bounce.eml': { kind: 'bounce', form: 'ses-json', recipients: [['lee.harrow@westfield.example.com', '5.1.1', 'failed']], original: ours('7777777777abcdef0123') },
  'ses-json-complaint.eml': { kind: 'complaint', form: 'ses-json', recipients: [['sam.ferris@example.net']], original: ours('8888888888abcdef0123') },
  'ses-email.eml': { kind: 'bounce', form: 'ses', recipients: [['ruth.okafor@northgate.example.com', '5.1.0', 'failed']], original: ours('9999999999abcdef0123') },
  'exim-failed.eml': { kind: 'bounce', form: 'exim', recipients: [['t.nakamura@eastbrook.example.com', '5.1.1', 'failed']], original: ours('aaaaaaaaaaabcdef0123') },
  'exim-text.eml': { kind: 'bounce', form: 'exim', recipients: [['admissions@oldmill.example.net', '5.0.0', 'failed']], original: ours('bbbbbbbbbbabcdef0123') },
  'exim-delay.eml': { kind: 'delay', form: 'exim', recipients: [['governors@oldmill.example.net', '4.7.1', 'delayed']] },
  'qmail.eml': { kind: 'bounce', form: 'qmail', recipients: [['r.achebe@lowfield.example.com', '5.1.1', 'failed']], original: ours('ccccccccccabcdef0123') },
  'postfix-old.eml': { kind: 'bounce', form: 'postfix', recipients: [['head@hillcrest.example.com', '5.1.1', 'failed']], original: ours('ddddddddddabcdef0123') },
  'sendmail.eml': { kind: 'bounce', form: 'sendmail', recipients: [['clerk@valeview.example.net', '5.1.1', 'failed']], original: ours('eeeeeeeeeeabcdef0123') },
  'sendmail-delay.eml': { kind: 'delay', form: 'sendmail', recipients: [['fields.office@moorside.example.com', '4.0.0', 'delayed']], original: ours('ffffffffffabcdef0123') },
  'exchange2003.eml': { kind: 'bounce', form: 'exchange', recipients: [['b.hollis@quayside.example.com', '5.1.1', 'failed']], original: ours('0a0a0a0a0aabcdef0123') },
  'exchange2007-html-only.eml': { kind: 'bounce', form: 'exchange', recipients: [['nia.roberts@cliffside.example.net', '5.1.1', 'failed']], original: ours('0b0b0b0b0babcdef0123') },
  'office365.eml': { kind: 'bounce', form: 'office365', recipients: [['ellis.mwangi@trust-schools.example.com', '5.1.10', 'failed']], original: ours('0c0c0c0c0cabcdef0123') },
  'domino.eml': { kind: 'bounce', form: 'domino', recipients: [['h.lowe@greenway.example.com', '5.1.1', 'failed']], original: ours('0d0d0d0d0dabcdef0123') },
  'gmail.eml': { kind: 'bounce', form: 'gmail', recipients: [['pat.oyelaran@example.net', '5.1.1', 'failed']], original: ours('0e0e0e0e0eabcdef0123') },
  'gmail-delay.eml': { kind: 'delay', form: 'gmail', recipients: [['cam.bright@slowmail.example.net', '4.7.0', 'delayed']], original: ours('0f0f0f0f0fabcdef0123') },
  'yahoo.eml': { kind: 'bounce', form: 'yahoo', recipients: [['gwen.talbot@example.com', '5.0.0', 'failed']], original: ours('1010101010abcdef0123') },
  'outlook-com.eml': { kind: 'bounce', form: 'outlook.com', recipients: [['rhys.penrose@example.com', '5.2.2', 'failed']], original: ours('1212121212abcdef0123') },
  'mimecast.eml': { kind: 'bounce', form: 'spam-filter', recipients: [['sofia.brennan@brightwater.example.com', '5.7.1', 'failed']] },
  'proofpoint.eml': { kind: 'bounce', form: 'spam-filter', recipients: [['hal.greaves@lakeside.example.org', '5.7.1', 'failed']], original: ours('1313131313abcdef0123') },
  'unknown-charset.eml': { kind: 'bounce', form: 'exim', recipients: [['lars.ostergaard@bergstrom.example.net', '5.1.1', 'failed']], original: ours('1414141414abcdef0123') },
  'autoreply-rfc3834.eml': { kind: 'auto-reply', form: 'rfc3834', recipients: [['n.fenwick@example.com']] },
  'autoreply-exchange-oof.eml': { kind: 'auto-reply', form: 'exchange-oof', recipients: [['t.marsh@example.com']] },
  'autoreply-gmail-vacation.eml': { kind: 'auto-reply', form: 'gmail-vacation', recipients: [['imogen.ashdown@example.net']] },
  'autoreply-x-autoreply.eml': { kind: 'auto-reply', form: 'x-autoreply', recipients: [['dev.malhotra@example.com']] },
  'autoreply-german.eml': { kind: 'auto-reply', form: 'subject', recipients: [['k.vogel@example.net']] },
  'autoreply-french-subject.eml': { kind: 'auto-reply', form: 'subject', recipients: [['luc.martel@example.com']] },
  'unsubscribe-mailto.eml': { kind: 'unsubscribe', form: 'unsubscribe-mailto', recipients: [['oliver.quint@example.net']] },
  'reply-quoting.eml': { kind: 'reply', form: 'reply', recipients: [['amara.diallo@example.com']] },
  'reply-references-only.eml': { kind: 'reply', form: 'reply', recipients: [['bryn.caddick@example.net']] },
  'reply-subject-aw.eml': { kind: 'reply', form: 'reply', recipients: [['jana.becker@example.com']] },
  'reply-outlook-html.eml': { kind: 'reply', form: 'reply', recipients: [['c.okafor@example.com']] },
  'unknown-plain.eml': { kind: 'unknown', recipients: [] },
  'mailer-daemon-notice.eml': { kind: 'unknown', recipients: [] },
};

describe('classifyMessage over the corpus', () => {
  it('has an expectation for every .eml file, and at least 25 of them', () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort();
    expect(files).toEqual(Object.keys(TABLE).sort());
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  it.each(Object.entries(TABLE))('%s', async (file, expected) => {
    const c = await classifyFile(file);
    expect(c.kind).toBe(expected.kind);
    if (expected.form) expect(c.form).toBe(expected.form);
    expect(c.recipients.map((r) => [r.email, r.status, r.action].filter((v) => v !== undefined))).toEqual(expected.recipients);
    expect(c.originalMessageId).toBe(expected.original);
    if (expected.original) expect(c.referencedMessageIds[0]).toBe(expected.original);
    expect(c.reason).not.toBe('');
    if (['bounce', 'delay', 'complaint'].includes(c.kind)) {
      for (const r of c.recipients) expect(r.diagnostic?.trim(), `${r.email} diagnostic`).toMatch(/\S{3}/);
      for (const r of c.recipients) expect(r.diagnostic).not.toMatch(/\n/);
    }
  });

  it('finds the same kinds and recipients with postal-mime default options (only the Message-ID of an inlined original is lost)', async () => {
    for (const file of Object.keys(TABLE)) {
      const [forced, plain] = [await classifyFile(file), await classifyFile(file, {})];
      expect({ file, kind: plain.kind, recipients: plain.recipients }).toEqual({ file, kind: forced.kind, recipients: forced.recipients });
    }
  });

  it('reads attachments given as strings (utf8 and base64) as it reads ArrayBuffers', async () => {
    for (const file of ['rfc3464-mixed.eml', 'arf-abuse.eml', 'exim-failed.eml', 'rfc3464-delayed.eml']) {
      const base = await classifyFile(file);
      for (const attachmentEncoding of ['utf8', 'base64'] as const) {
        expect(await classifyFile(file, { ...INBOX_PARSE_OPTIONS, attachmentEncoding })).toEqual(base);
      }
    }
  });
});

describe('classifyMessage, tricky cases', () => {
  it('keeps the diagnostics of a mixed failed + delayed report apart, each marked by its action', async () => {
    const c = await classifyFile('rfc3464-mixed.eml');
    expect(c.reason).toBe('RFC 3464 report, Action: failed, delayed');
    expect(c.recipients[0]!.diagnostic).toBe('550 5.1.1 <bursar@harbourside.example.com>... User unknown');
    expect(c.recipients[1]!.diagnostic).toBe('452 4.2.2 <office@harbourside.example.com>... Mailbox full');
  });

  it('reports the server text of a folded Diagnostic-Code on one line, without its smtp; type', async () => {
    const c = await classifyFile('rfc3464-failed.eml');
    expect(c.recipients[0]!.diagnostic).toBe('550 5.1.1 <amira.castell@brookfield.example.com>: Recipient address rejected: User unknown in virtual mailbox table');
  });

  it('treats Action: delayed with a 5.x.x status as a delay, and Action: failed with 4.x.x as a temporary (soft) failure', async () => {
    expect((await classifyFile('rfc3464-delayed-5xx.eml')).kind).toBe('delay');
    const soft = await classifyRaw(dsn('Action: failed\nStatus: 4.4.7\nDiagnostic-Code: smtp; 421 4.4.7 Message expired in queue'));
    expect(soft.kind).toBe('delay');
    expect(soft.recipients).toEqual([{ email: 'sam.ng@example.net', status: '4.4.7', action: 'failed', diagnostic: '421 4.4.7 Message expired in queue' }]);
  });

  it('derives an enhanced status from a basic SMTP code, and an action from the status', async () => {
    const c = await classifyRaw(dsn('Diagnostic-Code: smtp; 554 Transaction failed'));
    expect(c.recipients).toEqual([{ email: 'sam.ng@example.net', status: '5.0.0', action: 'failed', diagnostic: '554 Transaction failed' }]);
  });

  it('reports the Original-Recipient we sent to, and the Final-Recipient when an alias was expanded', async () => {
    const c = await classifyRaw(dsn('Original-Recipient: rfc822;Head@Example.net\nAction: failed\nStatus: 5.1.1', 'Final-Recipient: rfc822; h.smith@staff.example.net'));
    expect(c.recipients[0]).toMatchObject({ email: 'head@example.net', finalRecipient: 'h.smith@staff.example.net' });
  });

  it('unwraps SES JSON from its SNS envelope, and takes our Message-ID from mail.headers', async () => {
    const c = await classifyFile('ses-json-sns-bounce.eml');
    expect(c.recipients[0]!.diagnostic).toBe('550 5.1.1 <lee.harrow@westfield.example.com>: Recipient address rejected: User unknown');
    const transient = await classifyRaw(
      `From: ses@example.org\nTo: news@example.org\nSubject: n\n\n${JSON.stringify({
        notificationType: 'Bounce',
        bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: 'full@example.net', status: '5.2.2', diagnosticCode: 'smtp; 552 5.2.2 Mailbox full' }] },
        mail: { messageId: 'ses-id', commonHeaders: { messageId: ours('2121212121abcdef0123') } },
      })}\n`,
    );
    expect(transient).toMatchObject({ kind: 'delay', form: 'ses-json', originalMessageId: ours('2121212121abcdef0123') });
    expect(transient.recipients).toEqual([{ email: 'full@example.net', status: '5.2.2', action: 'delayed', diagnostic: '552 5.2.2 Mailbox full' }]);
  });

  it('reads an Exchange NDR that has only an HTML body', async () => {
    const email = await PostalMime.parse(readFileSync(path.join(CORPUS, 'exchange2007-html-only.eml')), INBOX_PARSE_OPTIONS);
    expect(email.text).toBeUndefined();
    const c = classifyMessage(email, context);
    expect(c.recipients).toEqual([{ email: 'nia.roberts@cliffside.example.net', status: '5.1.1', action: 'failed', diagnostic: '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found' }]);
  });

  it('reports the address we sent to when Postfix expanded it to another mailbox', async () => {
    expect((await classifyFile('postfix-old.eml')).recipients[0]!.email).toBe('head@hillcrest.example.com');
  });

  it('keeps the server text of a message in an unknown charset', async () => {
    const c = await classifyFile('unknown-charset.eml');
    expect(c.recipients[0]!.diagnostic).toMatch(/^550 5\.1\.1 Mottager/);
  });

  it('lists threading references best first: In-Reply-To, then References newest first, without repeats', async () => {
    const c = await classifyFile('reply-outlook-html.eml');
    expect(c.referencedMessageIds).toEqual([ours('2020202020abcdef0123'), ours('1f1f1f1f1fabcdef0123')]);
    expect(c.originalMessageId).toBeUndefined();
  });

  it('collects delivered-to addresses for VERP matching, but not X-Failed-Recipients', async () => {
    const c = await classifyFile('postfix-old.eml');
    expect(c.deliveredTo).toEqual(['news@example.org']);
    expect((await classifyFile('gmail.eml')).deliveredTo).toEqual(['news@example.org']);
    const verp = await classifyRaw(`Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\nTo: bounces+k3j2@example.org\nDelivered-To: Bounces+K3J2@example.org\nX-Failed-Recipients: a@example.net\nSubject: Undelivered Mail Returned to Sender\n\nCould not be delivered to a@example.net\n`);
    expect(verp.deliveredTo).toEqual(['bounces+k3j2@example.org']);
    expect(verp.kind).toBe('bounce');
  });

  it('does not call a forwarded bounce from a person a bounce', async () => {
    const c = await classifyRaw(
      `From: Ana Ruiz <ana.ruiz@example.com>\nTo: news@example.org\nSubject: Fwd: Undelivered Mail Returned to Sender\n\nSee below, is this address wrong?\n\nThis is the mail system at host mx.example.net.\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<gone@example.net>: 550 5.1.1 User unknown\n`,
    );
    expect(c.kind).toBe('unknown');
  });

  it('lets a bounce or an auto-reply sent to the unsubscribe address stay what it is', async () => {
    const oof = await classifyRaw(`From: a@example.net\nTo: unsubscribe@example.org\nSubject: Automatic reply: unsubscribe\nAuto-Submitted: auto-generated\n\nAway.\n`);
    expect(oof.kind).toBe('auto-reply');
    const bounce = await classifyRaw(dsn('Action: failed\nStatus: 5.1.1').replace('To: news@example.org', 'To: unsubscribe@example.org'));
    expect(bounce.kind).toBe('bounce');
  });

  it('matches the unsubscribe address in any case, and takes an exact "unsubscribe" subject sent elsewhere', async () => {
    const c = await classifyRaw(`From: Zed <zed@example.net>\nTo: news@example.org\nSubject: please remove me\n\nbye\n`, { unsubscribeAddresses: ['NEWS@EXAMPLE.ORG'] });
    expect(c).toMatchObject({ kind: 'unsubscribe', recipients: [{ email: 'zed@example.net' }] });
    const bySubject = await classifyRaw(`From: zed@example.net\nTo: news@example.org\nSubject: Unsubscribe\n\n`);
    expect(bySubject).toMatchObject({ kind: 'unsubscribe', form: 'unsubscribe-subject' });
  });

  it('does not take Precedence: bulk alone for an auto-reply', async () => {
    const c = await classifyRaw(`From: list@example.net\nTo: news@example.org\nSubject: Weekly digest\nPrecedence: bulk\n\nNews.\n`);
    expect(c.kind).toBe('unknown');
  });

  it('calls an ARF authentication-failure report unknown, not a complaint', async () => {
    const raw = readFileSync(path.join(CORPUS, 'arf-abuse.eml'), 'utf8').replace('Feedback-Type: abuse', 'Feedback-Type: auth-failure');
    expect((await classifyRaw(raw)).kind).toBe('unknown');
  });

  it('never throws: empty, header-less, binary and odd-shaped input', async () => {
    const empty = classifyMessage({ headers: [], headerLines: [], attachments: [] }, context);
    expect(empty).toMatchObject({ kind: 'unknown', recipients: [], referencedMessageIds: [], deliveredTo: [] });
    const junk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) % 256;
    expect(classifyMessage(await PostalMime.parse(junk), context).kind).toBe('unknown');
    const odd = { headers: [{ key: 'content-type', originalKey: 'Content-Type', value: 'multipart/report; report-type=delivery-status' }], headerLines: [], attachments: [{ filename: null, mimeType: 'message/delivery-status', disposition: null, content: new Uint8Array([0xff, 0xfe, 0x00]) }] };
    expect(classifyMessage(odd, context).kind).toBe('unknown');
    // A malformed object from a caller that did not use postal-mime: reported, not thrown.
    const broken = { headers: null, attachments: [{ mimeType: 'message/delivery-status', content: 42 }] } as unknown as Parameters<typeof classifyMessage>[0];
    expect(classifyMessage(broken, context).kind).toBe('unknown');
  });

  it('bounds its work on a huge body: a 20 MB bounce text is classified from its start, quickly', async () => {
    const raw = readFileSync(path.join(CORPUS, 'exim-text.eml'), 'utf8');
    const email = await PostalMime.parse(raw);
    email.text = `${email.text ?? ''}${'x'.repeat(20 * 1024 * 1024)}`;
    const started = performance.now();
    const c = classifyMessage(email, context);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(c.recipients.map((r) => r.email)).toEqual(['admissions@oldmill.example.net']);
  });
});

/** A minimal RFC 3464 report for sam.ng@example.net, with the given per-recipient fields. */
function dsn(fields: string, finalRecipient = 'Final-Recipient: rfc822; sam.ng@example.net'): string {
  return [
    'Return-Path: <>',
    'From: MAILER-DAEMON@mx.example.net',
    'To: news@example.org',
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'Delivery failed.',
    '--b',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    '',
    finalRecipient,
    fields,
    '',
    '--b--',
    '',
  ].join('\n');
}
