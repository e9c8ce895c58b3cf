/** XOAUTH2 through the SMTP pool, against smtp-server answering as Exchange Online does. */
import { afterEach, describe, expect, it } from 'vitest';
import { SecretScrubber } from '../../src/core/secrets.js';
import { oauthSmtpSpec, openTransport, type DeliveryTransport, type TransportSignIn } from '../../src/io/transport.js';
import { buildMessage } from '../helpers/messages.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

/** Hands out token-1, token-2, … : a new one whenever asked to renew. */
function countingTokens(scrubber: SecretScrubber) {
  let n = 1;
  const asked: boolean[] = [];
  return {
    asked,
    source: {
      token({ renew }: { renew: boolean }) {
        asked.push(renew);
        if (renew) n++;
        const token = `token-${n}-abcdef`;
        scrubber.add(token);
        return Promise.resolve(token);
      },
    },
  };
}

let sink: SmtpSink | undefined;
let transport: DeliveryTransport | undefined;
afterEach(async () => {
  await transport?.close();
  await sink?.close();
  transport = sink = undefined;
});

function signInWith(source: TransportSignIn['tokens'], scrubber: SecretScrubber): TransportSignIn {
  return { tokens: source, mailbox: 'community@example.org', scrubber, graphHost: 'https://graph.microsoft.com' };
}

describe('SMTP with XOAUTH2', () => {
  it('signs each new connection in with a token, and renews once after the server challenges it', async () => {
    const accepted = new Set(['token-2-abcdef']);
    sink = await startSmtpSink({ xoauth2: { accepts: (token) => accepted.has(token) } });
    const scrubber = new SecretScrubber();
    const tokens = countingTokens(scrubber);
    transport = await openTransport(oauthSmtpSpec('microsoft365', { host: '127.0.0.1', port: sink.port }), { concurrency: 1, signIn: signInWith(tokens.source, scrubber) });
    expect(await transport.deliver(await buildMessage('a@example.com', 2))).toMatchObject({ kind: 'sent', code: 250 });
    // token-1 refused with a 334 challenge, then token-2 (renewed) accepted
    expect(tokens.asked).toEqual([false, true]);
    expect(sink.authRejections).toBe(1);
    expect(sink.logins).toEqual(['community@example.org']);
  });

  it('a refusal after renewing is fatal (auth), and no token appears in the outcome', async () => {
    sink = await startSmtpSink({ xoauth2: { accepts: () => false } });
    const scrubber = new SecretScrubber();
    const tokens = countingTokens(scrubber);
    transport = await openTransport(oauthSmtpSpec('microsoft365', { host: '127.0.0.1', port: sink.port }), { concurrency: 1, signIn: signInWith(tokens.source, scrubber) });
    const outcome = await transport.deliver(await buildMessage('a@example.com', 2));
    expect(outcome).toMatchObject({ kind: 'fatal', reason: 'auth', code: 535 });
    expect(JSON.stringify(outcome)).not.toMatch(/token-\d/);
    expect(await transport.verify()).toMatchObject({ kind: 'fatal', reason: 'auth' });
    expect(sink.received).toHaveLength(0);
  });

  it('opens a new connection (and signs in again) once a connection is older than its limit', async () => {
    sink = await startSmtpSink({ xoauth2: { accepts: () => true } });
    const scrubber = new SecretScrubber();
    const tokens = countingTokens(scrubber);
    const spec = oauthSmtpSpec('microsoft365', { host: '127.0.0.1', port: sink.port });
    transport = await openTransport(spec, { concurrency: 1, signIn: signInWith(tokens.source, scrubber) });
    for (let i = 0; i < 3; i++) expect((await transport.deliver(await buildMessage(`a${i}@example.com`, i + 2))).kind).toBe('sent');
    // well within the 40 minutes: one connection, one sign-in
    expect(new Set(sink.received.map((m) => m.remotePort)).size).toBe(1);
    expect(sink.logins).toHaveLength(1);
    await transport.close();

    transport = await openTransport(spec, { concurrency: 1, signIn: signInWith(tokens.source, scrubber), connectionMaxAgeMs: 1 });
    for (let i = 3; i < 6; i++) expect((await transport.deliver(await buildMessage(`a${i}@example.com`, i + 2))).kind).toBe('sent');
    expect(new Set(sink.received.slice(3).map((m) => m.remotePort)).size).toBe(3);
    expect(sink.logins).toHaveLength(4);
  });

  it('refuses to send a token to a server without TLS, unless it is on this machine', () => {
    expect(oauthSmtpSpec('microsoft365', { host: 'relay.example.org', port: 2525 }).requireTLS).toBe(true);
    expect(oauthSmtpSpec('google', { host: '127.0.0.1', port: 2525 }).requireTLS).toBe(false);
  });
});
