/**
 * Microsoft 365 sign-in end to end, with no internet: the real bin, a fake Entra token endpoint
 * and smtp-server speaking XOAUTH2, both on 127.0.0.1.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulletin, exampleCampaign, requireBuild, schoolRows, STACK_TRACE } from '../helpers/cli.js';
import { makeTestCertificate, startFakeEntra, type FakeEntra, type TestCertificate } from '../helpers/fake-entra.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const TENANT = 'contoso-test-tenant';
const CLIENT_ID = '1234abcd-0000-4000-8000-00000000c1d0';
const SECRET = 'Sx8Q~unit-test-client-secret-value';
const OUTLOOK = 'https://outlook.office365.com';

let cert: TestCertificate;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(() => {
  requireBuild();
  cert = makeTestCertificate(30);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function fakes(options: { expiresIn?: number; lifetimeMs?: number; messagesPerConnection?: number; accepts?: (token: string, entra: FakeEntra, sink: () => SmtpSink) => boolean; refuse?: () => string | undefined } = {}) {
  const entra = await startFakeEntra({ tenant: TENANT, clientId: CLIENT_ID, secret: SECRET, certificate: cert.certificate, ...(options.expiresIn ? { expiresIn: options.expiresIn } : {}), ...(options.lifetimeMs ? { lifetimeMs: options.lifetimeMs } : {}) });
  const sink = await startSmtpSink({
    xoauth2: {
      accepts: (token) => (options.accepts ? options.accepts(token, entra, () => sink) : entra.accepts(token, OUTLOOK)),
      ...(options.refuse ? { refuse: options.refuse } : {}),
    },
    ...(options.messagesPerConnection ? { messagesPerConnection: options.messagesPerConnection } : {}),
  });
  cleanup.push(() => entra.close(), () => sink.close());
  return { entra, sink };
}

async function campaignWith(rows: number, env: Record<string, string>, settings: Record<string, unknown> = {}): Promise<string> {
  const campaign = await exampleCampaign({ settings: { requireApproval: false, ...settings }, recipients: schoolRows(rows) });
  cleanup.push(() => rm(path.dirname(campaign), { recursive: true, force: true }));
  await writeFile(path.join(campaign, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return campaign;
}

async function certificateFile(pem: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bulletin-cert-file-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bulletin-app.pem');
  await writeFile(file, pem);
  return file;
}

function microsoftEnv(entra: FakeEntra, sink: SmtpSink, credential: Record<string, string>): Record<string, string> {
  return { BULLETIN_TRANSPORT: `microsoft365://127.0.0.1:${sink.port}`, BULLETIN_TENANT_ID: TENANT, BULLETIN_CLIENT_ID: CLIENT_ID, BULLETIN_AUTHORITY_HOST: entra.authorityHost, ...credential };
}

async function runFiles(campaign: string): Promise<{ manifest: Array<Record<string, unknown>>; text: string }> {
  const runs = (await readdir(path.join(campaign, 'runs'))).sort();
  const dir = path.join(campaign, 'runs', runs.at(-1)!);
  const manifestText = await readFile(path.join(dir, 'manifest.jsonl'), 'utf8');
  const runJson = await readFile(path.join(dir, 'run.json'), 'utf8');
  const manifest = manifestText.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { manifest, text: manifestText + runJson };
}

/** Nothing secret in any text: the client secret, any line of the private key, any token issued. */
function expectNoSecrets(text: string, entra: FakeEntra): void {
  expect(text).not.toContain(SECRET);
  for (const line of cert.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) expect(text).not.toContain(line);
  for (const { token } of entra.issued) expect(text).not.toContain(token);
  expect(text).not.toMatch(/fake-at-\d+-[0-9a-f]{8}/);
}

describe('sending from Microsoft 365 with OAuth2 (XOAUTH2)', () => {
  it('renews the token when it expires in the middle of a send: every recipient exactly once, as the manifest says', async () => {
    // msal keeps a token until less than 300 s remain: 301 s means "renew after a second"; the
    // server stops accepting each token after 1.5 s and closes each connection after 2 messages
    const { entra, sink } = await fakes({ expiresIn: 301, lifetimeMs: 1500, messagesPerConnection: 2 });
    const campaign = await campaignWith(12, microsoftEnv(entra, sink, { BULLETIN_CLIENT_CERTIFICATE: await certificateFile(cert.pem) }));
    const result = await bulletin(['send', campaign, '--yes', '--rate', '4/sec']);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`transport    microsoft365 (127.0.0.1:${sink.port}, app 1234abcd…, tenant contoso…)`);
    expect(result.stderr).toContain('got an access token from Microsoft Entra');
    expect(entra.issued.length).toBeGreaterThanOrEqual(2);
    expect(result.stderr).toContain("4/sec is faster than Exchange Online allows (30/min)");

    const received = sink.received.map((m) => m.to[0]!).sort();
    expect(received).toHaveLength(12);
    expect(new Set(received).size).toBe(12);
    const { manifest, text } = await runFiles(campaign);
    const sent = manifest.filter((r) => r.state === 'sent').map((r) => String(r.email)).sort();
    expect(sent).toEqual(received);
    expectNoSecrets(result.stdout + result.stderr + text, entra);
  });

  it('stops resumably when the mailbox stops accepting the app, and --resume finishes with nobody twice', async () => {
    let revoked = true;
    const { entra, sink } = await fakes({
      messagesPerConnection: 2,
      // after the fourth message Exchange refuses the app altogether, renewed token or not
      accepts: (token, fake, s) => !(revoked && s().received.length >= 4) && fake.accepts(token, OUTLOOK),
    });
    const campaign = await campaignWith(8, microsoftEnv(entra, sink, { BULLETIN_CLIENT_SECRET: SECRET }));
    const first = await bulletin(['send', campaign, '--yes', '--rate', '10/sec', '--concurrency', '1']);
    expect(first.stderr).not.toMatch(STACK_TRACE);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/Stopped: the server refused the login/);
    expect(first.stdout).toContain('--resume');
    expect(sink.received).toHaveLength(4);
    // the refused token was renewed once (skipCache) before giving up
    expect(entra.requests).toBeGreaterThanOrEqual(2);
    expect(sink.authRejections).toBeGreaterThanOrEqual(2);
    const status = await bulletin(['status', campaign, '--json']);
    expect((JSON.parse(status.stdout) as { finished: boolean }).finished).toBe(false);

    revoked = false;
    const resumed = await bulletin(['send', campaign, '--yes', '--resume', '--rate', '10/sec']);
    expect(resumed.code).toBe(0);
    const received = sink.received.map((m) => m.to[0]!);
    expect(received).toHaveLength(8);
    expect(new Set(received).size).toBe(8);
    const { text } = await runFiles(campaign);
    expectNoSecrets(first.stdout + first.stderr + resumed.stdout + resumed.stderr + text, entra);
  });
});

describe('bulletin check-transport', () => {
  it('says ready when the app signs in and the server accepts it, and sends nothing', async () => {
    const { entra, sink } = await fakes();
    const campaign = await campaignWith(2, microsoftEnv(entra, sink, { BULLETIN_CLIENT_SECRET: SECRET }));
    const result = await bulletin(['check-transport', campaign]);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✔ ready');
    expect(sink.logins).toEqual(['community.liaison@hartmoor-police.example.org']);
    expect(sink.received).toHaveLength(0);
    expectNoSecrets(result.stdout + result.stderr, entra);
  });

  it('names a wrong tenant, an invalid secret, an expired certificate and SMTP AUTH disabled in plain words', async () => {
    const { entra, sink } = await fakes();
    const cases: { env: Record<string, string>; says: RegExp; fix: RegExp }[] = [
      { env: { BULLETIN_TENANT_ID: 'contoso-typo-tenant', BULLETIN_CLIENT_SECRET: SECRET }, says: /wrong tenant/, fix: /Directory \(tenant\) ID/ },
      { env: { BULLETIN_CLIENT_SECRET: 'not-the-secret-value' }, says: /invalid client secret/, fix: /Certificates & secrets/ },
      { env: { BULLETIN_CLIENT_CERTIFICATE: await certificateFile(makeTestCertificate(-2).pem) }, says: /certificate expired on \d{4}-\d\d-\d\d/, fix: /upload its public part/ },
    ];
    for (const c of cases) {
      const before = entra.requests;
      const campaign = await campaignWith(1, { ...microsoftEnv(entra, sink, {}), ...c.env });
      const result = await bulletin(['check-transport', campaign]);
      expect(result.stderr).not.toMatch(STACK_TRACE);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(c.says);
      expect(result.stdout).toMatch(c.fix);
      expect(result.stdout).toContain('Nothing was sent');
      expect(result.stdout).not.toContain('not-the-secret-value');
      // an expired certificate is found before any token is asked for
      if (c.env.BULLETIN_CLIENT_CERTIFICATE) expect(entra.requests).toBe(before);
    }
    expect(sink.logins).toHaveLength(0);

    const disabled = await fakes({ refuse: () => '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.' });
    const campaign = await campaignWith(1, microsoftEnv(disabled.entra, disabled.sink, { BULLETIN_CLIENT_SECRET: SECRET }));
    const result = await bulletin(['check-transport', campaign, '--json']);
    expect(result.code).toBe(1);
    const check = JSON.parse(result.stdout) as { ok: boolean; problem: string; fix: string; reply: string };
    expect(check.ok).toBe(false);
    expect(check.problem).toMatch(/SMTP AUTH is turned off/);
    expect(check.fix).toContain('Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false');
    expect(check.reply).toContain('535 5.7.139');
  });

  it('send runs the same check before asking: a wrong secret stops it with the advice, nothing sent, no run', async () => {
    const { entra, sink } = await fakes();
    const campaign = await campaignWith(3, microsoftEnv(entra, sink, { BULLETIN_CLIENT_SECRET: 'wrong-secret-value-123' }));
    const result = await bulletin(['send', campaign, '--yes']);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot send through microsoft365 .*invalid client secret/);
    expect(result.stderr).toContain('nothing was sent');
    expect(result.stderr).not.toContain('wrong-secret-value-123');
    expect(sink.received).toHaveLength(0);
    await expect(readdir(path.join(campaign, 'runs'))).rejects.toThrow();
  });

  it('warns before sending when the campaign is larger than Exchange Online allows in a day', async () => {
    const { entra, sink } = await fakes();
    // the example's send.rate (10/sec) removed: the provider's limit sets the pace
    const campaign = await campaignWith(10_001, microsoftEnv(entra, sink, { BULLETIN_CLIENT_SECRET: SECRET }), { send: { concurrency: 5 } });
    // no --yes and no terminal: the summary is shown, then send refuses to go on
    const result = await bulletin(['send', campaign]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/daily limit {2}Exchange Online accepts 10,000 recipients a day from one mailbox, and this send has 10,001: that takes 2 days/);
    expect(result.stderr).toContain('bulletin send --limit 10000');
    expect(result.stderr).toContain('bulletin send --resume --limit 10000');
    expect(result.stderr).toMatch(/pace {9}2 at once, at most 30\/min \(Exchange Online's limit\)/);
    expect(sink.received).toHaveLength(0);
  }, 60_000);
});
