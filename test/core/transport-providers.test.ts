import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { countSince, dailyPlan, describeDailyPlan, PROVIDER_LIMITS } from '../../src/core/provider-limits.js';
import { SecretScrubber } from '../../src/core/secrets.js';
import { adviseCertificate, adviseTransport } from '../../src/core/transport-advice.js';
import { describeTransport, parseTransport, TransportUrlError } from '../../src/io/transport.js';
import { abbreviate } from '../../src/io/transport-setup.js';

const FROM = '"from": "Hartmoor Community Safety <community@example.org>"';

describe('provider transport URLs', () => {
  it('reads microsoft365, google and graph, with the providers\' own servers unless told another', () => {
    expect(parseTransport('microsoft365')).toMatchObject({ kind: 'oauth-smtp', provider: 'microsoft365', host: 'smtp.office365.com', port: 587, secure: false, requireTLS: true, custom: false });
    expect(parseTransport('google')).toMatchObject({ kind: 'oauth-smtp', provider: 'google', host: 'smtp.gmail.com', port: 465, secure: true, requireTLS: true });
    expect(parseTransport('microsoft365://127.0.0.1:2525')).toMatchObject({ host: '127.0.0.1', port: 2525, secure: false, requireTLS: false, custom: true });
    expect(parseTransport('M365://smtp.office365.us')).toMatchObject({ provider: 'microsoft365', host: 'smtp.office365.us', port: 587, requireTLS: true });
    expect(parseTransport('graph')).toEqual({ kind: 'graph' });
    expect(parseTransport('graph://127.0.0.1:8443')).toEqual({ kind: 'graph', host: '127.0.0.1:8443' });
  });

  it('refuses secrets in a provider URL without repeating them', () => {
    expect(() => parseTransport('microsoft365://app:Sx8Q-secret@smtp.office365.com')).toThrow(TransportUrlError);
    try {
      parseTransport('microsoft365://app:Sx8Q-secret@smtp.office365.com');
    } catch (error) {
      expect((error as Error).message).not.toContain('Sx8Q-secret');
      expect((error as Error).message).toContain('BULLETIN_CLIENT_SECRET');
    }
  });

  it('describes a provider with its server and who signs in, never a secret', () => {
    const spec = { ...parseTransport('microsoft365'), account: `app ${abbreviate('1234abcd-0000-4000-8000-00000000c1d0')}, tenant ${abbreviate('contoso.onmicrosoft.com')}` };
    expect(describeTransport(spec)).toBe('microsoft365 (smtp.office365.com:587, app 1234abcd…, tenant contoso…)');
    expect(describeTransport({ kind: 'graph', host: 'graph.microsoft.us', account: 'app 1234abcd…, tenant contoso…' })).toBe('graph (graph.microsoft.us, app 1234abcd…, tenant contoso…)');
  });
});

describe('the transport block in bulletin.json', () => {
  it('is allowed without secrets', () => {
    const { config, diagnostics } = parseConfig(`{${FROM}, "transport": {"provider": "microsoft365", "authorityHost": "login.microsoftonline.us", "graphHost": "graph.microsoft.us"}}`);
    expect(diagnostics).toEqual([]);
    expect(config?.transport).toEqual({ provider: 'microsoft365', authorityHost: 'login.microsoftonline.us', graphHost: 'graph.microsoft.us' });
  });

  it('refuses a secret inside it, and a transport URL with a password, pointing to the environment', () => {
    const { config, diagnostics } = parseConfig(`{${FROM},\n "transport": {"provider": "microsoft365", "clientSecret": "Sx8Q-unit-secret"}}`);
    expect(config).toBeUndefined();
    expect(diagnostics.map((d) => `${d.line}: ${d.message.split(';')[0]}`)).toEqual(['2: "clientSecret" looks like a mail server credential']);
    expect(diagnostics[0]!.hint).toContain('BULLETIN_CLIENT_SECRET');
    expect(JSON.stringify(diagnostics)).not.toContain('Sx8Q');
    expect(parseConfig(`{${FROM}, "transport": "smtp://clerk:Sx8Q@mail.example.net"}`).diagnostics[0]!.message).toContain('"transport" looks like a mail server credential');
  });
});

describe('provider limits and the daily plan', () => {
  it('fits a day, or says how many days, counting what went in the last 24 hours', () => {
    expect(dailyPlan(10_000, 10_000)).toBeUndefined();
    expect(dailyPlan(10_001, 10_000)).toEqual({ limit: 10_000, sentLastDay: 0, today: 10_000, days: 2 });
    expect(dailyPlan(25_000, 10_000, 4_000)).toEqual({ limit: 10_000, sentLastDay: 4_000, today: 6_000, days: 3 });
    expect(dailyPlan(5, 10_000, 10_000)).toEqual({ limit: 10_000, sentLastDay: 10_000, today: 0, days: 1 });
  });

  it('counts sends in the rolling 24 hours only', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(countSince(['2026-12-02T11:00:00Z', '2026-12-01T12:30:00Z', '2026-12-01T11:59:00Z', 'garbage'], now)).toBe(2);
  });

  it('explains the split with --limit and --resume, or a relay', () => {
    const text = describeDailyPlan(dailyPlan(23_000, 10_000)!, 23_000, PROVIDER_LIMITS.microsoft365);
    expect(text).toContain('Exchange Online accepts 10,000 recipients a day from one mailbox, and this send has 23,000: that takes 3 days');
    expect(text).toContain('`bulletin send --limit 10000`');
    expect(text).toContain('`bulletin send --resume --limit 10000` once a day');
    expect(text).toContain('High Volume Email');
    expect(PROVIDER_LIMITS.google.dailyRecipients).toBe(2_000);
    expect(PROVIDER_LIMITS.graph.concurrency).toBe(4);
  });
});

describe('transport advice', () => {
  const ms = { provider: 'microsoft365' as const };
  it.each([
    ['AADSTS90002: Tenant \'x\' not found.', /wrong tenant/],
    ['AADSTS700016: Application with identifier was not found', /app was not found in this tenant/],
    ['invalid_client: AADSTS7000215: Invalid client secret provided.', /invalid client secret/],
    ['AADSTS7000222: The provided client secret keys are expired.', /secret has expired/],
    ['AADSTS65001: The user or administrator has not consented', /consent not granted/],
    ['AADSTS500011: The resource principal named https://outlook.office365.com was not found', /resource/],
    ['AADSTS7000112: Application is disabled.', /disabled/],
    ['535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.', /SMTP AUTH is turned off/],
    ['535 5.7.3 Authentication unsuccessful', /service principal is not registered/],
    ['550 5.7.60 SMTP; Client does not have permissions to send as this sender', /SendAs denied/],
  ])('%s', (text, problem) => {
    expect(adviseTransport(text, ms)?.problem).toMatch(problem);
  });

  it('knows Graph and Google answers, and leaves a bare 403 alone elsewhere', () => {
    expect(adviseTransport('401 InvalidAuthenticationToken', { provider: 'graph' })?.fix).toContain('Mail.Send');
    expect(adviseTransport('403 ErrorAccessDenied: Access is denied.', { provider: 'graph' })?.fix).toContain('New-ApplicationAccessPolicy');
    expect(adviseTransport('535-5.7.8 Username and Password not accepted. BadCredentials', { provider: 'google' })?.fix).toContain('https://mail.google.com/');
    expect(adviseTransport('unauthorized_client: Client is unauthorized to retrieve access tokens', { provider: 'google' })?.fix).toContain('domain-wide delegation');
    expect(adviseTransport('534-5.7.9 Application-specific password required', { provider: 'google' })?.problem).toMatch(/sign in another way/);
    expect(adviseTransport('403 Forbidden', { provider: 'smtp' })).toBeUndefined();
  });

  it('tells a far-off clock from a certificate problem by the server\'s Date', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(adviseTransport('AADSTS700027: Client assertion failed signature validation.', { ...ms, now, serverTime: now - 20 * 60_000 })?.problem).toMatch(/clock is 20 minutes ahead/);
    expect(adviseTransport('AADSTS700027: Client assertion failed signature validation.', { ...ms, now, serverTime: now })?.problem).toMatch(/certificate/);
  });

  it('says a certificate expired, or is not valid yet, before any sign-in', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(adviseCertificate({ notBefore: now - 90 * 86_400_000, notAfter: now - 86_400_000 }, now)?.problem).toBe('the client certificate expired on 2026-12-01');
    expect(adviseCertificate({ notBefore: now + 3_600_000, notAfter: now + 86_400_000 }, now)?.problem).toMatch(/not valid until/);
    expect(adviseCertificate({ notBefore: now - 1, notAfter: now + 1 }, now)).toBeUndefined();
  });
});

describe('SecretScrubber', () => {
  it('removes secrets, their base64 form and every line of a PEM key', () => {
    const scrubber = new SecretScrubber();
    scrubber.add('Sx8Q-unit-secret');
    scrubber.add('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n');
    const text = `secret Sx8Q-unit-secret, ${Buffer.from('Sx8Q-unit-secret').toString('base64')}, key MIIEvQIBADANBgkqhkiG9w0BAQEFAASC`;
    expect(scrubber.scrub(text)).toBe('secret ***, ***, key ***');
  });
});
