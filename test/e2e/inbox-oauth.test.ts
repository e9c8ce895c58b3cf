import { cp, readFile, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulletin, exampleCampaign, requireBuild, STACK_TRACE } from '../helpers/cli.js';
import { findDovecot, seedImap, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { buildDsn } from '../helpers/dsn.js';
import { startFakeEntra, type FakeEntra } from '../helpers/fake-entra.js';
import { scratchDir } from '../helpers/scratch.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const TENANT = 'contoso-tenant-0001';
const CLIENT_ID = '00000000-0000-4000-8000-00000000b0b1';
const SECRET = 'entra-test-secret-Qx7';

interface Introspection {
  url: string;
  /** Tokens Dovecot asked about, in order. */
  asked: string[];
  close(): Promise<void>;
}

/**
 * RFC 7662 token introspection for Dovecot's oauth2 passdb, standing in for the mail service's
 * own check: a token is good when `accepts` says so, and it names the mailbox it may open.
 */
async function startIntrospection(accepts: (token: string, nth: number) => string | undefined): Promise<Introspection> {
  const asked: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      asked.push(token);
      const mailbox = accepts(token, asked.length);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(mailbox ? { active: true, username: mailbox } : { active: false }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`,
    asked,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let sent: { campaign: string; bounced: string; dsn: Buffer } | undefined;
let dovecot: Dovecot | undefined;
let entra: FakeEntra | undefined;
let introspection: Introspection | undefined;
let google: Server | undefined;

/** A copy of the sent campaign, and its second recipient's DSN waiting in the `comms` mailbox. */
async function bouncedCampaign(oauth: { introspectionUrl: string; mechanisms: Array<'xoauth2' | 'oauthbearer'> }): Promise<{ campaign: string; bounced: string }> {
  const campaign = path.join(await scratchDir('bulletin-e2e-'), 'campaign');
  await cp(sent!.campaign, campaign, { recursive: true });
  dovecot = await startDovecot({ comms: 'comms-test-pw' }, oauth);
  await seedImap(dovecot, 'INBOX', [{ raw: sent!.dsn }], 'comms');
  return { campaign, bounced: sent!.bounced };
}

const microsoftEnv = () => ({ BULLETIN_TENANT_ID: TENANT, BULLETIN_CLIENT_ID: CLIENT_ID, BULLETIN_CLIENT_SECRET: SECRET, BULLETIN_AUTHORITY_HOST: entra!.authorityHost });

async function dovecotLog(): Promise<string> {
  return readFile(path.join(dovecot!.dir, 'dovecot.log'), 'utf8');
}

describe.skipIf(!findDovecot())('bulletin inbox signs in to IMAP with OAuth2 (Dovecot, a fake Entra and a fake Google)', () => {
  // One send for the file (only where Dovecot is there to read it); each test reads a copy of
  // the campaign, so what one records cannot change another.
  beforeAll(async () => {
    requireBuild();
    const sink: SmtpSink = await startSmtpSink();
    try {
      const campaign = await exampleCampaign({ settings: { requireApproval: false } });
      const result = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
      expect(result.code, result.stderr).toBe(0);
      const csv = await readFile(path.join(campaign, 'recipients.csv'), 'utf8');
      const bounced = csv.trim().split('\n')[2]!.split(',')[0]!.toLowerCase();
      const received = sink.receivedFor(bounced)[0]!;
      sent = { campaign, bounced, dsn: await buildDsn({ to: received.from, recipient: bounced, original: received.raw }) };
    } finally {
      await sink.close();
    }
  });
  afterEach(async () => {
    await dovecot?.stop();
    await entra?.close();
    await introspection?.close();
    if (google) await new Promise((resolve) => google!.close(resolve));
    dovecot = entra = introspection = google = undefined;
  });

  it('Microsoft 365: an app-only token for the mailbox, over XOAUTH2 as Exchange Online offers it, with no password anywhere', async () => {
    entra = await startFakeEntra({ tenant: TENANT, clientId: CLIENT_ID, secret: SECRET });
    introspection = await startIntrospection((token) => (entra!.accepts(token, 'https://outlook.office365.com/') ? 'comms' : undefined));
    const { campaign, bounced } = await bouncedCampaign({ introspectionUrl: introspection.url, mechanisms: ['xoauth2'] });

    const read = await bulletin(['inbox', campaign, '--from', `imap://comms@127.0.0.1:${dovecot!.port}/INBOX`, '--sign-in', 'microsoft365', '--json'], { env: microsoftEnv() });
    expect(read.stderr).not.toMatch(STACK_TRACE);
    expect(read.code, read.stderr).toBe(0);
    const result = JSON.parse(read.stdout) as { summary: { new: number }; messages: { kind: string; recipients: { email: string }[] }[] };
    expect(result.summary.new).toBe(1);
    expect(result.messages[0]).toMatchObject({ kind: 'bounce', recipients: [{ email: bounced }] });
    expect(entra.issued.map((t) => t.scope)).toEqual(['https://outlook.office365.com/.default']);
    expect(introspection.asked).toEqual([entra.issued[0]!.token]);
    expect(await dovecotLog()).toMatch(/Login: user=<comms>, method=XOAUTH2/);
    expect(read.stdout + read.stderr).not.toContain(entra.issued[0]!.token);
    // The run records the bounce, as with a password.
    const runs = await readdir(path.join(campaign, 'runs'));
    expect(await readFile(path.join(campaign, 'runs', runs[0]!, 'inbox.jsonl'), 'utf8')).toContain(bounced);
  });

  it('a token the server turns down is replaced once by a new one', async () => {
    entra = await startFakeEntra({ tenant: TENANT, clientId: CLIENT_ID, secret: SECRET });
    // the first token presented is refused, as a revoked one would be
    introspection = await startIntrospection((token, nth) => (nth > 1 && entra!.accepts(token) ? 'comms' : undefined));
    const { campaign } = await bouncedCampaign({ introspectionUrl: introspection.url, mechanisms: ['xoauth2'] });
    const read = await bulletin(['inbox', campaign, '--from', `imap://comms@127.0.0.1:${dovecot!.port}/INBOX`, '--sign-in', 'microsoft365'], { env: microsoftEnv() });
    expect(read.code, read.stderr).toBe(0);
    expect(entra.issued).toHaveLength(2);
    expect(introspection.asked).toEqual(entra.issued.map((t) => t.token));
  });

  it('an app without access to the mailbox: one line saying so, and what an Exchange administrator runs', async () => {
    entra = await startFakeEntra({ tenant: TENANT, clientId: CLIENT_ID, secret: SECRET });
    // a good token, but for another mailbox than the one asked for
    introspection = await startIntrospection((token) => (entra!.accepts(token) ? 'someone-else' : undefined));
    const { campaign } = await bouncedCampaign({ introspectionUrl: introspection.url, mechanisms: ['xoauth2'] });
    const read = await bulletin(['inbox', campaign, '--from', `imap://comms@127.0.0.1:${dovecot!.port}/INBOX`, '--sign-in', 'microsoft365'], { env: microsoftEnv() });
    expect(read.code).toBe(2);
    expect(read.stderr).not.toMatch(STACK_TRACE);
    expect(read.stderr).toMatch(/refused the OAuth2 sign-in for comms@127\.0\.0\.1/);
    expect(read.stderr).toMatch(/IMAP\.AccessAsApp/);
    expect(read.stderr).toMatch(/Add-MailboxPermission -Identity comms/);
    for (const t of entra.issued) expect(read.stderr + read.stdout).not.toContain(t.token);
  });

  it('a wrong client secret: Entra\'s refusal explained, the secret never shown, the mailbox never asked', async () => {
    entra = await startFakeEntra({ tenant: TENANT, clientId: CLIENT_ID, secret: SECRET });
    introspection = await startIntrospection(() => 'comms');
    const { campaign } = await bouncedCampaign({ introspectionUrl: introspection.url, mechanisms: ['xoauth2'] });
    const env = { ...microsoftEnv(), BULLETIN_CLIENT_SECRET: 'not-the-Secret-9' };
    const read = await bulletin(['inbox', campaign, '--from', `imap://comms@127.0.0.1:${dovecot!.port}/INBOX`, '--sign-in', 'microsoft365'], { env });
    expect(read.code).toBe(2);
    expect(read.stderr).not.toMatch(STACK_TRACE);
    expect(read.stderr).toMatch(/Microsoft Entra would not give a sign-in token for comms@127\.0\.0\.1/);
    expect(read.stderr + read.stdout).not.toContain('not-the-Secret-9');
    expect(entra.refusals).toEqual(['AADSTS7000215']);
    expect(introspection.asked).toEqual([]);
  });

  it('missing sign-in settings name the variable to set', async () => {
    introspection = await startIntrospection(() => 'comms');
    const { campaign } = await bouncedCampaign({ introspectionUrl: introspection.url, mechanisms: ['xoauth2'] });
    const read = await bulletin(['inbox', campaign, '--from', `imap://comms@127.0.0.1:${dovecot!.port}/INBOX`, '--sign-in', 'microsoft365'], { env: {} });
    expect(read.code).toBe(2);
    expect(read.stderr).toMatch(/BULLETIN_TENANT_ID is not set/);
    const wrong = await bulletin(['inbox', campaign, '--sign-in', 'kerberos']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--sign-in must be one of password, microsoft365, google/);
  });

  it('Google: a refresh token for the mailbox\'s user, over OAUTHBEARER when the server offers it', async () => {
    const issued: string[] = [];
    google = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const ok = form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-test-token' && form.get('client_secret') === 'google-test-secret';
        const token = `ya29.fake-${issued.length + 1}`;
        if (ok) issued.push(token);
        res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { access_token: token, expires_in: 3599, token_type: 'Bearer' } : { error: 'invalid_grant' }));
      });
    });
    await new Promise<void>((resolve) => google!.listen(0, '127.0.0.1', resolve));
    introspection = await startIntrospection((token) => (issued.includes(token) ? 'comms' : undefined));
    const { campaign, bounced } = await bouncedCampaign({ introspectionUrl: introspection.url, mechanisms: ['xoauth2', 'oauthbearer'] });
    const env = {
      BULLETIN_GOOGLE_CLIENT_ID: 'client-1234.apps.googleusercontent.com',
      BULLETIN_GOOGLE_CLIENT_SECRET: 'google-test-secret',
      BULLETIN_GOOGLE_REFRESH_TOKEN: 'refresh-test-token',
      BULLETIN_GOOGLE_TOKEN_URL: `http://127.0.0.1:${(google.address() as AddressInfo).port}/token`,
    };
    const read = await bulletin(['inbox', campaign, '--from', `imap://comms@127.0.0.1:${dovecot!.port}/INBOX`, '--sign-in', 'google', '--json'], { env });
    expect(read.code, read.stderr).toBe(0);
    expect((JSON.parse(read.stdout) as { messages: { recipients: { email: string }[] }[] }).messages[0]!.recipients[0]!.email).toBe(bounced);
    expect(issued).toHaveLength(1);
    expect(await dovecotLog()).toMatch(/Login: user=<comms>, method=OAUTHBEARER/);
  });
});
