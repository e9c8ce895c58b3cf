import { generateKeyPairSync } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foldManifest, summarizeRun, type ManifestRecord } from '../../src/core/manifest.js';
import type { OutgoingMessage } from '../../src/core/outgoing.js';
import { runDelivery, type DeliveryEvent, type DeliveryOptions } from '../../src/io/deliver.js';
import { ManifestStore, readManifest } from '../../src/io/manifest-store.js';
import { openTransport, parseTransport, type DeliveryTransport, type OpenTransportOptions } from '../../src/io/transport.js';
import { buildMessage, buildMessages, lazily } from '../helpers/messages.js';
import { startSmtpSink, type SinkOptions, type SmtpSink } from '../helpers/smtp-sink.js';
import { scratchDir } from '../helpers/scratch.js';

const FAST: DeliveryOptions = { concurrency: 5, retries: 3, maxConsecutiveFailures: 10, backoff: { baseMs: 20, maxMs: 100 } };

let dir: string;
let sink: SmtpSink | undefined;
let transport: DeliveryTransport | undefined;

beforeEach(async () => {
  dir = await scratchDir('bulletin-run-');
});
afterEach(async () => {
  await transport?.close();
  await sink?.close();
  transport = undefined;
  sink = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function smtp(sinkOptions: SinkOptions = {}, url?: (sink: SmtpSink) => string, transportOptions: Partial<OpenTransportOptions> = {}): Promise<{ sink: SmtpSink; transport: DeliveryTransport }> {
  sink = await startSmtpSink(sinkOptions);
  transport = await openTransport(parseTransport(url ? url(sink) : sink.url), { concurrency: FAST.concurrency, ...transportOptions });
  return { sink, transport };
}

async function deliver(messages: OutgoingMessage[], options: Partial<DeliveryOptions> = {}, extra: { signal?: AbortSignal; onEvent?: (e: DeliveryEvent) => void; skip?: (key: string) => boolean; transport?: DeliveryTransport } = {}) {
  const store = await ManifestStore.open(dir);
  try {
    return await runDelivery({ messages: lazily(messages), transport: extra.transport ?? transport!, store, options: { ...FAST, ...options }, ...extra });
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

describe('runDelivery over SMTP', () => {
  it('delivers every message exactly once, with its headers, and records sending then sent', async () => {
    const { sink } = await smtp();
    const messages = await buildMessages(40);
    const result = await deliver(messages);
    expect(result).toMatchObject({ sent: 40, failed: 0, deferred: 0, uncertain: [], attempts: 40 });
    expect(result.stoppedBecause).toBeUndefined();
    for (const m of messages) expect(sink.receivedFor(m.email)).toHaveLength(1);
    expect(sink.received).toHaveLength(40);
    const parsed = await sink.parse(sink.receivedFor('head7@example.com')[0]!);
    expect(parsed.messageId).toBe('<9.test@example.org>');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');

    const records = await manifest();
    for (const m of messages) expect(statesOf(records, m.key)).toEqual(['1:sending', '1:sent']);
    expect(records.find((r) => r.state === 'sent')).toMatchObject({ code: 250, response: expect.stringContaining('OK queued') as string, messageId: expect.stringMatching(/^<\d+\.test@example\.org>$/) as string });
    // several pooled connections were used, and reused
    const connections = new Set(sink.received.map((m) => m.remotePort));
    expect(connections.size).toBeGreaterThan(1);
    expect(connections.size).toBeLessThanOrEqual(5);
  });

  it('550 fails that recipient and the run goes on', async () => {
    const { sink } = await smtp();
    const messages = await buildMessages(6);
    sink.behave('head1@example.com', 'reject');
    sink.behave('head4@example.com', 'reject');
    const result = await deliver(messages);
    expect(result).toMatchObject({ sent: 4, failed: 2 });
    const summary = summarizeRun(await manifest());
    expect(summary.failures.map((f) => [f.email, f.code])).toEqual([
      ['head1@example.com', 550],
      ['head4@example.com', 550],
    ]);
    expect(summary.failures[0]?.response).toContain('No such user');
  });

  it('451 then success: deferred, retried, sent — both tries recorded', async () => {
    const { sink } = await smtp();
    sink.behave('head2@example.com', 'defer-once');
    const result = await deliver(await buildMessages(4));
    expect(result).toMatchObject({ sent: 4, failed: 0, deferred: 0, attempts: 5 });
    const records = await manifest();
    expect(statesOf(records, 'head2@example.com')).toEqual(['1:sending', '1:deferred', '2:sending', '2:sent']);
    expect(records.find((r) => r.state === 'deferred')).toMatchObject({ code: 451, nextTry: expect.any(String) as string });
    expect(sink.receivedFor('head2@example.com')).toHaveLength(1);
  });

  it('a connection dropped before DATA or in the middle of the data: retried and delivered once', async () => {
    const { sink } = await smtp();
    const messages = [...(await buildMessages(4)), await buildMessage('big@example.com', 10, { bodyBytes: 24 * 1024 * 1024 })];
    sink.behave('head1@example.com', 'drop-before-data');
    sink.behave('big@example.com', 'drop-mid-data');
    const result = await deliver(messages);
    expect(result).toMatchObject({ sent: 5, failed: 0, uncertain: [] });
    const records = await manifest();
    expect(statesOf(records, 'head1@example.com')).toEqual(['1:sending', '1:deferred', '2:sending', '2:sent']);
    expect(statesOf(records, 'big@example.com')).toEqual(['1:sending', '1:deferred', '2:sending', '2:sent']);
    for (const m of messages) expect(sink.receivedFor(m.email)).toHaveLength(1);
  });

  it('a connection dropped after the final dot: uncertain, last state stays sending, never retried', async () => {
    const { sink } = await smtp();
    sink.behave('head2@example.com', 'drop-after-data');
    const result = await deliver(await buildMessages(5));
    expect(result.sent).toBe(4);
    expect(result.uncertain).toEqual([expect.objectContaining({ email: 'head2@example.com', line: 4, messageId: '<4.test@example.org>' })]);
    const records = await manifest();
    expect(statesOf(records, 'head2@example.com')).toEqual(['1:sending', '1:sending']);
    expect(foldManifest(records).get('head2@example.com')).toMatchObject({ state: 'sending', uncertain: true });
    expect(summarizeRun(records).uncertain.map((u) => u.email)).toEqual(['head2@example.com']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // the server kept it once; nobody sent it again
    expect(sink.receivedFor('head2@example.com')).toHaveLength(1);
  });

  it('a wrong password stops the run (auth), nothing is marked sent, and a resume delivers everyone once', async () => {
    const auth = { user: 'mailer', pass: 'right-secret' };
    await smtp({ auth }, (s) => `smtp://mailer:wrong-secret@127.0.0.1:${s.port}`);
    const messages = await buildMessages(20);
    const result = await deliver(messages);
    expect(result.stoppedBecause).toBe('auth');
    expect(result.stopDetail).toMatch(/535/);
    expect(result.sent).toBe(0);
    const first = await manifest();
    expect(first.length).toBeLessThanOrEqual(2 * FAST.concurrency);
    expect(first.filter((r) => r.state === 'deferred')).toHaveLength(first.length / 2);
    expect(JSON.stringify(first)).not.toContain('wrong-secret');

    // resume with the right password: skip what is sent (nothing yet), send the rest
    await transport!.close();
    transport = await openTransport(parseTransport(`smtp://mailer:right-secret@127.0.0.1:${sink!.port}`), { concurrency: 5 });
    const done = new Set([...foldManifest(first).values()].filter((r) => r.state === 'sent').map((r) => r.key));
    const second = await deliver(messages, {}, { skip: (key) => done.has(key) });
    expect(second).toMatchObject({ sent: 20, failed: 0 });
    for (const m of messages) expect(sink!.receivedFor(m.email)).toHaveLength(1);
    expect(summarizeRun(await manifest()).counts).toMatchObject({ sent: 20, deferred: 0, sending: 0 });
  });

  it('stops after too many failures in a row', async () => {
    const { sink } = await smtp();
    const messages = await buildMessages(30);
    for (const m of messages) sink.behave(m.email, 'reject');
    const result = await deliver(messages, { concurrency: 1, maxConsecutiveFailures: 4 });
    expect(result).toMatchObject({ stoppedBecause: 'consecutive-failures', failed: 4, sent: 0 });
    expect(result.stopDetail).toContain('550');
    expect(foldManifest(await manifest()).size).toBe(4);
  });

  it('an interrupt finishes the messages in flight, records them, and stops', async () => {
    const { sink } = await smtp({ replyDelayMs: 30 });
    const messages = await buildMessages(60);
    const controller = new AbortController();
    let sentEvents = 0;
    const result = await deliver(messages, {}, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'sent' && ++sentEvents === 10) controller.abort();
      },
    });
    expect(result.stoppedBecause).toBe('interrupted');
    expect(result.sent).toBeGreaterThanOrEqual(10);
    expect(result.sent).toBeLessThan(60);
    const records = await manifest();
    const last = foldManifest(records);
    // everything that was started was finished and recorded: nothing is left uncertain
    expect([...last.values()].every((r) => r.state === 'sent')).toBe(true);
    expect(last.size).toBe(result.sent);
    expect(sink.received).toHaveLength(result.sent);

    // a resume sends exactly the rest
    const second = await deliver(messages, {}, { skip: (key) => last.get(key)?.state === 'sent' });
    expect(second.sent + result.sent).toBe(60);
    for (const m of messages) expect(sink.receivedFor(m.email)).toHaveLength(1);
  });

  it('DKIM-signs the message so an independent verifier accepts it', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicKeyBase64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const { sink } = await smtp({}, undefined, { dkim: { domainName: 'example.org', keySelector: 'bulletin', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } });
    await deliver([await buildMessage('head@example.com', 2)]);
    const received = sink.receivedFor('head@example.com')[0]!;
    const resolver = (name: string, type: string): Promise<string[][]> => {
      if (type === 'TXT' && name === 'bulletin._domainkey.example.org') return Promise.resolve([[`v=DKIM1; k=rsa; p=${publicKeyBase64}`]]);
      return Promise.reject(Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' }));
    };
    const verification = await dkimVerify(received.raw, { resolver });
    expect(verification.results).toHaveLength(1);
    expect(verification.results[0]).toMatchObject({ signingDomain: 'example.org', selector: 'bulletin', status: { result: 'pass' } });
  });
});

describe('runDelivery pacing and flow', () => {
  it('keeps to the shared rate (fake clock)', async () => {
    // fake timers: each tick moves the clock to the earliest pending wait and ends it
    let clock = 1_000_000;
    const timers: { at: number; resolve: () => void }[] = [];
    const tick = (): void => {
      setImmediate(() => {
        timers.sort((a, b) => a.at - b.at);
        const timer = timers.shift();
        if (!timer) return;
        clock = Math.max(clock, timer.at);
        timer.resolve();
      });
    };
    const startedAt: number[] = [];
    const result = await runDelivery({
      messages: await buildMessages(7),
      // no I/O here: this test is about pacing, so only the fake clock moves time
      transport: {
        deliver: () => {
          startedAt.push(clock - 1_000_000);
          return Promise.resolve({ kind: 'sent', code: 250, response: '250 OK' });
        },
      },
      store: { append: () => Promise.resolve() },
      options: { ...FAST, concurrency: 3, rate: '2/sec' },
      now: () => clock,
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          timers.push({ at: clock + ms, resolve });
          tick();
        }),
    });
    expect(result.sent).toBe(7);
    expect(startedAt).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
  });

  it('caps messages in flight per domain', async () => {
    const outbox = await openTransport({ kind: 'outbox', dir: join(dir, 'outbox') }, { concurrency: 8 });
    const inFlight = new Map<string, number>();
    let maxShared = 0;
    let maxOther = 0;
    const watched: DeliveryTransport = {
      ...outbox,
      async deliver(message) {
        const domain = message.email.split('@')[1]!;
        inFlight.set(domain, (inFlight.get(domain) ?? 0) + 1);
        if (domain === 'shared.example.org') maxShared = Math.max(maxShared, inFlight.get(domain)!);
        else maxOther = Math.max(maxOther, [...inFlight.entries()].filter(([d]) => d !== 'shared.example.org').reduce((n, [, c]) => n + c, 0));
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight.set(domain, inFlight.get(domain)! - 1);
        return outbox.deliver(message);
      },
    };
    const messages = [...(await buildMessages(20, 'shared.example.org'))];
    for (let i = 0; i < 10; i++) messages.push(await buildMessage(`head${i}@school${i}.example.com`, 100 + i));
    const result = await deliver(messages, { concurrency: 8, perDomain: 2 }, { transport: watched });
    expect(result.sent).toBe(30);
    expect(maxShared).toBe(2);
    // other domains were not held up behind the shared one
    expect(maxOther).toBeGreaterThan(2);
  });

  it('pulls messages lazily: 100,000 flow through with a bounded look-ahead', async () => {
    const template = await buildMessage('head@example.com', 2);
    let pulled = 0;
    let completed = 0;
    let maxAhead = 0;
    function* generate(): Generator<OutgoingMessage> {
      for (let i = 0; i < 100_000; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - completed);
        yield { ...template, key: `head${i}@example.com`, email: `head${i}@example.com`, line: i + 2 };
      }
    }
    // a transport that does no I/O and a store that keeps nothing: this test is about the flow
    const result = await runDelivery({
      messages: generate(),
      transport: { deliver: () => Promise.resolve({ kind: 'sent', code: 250, response: '250 OK' }) },
      store: { append: (r) => ((completed += r.state === 'sent' ? 1 : 0), Promise.resolve()) },
      options: { ...FAST, concurrency: 10 },
    });
    expect(result.sent).toBe(100_000);
    expect(maxAhead).toBeLessThanOrEqual(60);
  });
});

/** A transport that accepts every message, noting whose it was. */
function accepting(delivered: string[]): Pick<DeliveryTransport, 'deliver'> {
  return {
    deliver: (m) => {
      delivered.push(m.key);
      return Promise.resolve({ kind: 'sent', code: 250, response: '250 OK' });
    },
  };
}

describe('runDelivery when the manifest cannot be written', () => {
  it('never hands a message over without its `sending` line, stops, and throws the fault', async () => {
    const delivered: string[] = [];
    let appends = 0;
    const run = runDelivery({
      messages: await buildMessages(10),
      transport: accepting(delivered),
      store: { append: () => (++appends > 3 ? Promise.reject(new Error('ENOSPC: no space left on device')) : Promise.resolve()) },
      options: { ...FAST, concurrency: 1 },
    });
    await expect(run).rejects.toThrow(/ENOSPC/);
    // appends: sending, sent, sending, then the failing `sent`: two messages went out, no more
    expect(delivered).toEqual(['head0@example.com', 'head1@example.com']);
  });

  it('stops and throws when only a `sent` line fails, though later lines could be written', async () => {
    const delivered: string[] = [];
    let failed = false;
    const run = runDelivery({
      messages: await buildMessages(10),
      transport: accepting(delivered),
      store: { append: (r) => (r.state === 'sent' && !failed ? ((failed = true), Promise.reject(new Error('EIO: i/o error'))) : Promise.resolve()) },
      options: { ...FAST, concurrency: 1 },
    });
    await expect(run).rejects.toThrow(/EIO/);
    expect(delivered.length).toBeLessThanOrEqual(2);
  });
});

describe('runDelivery and the `sent` lines', () => {
  it('goes on to the next message while a `sent` line is being synced, and ends only once every line is on disk', async () => {
    const delivered: string[] = [];
    const unsynced: (() => void)[] = [];
    let ended = false;
    const run = runDelivery({
      messages: await buildMessages(3),
      transport: accepting(delivered),
      store: { append: (r) => (r.state === 'sent' ? new Promise<void>((resolve) => unsynced.push(resolve)) : Promise.resolve()) },
      options: { ...FAST, concurrency: 1 },
    }).then((result) => ((ended = true), result));
    for (let turn = 0; turn < 100 && delivered.length < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toHaveLength(3);
    expect(unsynced).toHaveLength(3);
    expect(ended).toBe(false);
    for (const sync of unsynced) sync();
    expect((await run).sent).toBe(3);
  });
});
