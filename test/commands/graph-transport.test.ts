import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManifestRecord } from '../../src/core/manifest.js';
import type { OutgoingMessage } from '../../src/core/outgoing.js';
import { runDelivery, type DeliveryEvent, type DeliveryOptions } from '../../src/io/deliver.js';
import {
  GRAPH_MAX_CONCURRENCY,
  GRAPH_MAX_MIME_BYTES,
  graphSizeProblem,
  openGraphTransport,
  parseGraphError,
  parseRetryAfter,
  type AccessTokenSource,
  type GraphTransportOptions,
} from '../../src/io/graph-transport.js';
import { ManifestStore, readManifest } from '../../src/io/manifest-store.js';
import type { DeliveryOutcome, DeliveryTransport } from '../../src/io/transport.js';
import { startFakeGraph, type FakeGraph } from '../helpers/fake-graph.js';
import { buildMessages, lazily } from '../helpers/messages.js';

const MAILBOX = 'community@example.org';
// Shaped like a real access token (a JWT), so the scrubbing is tested on what Graph really uses.
const TOKEN_1 = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJuIjoxfQ.c2lnbmF0dXJlLW9uZQ';
const TOKEN_2 = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJuIjoyfQ.c2lnbmF0dXJlLXR3bw';
const FAST: DeliveryOptions = { concurrency: 4, retries: 3, maxConsecutiveFailures: 10, backoff: { baseMs: 20, maxMs: 100 } };

let dir: string;
let fake: FakeGraph;
let transport: DeliveryTransport | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulletin-graph-'));
  fake = await startFakeGraph({ tokens: [TOKEN_1], mailboxes: [MAILBOX] });
});
afterEach(async () => {
  await transport?.close();
  transport = undefined;
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

/** A token source like msal's: the current token, a new one when asked to renew. */
function tokenSource(tokens: string[] = [TOKEN_1, TOKEN_2]): AccessTokenSource & { calls: boolean[] } {
  let current = 0;
  const calls: boolean[] = [];
  return {
    calls,
    token({ renew }) {
      calls.push(renew);
      if (renew) current = Math.min(current + 1, tokens.length - 1);
      return Promise.resolve(tokens[current]!);
    },
  };
}

function open(options: Partial<GraphTransportOptions> = {}): DeliveryTransport {
  transport = openGraphTransport({ graphHost: fake.url, mailbox: MAILBOX, tokens: tokenSource(), concurrency: 4, ...options });
  return transport;
}

async function deliver(messages: OutgoingMessage[], options: Partial<DeliveryOptions> = {}, extra: { onEvent?: (e: DeliveryEvent) => void; skip?: (key: string) => boolean } = {}) {
  const store = await ManifestStore.open(dir);
  try {
    return await runDelivery({ messages: lazily(messages), transport: transport ?? open(), store, options: { ...FAST, ...options }, ...extra });
  } finally {
    await store.close();
  }
}

async function manifest(): Promise<ManifestRecord[]> {
  const { records, skipped } = await readManifest(join(dir, 'manifest.jsonl'));
  expect(skipped).toEqual([]);
  return records;
}

function statesOf(records: ManifestRecord[], key: string): string[] {
  return records.filter((r) => r.key === key).map((r) => `${r.attempt}:${r.state}`);
}

/** A message of exactly `size` raw bytes. */
function messageOfSize(size: number, email = 'big@example.com'): OutgoingMessage {
  const head = Buffer.from(`From: ${MAILBOX}\r\nTo: ${email}\r\nSubject: Size test\r\nMessage-ID: <size@example.org>\r\n\r\n`);
  const raw = Buffer.concat([head, Buffer.alloc(size - head.length, 'x')]);
  return { key: email, email, line: 2, messageId: '<size@example.org>', envelope: { from: MAILBOX, to: [email] }, raw };
}

describe('Microsoft Graph transport', () => {
  it('202: sends the exact MIME bytes once and records request-id and client-request-id', async () => {
    const messages = await buildMessages(3);
    const result = await deliver(messages);
    expect(result).toMatchObject({ sent: 3, failed: 0, deferred: 0, uncertain: [], attempts: 3 });
    for (const m of messages) {
      const got = fake.acceptedFor(m.email);
      expect(got).toHaveLength(1);
      expect(got[0]!.raw.equals(m.raw)).toBe(true);
      expect(got[0]!.mailbox).toBe(MAILBOX);
    }
    const records = await manifest();
    const sent = records.filter((r) => r.state === 'sent');
    expect(sent).toHaveLength(3);
    for (const record of sent) {
      const got = fake.accepted.find((m) => record.response?.includes(m.requestId));
      expect(got, record.response).toBeDefined();
      expect(record.code).toBe(202);
      expect(record.response).toBe(`accepted by Microsoft Graph (request-id ${got!.requestId}, client-request-id ${got!.clientRequestId!})`);
    }
    // one client-request-id per request
    expect(new Set(fake.accepted.map((m) => m.clientRequestId)).size).toBe(3);
  });

  it('429 with Retry-After: retried no sooner than asked, and nothing else reaches Graph meanwhile', async () => {
    fake.answerDelayMs = 100;
    fake.next({ kind: 'answer', status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.', retryAfter: '1' });
    const messages = await buildMessages(16);
    const started = Date.now();
    const result = await deliver(messages);
    expect(result).toMatchObject({ sent: 16, failed: 0, deferred: 0, uncertain: [] });
    for (const m of messages) expect(fake.acceptedFor(m.email)).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);

    // The throttled message comes back no sooner than Graph asked.
    const throttled = fake.requests.find((r) => r.status === 429)!;
    const throttledMessage = fake.bodiesRead.find((m) => m.requestId === throttled.requestId)!;
    const retry = fake.accepted.find((m) => m.raw.equals(throttledMessage.raw))!;
    expect(retry.startedAt - throttled.answeredAt!).toBeGreaterThanOrEqual(995);
    // Meanwhile only requests that the other workers had already sent off before the client had
    // read the 429 reach Graph (one each, two on a slow machine); without the hold, the rest of
    // the list (12 messages, 100 ms each) would follow within the second.
    const early = fake.requests.filter((r) => r.at >= throttled.answeredAt! && r.at - throttled.answeredAt! < 995);
    expect(early.length).toBeLessThanOrEqual(2 * (GRAPH_MAX_CONCURRENCY - 1));

    const records = await manifest();
    const deferred = records.find((r) => r.state === 'deferred' && r.code === 429)!;
    expect(deferred.response).toMatch(/^HTTP 429 ApplicationThrottled: Application is over its MailboxConcurrency limit\. \[request-id /);
    expect(Date.parse(deferred.nextTry!) - throttled.answeredAt!).toBeGreaterThanOrEqual(999);
    expect(statesOf(records, deferred.key)).toEqual(['1:sending', '1:deferred', '2:sending', '2:sent']);
  });

  it('after a 429, the transport itself holds every other message until Retry-After, without a request', async () => {
    const graph = open();
    fake.next({ kind: 'answer', status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.', retryAfter: '30' });
    const [first, second] = await buildMessages(2);
    expect(await graph.deliver(first!)).toMatchObject({ kind: 'temporary', code: 429, retryAfterMs: 30_000 });
    const held = await graph.deliver(second!);
    expect(held).toMatchObject({ kind: 'temporary', response: expect.stringMatching(/^not sent: Microsoft Graph asked us to wait until /) as string });
    expect(held.kind === 'temporary' ? held.retryAfterMs : 0).toBeGreaterThan(29_000);
    expect(fake.requests).toHaveLength(1);
  });

  it('503 without Retry-After: temporary, retried with the usual backoff', async () => {
    fake.next({ kind: 'answer', status: 503, code: 'ServiceUnavailable', message: 'Service Unavailable' });
    const [message] = await buildMessages(1);
    const result = await deliver([message!]);
    expect(result).toMatchObject({ sent: 1, attempts: 2 });
    expect(statesOf(await manifest(), message!.key)).toEqual(['1:sending', '1:deferred', '2:sending', '2:sent']);
    expect(fake.accepted).toHaveLength(1);
  });

  it('connection lost after the whole request body: uncertain, never resent', async () => {
    fake.next({ kind: 'destroy-after-body' });
    const messages = await buildMessages(1);
    const result = await deliver(messages, { concurrency: 1 });
    expect(result.uncertain).toHaveLength(1);
    expect(result.uncertain[0]!.response).toMatch(/after the whole request was sent, before Microsoft Graph answered/);
    expect(result.attempts).toBe(1);
    expect(fake.bodiesRead).toHaveLength(1);
    expect(fake.bodiesRead[0]!.raw.equals(messages[0]!.raw)).toBe(true);
    const records = await manifest();
    expect(statesOf(records, messages[0]!.key)).toEqual(['1:sending', '1:sending']);
    expect(records.at(-1)).toMatchObject({ uncertain: true });
  });

  it('connection lost before the request body was complete: temporary, retried, delivered once', async () => {
    open({ concurrency: 1 });
    fake.next({ kind: 'destroy-on-headers' });
    // large enough that the body cannot all be handed to the operating system before the reset
    const message = messageOfSize(GRAPH_MAX_MIME_BYTES);
    const events: DeliveryEvent[] = [];
    const result = await deliver([message], { concurrency: 1 }, { onEvent: (e) => events.push(e) });
    expect(result).toMatchObject({ sent: 1, uncertain: [], attempts: 2 });
    const deferred = events.find((e) => e.type === 'deferred');
    expect(deferred && 'outcome' in deferred ? deferred.outcome : undefined).toMatchObject({ kind: 'temporary', response: expect.stringMatching(/before the whole request was sent/) as string });
    expect(fake.accepted).toHaveLength(1);
    expect(fake.accepted[0]!.raw.equals(message.raw)).toBe(true);
  });

  it('401: renews the token once and sends, exactly once', async () => {
    fake.tokens = new Set([TOKEN_2]); // TOKEN_1 has been revoked
    const tokens = tokenSource();
    open({ tokens });
    const [message] = await buildMessages(1);
    const result = await deliver([message!]);
    expect(result).toMatchObject({ sent: 1, attempts: 1, failed: 0 });
    expect(tokens.calls).toEqual([false, true]);
    expect(fake.requests.map((r) => r.status)).toEqual([401, 202]);
    expect(fake.accepted).toHaveLength(1);
    expect(fake.accepted[0]!.token).toBe(TOKEN_2);
  });

  it('a token that expires in the middle of a send is renewed: nobody lost, nobody twice', async () => {
    fake.answerDelayMs = 10;
    const tokens = tokenSource();
    open({ tokens });
    const messages = await buildMessages(12);
    let sent = 0;
    const result = await deliver(messages, {}, {
      onEvent: (e) => {
        if (e.type === 'sent' && ++sent === 4) {
          fake.tokens.delete(TOKEN_1);
          fake.tokens.add(TOKEN_2);
        }
      },
    });
    expect(result).toMatchObject({ sent: 12, failed: 0, deferred: 0, uncertain: [], attempts: 12 });
    for (const m of messages) expect(fake.acceptedFor(m.email)).toHaveLength(1);
    expect(fake.accepted.some((m) => m.token === TOKEN_2)).toBe(true);
    expect(fake.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
  });

  it('a revoked token (refused again after renewal) stops the run, which resumes later without sending anyone twice', async () => {
    fake.tokens = new Set();
    const messages = await buildMessages(5);
    const first = await deliver(messages, { concurrency: 1 });
    expect(first).toMatchObject({ sent: 0, stoppedBecause: 'auth' });
    expect(first.stopDetail).toMatch(/^HTTP 401 InvalidAuthenticationToken: /);
    expect(fake.accepted).toHaveLength(0);
    const records = await manifest();
    expect(records.at(-1)).toMatchObject({ state: 'deferred', code: 401 });

    // the administrator fixes the app; the resume sends everyone once
    fake.tokens.add(TOKEN_1);
    await transport?.close();
    transport = undefined;
    const done = new Set(records.filter((r) => r.state === 'sent').map((r) => r.key));
    const second = await deliver(messages, {}, { skip: (key) => done.has(key) });
    expect(second).toMatchObject({ sent: 5, failed: 0 });
    for (const m of messages) expect(fake.acceptedFor(m.email)).toHaveLength(1);
  });

  it('403 ErrorAccessDenied stops the run (auth), with Graph code, message and request-id on record', async () => {
    fake.next({ kind: 'answer', status: 403, code: 'ErrorAccessDenied', message: 'Access to OData is disabled: blocked by the tenant application access policy.' });
    const result = await deliver(await buildMessages(3), { concurrency: 1 });
    expect(result).toMatchObject({ sent: 0, stoppedBecause: 'auth' });
    const parsed = parseGraphError(result.stopDetail!);
    expect(parsed).toMatchObject({ status: 403, code: 'ErrorAccessDenied', message: 'Access to OData is disabled: blocked by the tenant application access policy.' });
    expect(parsed!.requestId).toBe(fake.requests[0]!.requestId);
    expect(parsed!.date).toBeDefined();
  });

  it('a token source that fails (no consent) stops the run with its message', async () => {
    open({ tokens: { token: () => Promise.reject(new Error("AADSTS65001: The user or administrator has not consented to use the application with ID 'a0b1'.")) } });
    const result = await deliver(await buildMessages(2), { concurrency: 1 });
    expect(result).toMatchObject({ sent: 0, stoppedBecause: 'auth' });
    expect(result.stopDetail).toBe("could not get an access token for Microsoft Graph: AADSTS65001: The user or administrator has not consented to use the application with ID 'a0b1'.");
    expect(fake.requests).toHaveLength(0);
  });

  it('a message over the limit fails without a request; one at the limit goes', async () => {
    expect(graphSizeProblem(GRAPH_MAX_MIME_BYTES)).toBeUndefined();
    const atLimit = messageOfSize(GRAPH_MAX_MIME_BYTES, 'fits@example.com');
    const over = messageOfSize(GRAPH_MAX_MIME_BYTES + 1, 'over@example.com');
    const result = await deliver([over, atLimit], { concurrency: 1 });
    expect(result).toMatchObject({ sent: 1, failed: 1 });
    expect(fake.requests).toHaveLength(1);
    expect(fake.acceptedFor('fits@example.com')).toHaveLength(1);
    const failed = (await manifest()).find((r) => r.state === 'failed')!;
    expect(failed.key).toBe('over@example.com');
    expect(failed.response).toBe(
      'not sent: the message is 3 MB (3,145,729 bytes), over the 3 MB (3,145,728 bytes) Microsoft Graph accepts in one sendMail request (4 MB once base64-encoded): make it smaller (link to large files rather than attaching them), or send it over SMTP',
    );
  });

  it(`never has more than ${GRAPH_MAX_CONCURRENCY} requests in flight, whatever concurrency is asked`, async () => {
    fake.answerDelayMs = 40;
    open({ concurrency: 10 });
    const result = await deliver(await buildMessages(20), { concurrency: 10 });
    expect(result).toMatchObject({ sent: 20 });
    expect(fake.maxConcurrent).toBe(GRAPH_MAX_CONCURRENCY);
  });

  it('the token never appears in outcomes, events, the manifest or a stop message, even when Graph echoes it', async () => {
    fake.tokens = new Set([TOKEN_2]);
    open();
    fake.next({ kind: 'answer', status: 400, code: 'BadRequest', message: 'Token {token} was rejected for this request.' });
    const outcomes: DeliveryOutcome[] = [];
    const result = await deliver(await buildMessages(3), { concurrency: 1 }, { onEvent: (e) => 'outcome' in e && outcomes.push(e.outcome) });
    expect(result.failed).toBe(1);
    const everything = [JSON.stringify(outcomes), JSON.stringify(result), await readFile(join(dir, 'manifest.jsonl'), 'utf8')].join('\n');
    expect(everything).toContain('Token *** was rejected');
    for (const token of [TOKEN_1, TOKEN_2]) {
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.split('.')[2]);
    }
  });
});

describe('Microsoft Graph transport: timeouts, verify and settings', () => {
  it('no answer after the whole body, within the timeout: uncertain', async () => {
    const graph = open({ timeoutMs: 300 });
    fake.next({ kind: 'hang' });
    const [message] = await buildMessages(1);
    const outcome = await graph.deliver(message!);
    expect(outcome).toMatchObject({ kind: 'uncertain', response: 'no answer from Microsoft Graph within 300 ms (after the whole request was sent, before Microsoft Graph answered)' });
    expect(fake.bodiesRead).toHaveLength(1);
  });

  it('verify: reads mailboxSettings; a 403 there (no MailboxSettings.Read) is fine', async () => {
    const graph = open();
    expect(await graph.verify()).toBeUndefined();
    fake.mailboxSettings = 'forbidden';
    expect(await graph.verify()).toBeUndefined();
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET /v1.0/users/${MAILBOX}/mailboxSettings 200`,
      `GET /v1.0/users/${MAILBOX}/mailboxSettings 403`,
    ]);
    expect(fake.accepted).toHaveLength(0);
  });

  it('verify: an unknown mailbox and a refused token come back as outcomes with Graph’s details', async () => {
    const wrong = openGraphTransport({ graphHost: fake.url, mailbox: 'nobody@example.org', tokens: tokenSource(), concurrency: 1 });
    try {
      const outcome = await wrong.verify();
      expect(outcome).toMatchObject({ kind: 'fatal', reason: 'connection', code: 404 });
      expect(parseGraphError(outcome!.response)).toMatchObject({ status: 404, code: 'ErrorInvalidUser' });
    } finally {
      await wrong.close();
    }
    fake.tokens = new Set();
    const outcome = await open().verify();
    expect(outcome).toMatchObject({ kind: 'fatal', reason: 'auth', code: 401 });
    expect(parseGraphError(outcome!.response)).toMatchObject({ status: 401, code: 'InvalidAuthenticationToken' });
  });

  it('verify: Graph unreachable is a connection problem', async () => {
    const graph = open();
    await fake.close();
    const outcome = await graph.verify();
    expect(outcome).toMatchObject({ kind: 'fatal', reason: 'connection', response: expect.stringMatching(/^cannot reach Microsoft Graph at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/) as string });
    fake = await startFakeGraph(); // for afterEach
  });

  it('https with a private CA given in tls.ca; without it, a connection problem that stops the run', async () => {
    // a throwaway certificate for 127.0.0.1, made by openssl in this test's folder
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const key = await readFile(join(dir, 'key.pem'), 'utf8');
    const cert = await readFile(join(dir, 'cert.pem'), 'utf8');
    const secure = await startFakeGraph({ tokens: [TOKEN_1], tls: { key, cert } });
    const trusted = openGraphTransport({ graphHost: secure.url, mailbox: MAILBOX, tokens: tokenSource(), concurrency: 2, tls: { ca: cert } });
    const untrusted = openGraphTransport({ graphHost: secure.url, mailbox: MAILBOX, tokens: tokenSource(), concurrency: 2 });
    try {
      const [message] = await buildMessages(1);
      expect(await trusted.verify()).toBeUndefined();
      expect(await trusted.deliver(message!)).toMatchObject({ kind: 'sent', code: 202 });
      expect(secure.accepted[0]!.raw.equals(message!.raw)).toBe(true);
      expect(await untrusted.verify()).toMatchObject({ kind: 'fatal', reason: 'connection', response: expect.stringMatching(/^cannot connect securely to Microsoft Graph at https:\/\/127\.0\.0\.1:\d+: .*(SELF_SIGNED|self-signed)/) as string });
      expect(await untrusted.deliver(message!)).toMatchObject({ kind: 'fatal', reason: 'connection' });
      expect(secure.accepted).toHaveLength(1);
    } finally {
      await trusted.close();
      await untrusted.close();
      await secure.close();
    }
  });

  it('the Graph host must be https (http only for this machine)', () => {
    expect(() => openGraphTransport({ graphHost: 'http://graph.microsoft.com', mailbox: MAILBOX, tokens: tokenSource(), concurrency: 1 })).toThrow(/must start with https:\/\//);
    expect(() => openGraphTransport({ graphHost: 'graph.microsoft.com', mailbox: MAILBOX, tokens: tokenSource(), concurrency: 1 })).toThrow(/is not a URL/);
    const us = openGraphTransport({ graphHost: 'https://graph.microsoft.us', mailbox: MAILBOX, tokens: tokenSource(), concurrency: 1 });
    expect(us.description).toBe(`graph:${MAILBOX} via https://graph.microsoft.us`);
    void us.close();
  });

  it('Retry-After in seconds or as a date', () => {
    const now = Date.parse('2026-12-02T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
