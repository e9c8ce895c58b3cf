/**
 * The token sources against real HTTP token endpoints on 127.0.0.1: Microsoft Entra (the fake in
 * test/helpers) through msal, and a Google-style endpoint through nodemailer's XOAuth2.
 */
import { createServer, type Server } from 'node:http';
import { createVerify, X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecretScrubber } from '../../src/core/secrets.js';
import { googleTokenSource, microsoftTokenSource, OUTLOOK_SCOPE } from '../../src/io/oauth-tokens.js';
import { makeTestCertificate, startFakeEntra, type TestCertificate } from '../helpers/fake-entra.js';

let cert: TestCertificate;
const closers: (() => Promise<void>)[] = [];
beforeAll(() => {
  cert = makeTestCertificate(30);
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('microsoftTokenSource', () => {
  it('caches a token, renews it on demand, and adds every token to the scrubber', async () => {
    const entra = await startFakeEntra({ tenant: 'contoso-test', clientId: 'app-1', secret: 'Sx8Q-secret-value', expiresIn: 3600 });
    closers.push(() => entra.close());
    const scrubber = new SecretScrubber();
    const tokens = microsoftTokenSource({ tenant: 'contoso-test', clientId: 'app-1', secret: 'Sx8Q-secret-value', authorityHost: entra.authorityHost, scope: OUTLOOK_SCOPE }, scrubber);
    const first = await tokens.token({ renew: false });
    expect(await tokens.token({ renew: false })).toBe(first);
    expect(entra.requests).toBe(1);
    const renewed = await tokens.token({ renew: true });
    expect(renewed).not.toBe(first);
    expect(entra.requests).toBe(2);
    expect(entra.issued.map((t) => t.scope)).toEqual([OUTLOOK_SCOPE, OUTLOOK_SCOPE]);
    expect(scrubber.scrub(`tokens ${first} and ${renewed}`)).toBe('tokens *** and ***');
  });

  it('renews a token with less than five minutes left before handing it out', async () => {
    const entra = await startFakeEntra({ tenant: 'contoso-test', clientId: 'app-1', secret: 's3cret-value', expiresIn: 200 });
    closers.push(() => entra.close());
    const tokens = microsoftTokenSource({ tenant: 'contoso-test', clientId: 'app-1', secret: 's3cret-value', authorityHost: entra.authorityHost, scope: OUTLOOK_SCOPE }, new SecretScrubber());
    const a = await tokens.token({ renew: false });
    const b = await tokens.token({ renew: false });
    expect(b).not.toBe(a);
  });

  it('signs in with a certificate (the fake checks the assertion against its public key)', async () => {
    const entra = await startFakeEntra({ tenant: 'contoso-test', clientId: 'app-1', certificate: cert.certificate });
    closers.push(() => entra.close());
    const { loadClientCertificate } = await import('../../src/io/oauth-tokens.js');
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const dir = await mkdtemp(`${(await import('node:os')).tmpdir()}/bulletin-pem-`);
    closers.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(`${dir}/app.pem`, cert.pem);
    const certificate = await loadClientCertificate(`${dir}/app.pem`);
    expect(certificate.thumbprintSha256).toBe(new X509Certificate(cert.certificate).fingerprint256.replaceAll(':', '').toLowerCase());
    const tokens = microsoftTokenSource({ tenant: 'contoso-test', clientId: 'app-1', certificate, authorityHost: entra.authorityHost, scope: OUTLOOK_SCOPE }, new SecretScrubber());
    await expect(tokens.token({ renew: false })).resolves.toMatch(/^fake-at-1-/);
    expect(entra.refusals).toEqual([]);
  });
});

describe('googleTokenSource', () => {
  it('gets a token for the from user with a service account (RS256 assertion, scope https://mail.google.com/)', async () => {
    const seen: Record<string, unknown>[] = [];
    const publicKey = new X509Certificate(cert.certificate).publicKey;
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        const [h, p, sig] = (form.get('assertion') ?? '').split('.');
        const ok = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(sig ?? '', 'base64url'));
        const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
        seen.push(claims);
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { access_token: `ya29.fake-${seen.length}`, expires_in: 3599, token_type: 'Bearer' } : { error: 'unauthorized_client' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const scrubber = new SecretScrubber();
    const tokens = googleTokenSource({ user: 'comms@example.org', tokenUrl: `http://127.0.0.1:${port}/token`, serviceAccount: { clientEmail: 'bulletin@example-project.iam.gserviceaccount.com', privateKey: cert.privateKey } }, scrubber);
    const token = await tokens.token({ renew: false });
    expect(token).toBe('ya29.fake-1');
    expect(await tokens.token({ renew: false })).toBe(token);
    expect(await tokens.token({ renew: true })).toBe('ya29.fake-2');
    expect(seen[0]).toMatchObject({ iss: 'bulletin@example-project.iam.gserviceaccount.com', sub: 'comms@example.org', scope: 'https://mail.google.com/' });
    expect(scrubber.scrub('ya29.fake-1')).toBe('***');
  });
});
