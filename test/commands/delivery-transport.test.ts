import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifySmtpError, describeTransport, openTransport, parseTransport, redactTransport, type DeliveryTransport } from '../../src/io/transport.js';
import MimeNode from 'nodemailer/lib/mime-node';
import { normaliseEnvelope } from '../../src/io/smtp-pool.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { buildMessage } from '../helpers/messages.js';
import { scratchDir } from '../helpers/scratch.js';

describe('transport URLs', () => {
  it('parses smtp, smtps and outbox', () => {
    expect(parseTransport('smtp://mailer%40example.org:p%40ss@smtp.example.org:2525')).toEqual({
      kind: 'smtp',
      secure: false,
      host: 'smtp.example.org',
      port: 2525,
      user: 'mailer@example.org',
      pass: 'p@ss',
    });
    expect(parseTransport('smtp://relay.example.org')).toEqual({ kind: 'smtp', secure: false, host: 'relay.example.org', port: 587 });
    expect(parseTransport('smtps://u:p@smtp.example.org')).toMatchObject({ secure: true, port: 465 });
    expect(parseTransport('outbox:runs/outbox')).toEqual({ kind: 'outbox', dir: 'runs/outbox' });
  });

  it('never shows the password, in errors either', () => {
    expect(redactTransport('smtp://user:hunter22@smtp.example.org:587')).toBe('smtp://user:***@smtp.example.org:587');
    expect(redactTransport('smtps://user@smtp.example.org')).toBe('smtps://user@smtp.example.org');
    expect(describeTransport(parseTransport('smtp://a%40example.org:hunter22@smtp.example.org'))).toBe('smtp://a%40example.org:***@smtp.example.org:587');
    for (const bad of ['ftp://user:hunter22@host', 'smtp://user:hunter22@', 'smtp://user:hunter22@host:587/path', 'smtp://user:hunter22@host:99999']) {
      expect(() => parseTransport(bad)).toThrow();
      try {
        parseTransport(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter22');
      }
    }
    expect(() => parseTransport('outbox:')).toThrow(/needs a folder/);
  });
});

describe('classifySmtpError', () => {
  it('sorts replies, auth and settings errors, and lost connections', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 550, permanent: true, response: '550 no' }, false)).toEqual({ kind: 'permanent', code: 550, response: '550 no' });
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 451, permanent: false, response: '451 later' }, false)).toMatchObject({ kind: 'temporary', code: 451 });
    expect(classifySmtpError({ code: 'EMESSAGE', responseCode: 503, permanent: false, response: '503 bad sequence' }, true)).toMatchObject({ kind: 'temporary' });
    expect(classifySmtpError({ code: 'EAUTH', responseCode: 535, response: '535 invalid' }, false)).toMatchObject({ kind: 'fatal', reason: 'auth' });
    expect(classifySmtpError({ code: 'ETLS', message: 'Error initiating TLS' }, false)).toMatchObject({ kind: 'fatal', reason: 'connection' });
    expect(classifySmtpError({ code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, false)).toMatchObject({ kind: 'fatal' });
    expect(classifySmtpError({ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, false)).toMatchObject({ kind: 'temporary' });
    expect(classifySmtpError({ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, true)).toMatchObject({ kind: 'uncertain' });
    expect(classifySmtpError({ code: 'ETIMEDOUT', message: 'Timeout' }, true)).toMatchObject({ kind: 'uncertain' });
  });
});

describe('SMTP transport against a real server', () => {
  let sink: SmtpSink;
  let transport: DeliveryTransport | undefined;
  beforeEach(async () => {
    sink = await startSmtpSink();
  });
  afterEach(async () => {
    await transport?.close();
    transport = undefined;
    await sink.close();
  });

  it.each([
    ['STARTTLS, with a login', 'starttls' as const, 'smtp'],
    ['implicit TLS (smtps)', 'implicit' as const, 'smtps'],
  ])('delivers over %s', async (_, tls, scheme) => {
    await sink.close();
    sink = await startSmtpSink({ tls, auth: { user: 'liaison', pass: 's3cret' } });
    // smtp-server's own certificate is self-signed
    transport = await openTransport(parseTransport(`${scheme}://liaison:s3cret@127.0.0.1:${sink.port}`), { concurrency: 2, tls: { rejectUnauthorized: false } });
    const outcomes = await Promise.all(['a', 'b', 'c'].map(async (name, i) => transport!.deliver(await buildMessage(`${name}@example.com`, i + 2))));
    expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'sent']);
    expect(sink.received.map((m) => m.secure)).toEqual([true, true, true]);
    expect(sink.logins.length).toBeGreaterThanOrEqual(1);
    expect(sink.logins.every((user) => user === 'liaison')).toBe(true);
  });

  it('delivers the raw bytes with the given envelope and reports the reply', async () => {
    transport = await openTransport(parseTransport(sink.url), { concurrency: 2 });
    const message = await buildMessage('Head@School.example.com', 2);
    expect(await transport.deliver(message)).toEqual({ kind: 'sent', code: 250, response: expect.stringContaining('OK queued') as string });
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]?.to).toEqual(['head@school.example.com']);
    const parsed = await sink.parse(sink.received[0]!);
    expect(parsed.messageId).toBe('<2.test@example.org>');
    expect(parsed.subject).toBe('Statement for line 2');
  });

  it('550 → permanent; 451 → temporary', async () => {
    transport = await openTransport(parseTransport(sink.url), { concurrency: 1 });
    sink.behave('gone@example.com', 'reject');
    sink.behave('grey@example.com', 'defer-once');
    expect(await transport.deliver(await buildMessage('gone@example.com', 2))).toMatchObject({ kind: 'permanent', code: 550 });
    expect(await transport.deliver(await buildMessage('grey@example.com', 3))).toMatchObject({ kind: 'temporary', code: 451 });
    expect(await transport.deliver(await buildMessage('grey@example.com', 3))).toMatchObject({ kind: 'sent' });
  });

  it('a connection dropped before DATA is temporary, and the pool does not resend it on its own', async () => {
    transport = await openTransport(parseTransport(sink.url), { concurrency: 1 });
    // the first message makes the connection a reused one: the pool's requeue path (maxRequeues) applies then
    expect(await transport.deliver(await buildMessage('first@example.com', 2))).toMatchObject({ kind: 'sent' });
    sink.behave('drop@example.com', 'drop-before-data');
    expect(await transport.deliver(await buildMessage('drop@example.com', 3))).toMatchObject({ kind: 'temporary' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(sink.receivedFor('drop@example.com')).toHaveLength(0);
    expect(sink.events.filter((e) => e.to === 'drop@example.com')).toHaveLength(1);
  });

  it('a connection dropped in the middle of a large message is temporary', async () => {
    transport = await openTransport(parseTransport(sink.url), { concurrency: 1 });
    sink.behave('big@example.com', 'drop-mid-data');
    const outcome = await transport.deliver(await buildMessage('big@example.com', 2, { bodyBytes: 24 * 1024 * 1024 }));
    expect(outcome).toMatchObject({ kind: 'temporary' });
    expect(sink.receivedFor('big@example.com')).toHaveLength(0);
  });

  it('keeps its connections: at most one per concurrency, reused after a refused recipient, replaced after a drop', async () => {
    transport = await openTransport(parseTransport(sink.url), { concurrency: 2 });
    sink.behave('gone@example.com', 'reject');
    const first = ['a', 'b', 'gone', 'c', 'd', 'e'].map((name, i) => buildMessage(`${name}@example.com`, i + 2));
    const outcomes = await Promise.all((await Promise.all(first)).map((m) => transport!.deliver(m)));
    expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'permanent', 'sent', 'sent', 'sent']);
    const ports = new Set(sink.received.map((m) => m.remotePort));
    expect(ports.size).toBeLessThanOrEqual(2);

    sink.behave('drop@example.com', 'drop-before-data');
    expect(await transport.deliver(await buildMessage('drop@example.com', 8))).toMatchObject({ kind: 'temporary' });
    expect(await transport.deliver(await buildMessage('after@example.com', 9))).toMatchObject({ kind: 'sent' });
    expect(sink.receivedFor('after@example.com')).toHaveLength(1);
  });

  it('a connection dropped after the final dot, before the reply, is uncertain', async () => {
    transport = await openTransport(parseTransport(sink.url), { concurrency: 1 });
    sink.behave('maybe@example.com', 'drop-after-data');
    const outcome = await transport.deliver(await buildMessage('maybe@example.com', 2));
    expect(outcome).toMatchObject({ kind: 'uncertain' });
    // the server did keep it: this is exactly why it must not be resent automatically
    expect(sink.receivedFor('maybe@example.com')).toHaveLength(1);
  });
});

describe('SMTP auth', () => {
  it('a wrong password is fatal (auth) and the password appears nowhere in the outcome', async () => {
    const sink = await startSmtpSink({ auth: { user: 'mailer', pass: 'right-secret' } });
    const transport = await openTransport(parseTransport(`smtp://mailer:wrong-secret@127.0.0.1:${sink.port}`), { concurrency: 1 });
    try {
      expect(transport.description).toBe(`smtp://mailer:***@127.0.0.1:${sink.port}`);
      const outcome = await transport.deliver(await buildMessage('a@example.com', 2));
      expect(outcome).toMatchObject({ kind: 'fatal', reason: 'auth', code: 535 });
      expect(JSON.stringify(outcome)).not.toContain('wrong-secret');
      expect(await transport.verify()).toMatchObject({ kind: 'fatal', reason: 'auth' });
    } finally {
      await transport.close();
      await sink.close();
    }
  });
});

describe('SMTP envelope', () => {
  const byMimeNode = (envelope: { from: string; to: string[] }) => {
    const node = new MimeNode().setEnvelope(envelope);
    const { from, to } = node.getEnvelope();
    return { from, to };
  };

  it('is what nodemailer would send, with or without its shortcut for plain addresses', () => {
    const addresses = ['head@school.example.com', 'a.b+tag@sub-1.example.org', 'x_y-z@a-.example.net', '-lead@example.com', 'Head@School.Example.COM', 'a..b@example.com', 'zoë@example.net', 'safe@jõgeva.example', 'a@xn--exmple-cua.example.org', "o'brien@example.com", 'a@localhost'];
    for (const to of addresses) {
      const envelope = { from: 'comms@example.org', to: [to] };
      expect(normaliseEnvelope(MimeNode, envelope), to).toEqual(byMimeNode(envelope));
    }
    expect(normaliseEnvelope(MimeNode, { from: 'comms@example.org', to: ['a@example.com', 'a@example.com'] })).toEqual({ from: 'comms@example.org', to: ['a@example.com'] });
    expect(normaliseEnvelope(MimeNode, { from: 'comms@example.org', to: ['safe@jõgeva.example'] }).to).toEqual(['safe@xn--jgeva-dua.example']);
  });
});

describe('outbox transport', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await scratchDir('bulletin-outbox-');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one numbered .eml per message, atomically, and continues numbering', async () => {
    const outbox = join(dir, 'outbox');
    let transport = await openTransport({ kind: 'outbox', dir: outbox }, { concurrency: 1 });
    const message = await buildMessage('Head+Office@School.example.com', 2);
    expect(await transport.deliver(message)).toEqual({ kind: 'sent', code: 250, response: 'written to outbox' });
    expect(await transport.deliver(await buildMessage('b@example.com', 3))).toMatchObject({ kind: 'sent' });
    transport = await openTransport({ kind: 'outbox', dir: outbox }, { concurrency: 1 });
    await transport.deliver(await buildMessage('c@example.com', 4));
    const files = (await readdir(outbox)).sort();
    expect(files).toEqual(['00001-head_office@school.example.com.eml', '00002-b@example.com.eml', '00003-c@example.com.eml']);
    expect(await readFile(join(outbox, files[0]!))).toEqual(message.raw);
  });
});
