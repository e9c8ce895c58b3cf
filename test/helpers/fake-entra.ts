/**
 * A fake Microsoft Entra token endpoint on 127.0.0.1: answers POST /<tenant>/oauth2/v2.0/token
 * for the client credentials grant, checking the client secret, or the client assertion JWT's
 * signature against the test certificate's public key. It issues opaque tokens with the
 * `expires_in` it is told, counts requests, and can revoke tokens or refuse with AADSTS errors
 * shaped like Entra's (error, error_description, error_codes).
 *
 * bulletin reaches it through BULLETIN_AUTHORITY_HOST=http://127.0.0.1:P (msal's
 * authorityMetadata: only the token POST is made, see LIBRARY-NOTES B1).
 */
import { createVerify, constants, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';

export interface FakeEntraOptions {
  tenant: string;
  clientId: string;
  /** Accepted client secret. */
  secret?: string;
  /** Accepted certificate (PEM); assertions must be signed with its key. */
  certificate?: string;
  /** What the token response says (s). Default 3600. */
  expiresIn?: number;
  /** When resource servers stop accepting a token (ms after issue); default expiresIn. */
  lifetimeMs?: number;
}

export interface IssuedToken {
  token: string;
  scope: string;
  issuedAt: number;
}

export interface FakeEntra {
  port: number;
  /** BULLETIN_AUTHORITY_HOST for bulletin. */
  authorityHost: string;
  issued: IssuedToken[];
  /** Token requests received, including refused ones. */
  requests: number;
  /** Every failure answered, as `AADSTS…` codes. */
  refusals: string[];
  /** Whether a resource server should accept this token now (issued here, not revoked, not expired). */
  accepts(token: string, scope?: string): boolean;
  /** Revoke every token issued so far. */
  revokeAll(): void;
  /** Refuse every further token request with this AADSTS error (undefined: stop refusing). */
  refuseWith(code: number | undefined): void;
  close(): Promise<void>;
}

const ERRORS: Record<number, { status: number; error: string; text: string }> = {
  90002: { status: 400, error: 'invalid_request', text: "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud." },
  700016: { status: 400, error: 'unauthorized_client', text: "Application with identifier '{client}' was not found in the directory '{tenant}'." },
  7000215: { status: 401, error: 'invalid_client', text: 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.' },
  7000222: { status: 401, error: 'invalid_client', text: 'The provided client secret keys for app are expired.' },
  700027: { status: 401, error: 'invalid_client', text: 'The certificate with identifier used to sign the client assertion is not registered on application.' },
  65001: { status: 400, error: 'invalid_grant', text: 'The user or administrator has not consented to use the application.' },
};

export async function startFakeEntra(options: FakeEntraOptions): Promise<FakeEntra> {
  const issued: IssuedToken[] = [];
  const revoked = new Set<string>();
  const refusals: string[] = [];
  let requests = 0;
  let refuse: number | undefined;
  const publicKey: KeyObject | undefined = options.certificate ? new X509Certificate(options.certificate).publicKey : undefined;
  const expiresIn = options.expiresIn ?? 3600;
  const lifetimeMs = options.lifetimeMs ?? expiresIn * 1000;

  const server: Server = createServer((req, res) => {
    void handle(req).then(({ status, body }) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', date: new Date().toUTCString() });
      res.end(JSON.stringify(body));
    });
  });

  const fail = (code: number, tenant: string): { status: number; body: unknown } => {
    refusals.push(`AADSTS${code}`);
    const e = ERRORS[code] ?? { status: 400, error: 'invalid_request', text: 'Request refused.' };
    const text = e.text.replace('{tenant}', tenant).replace('{client}', options.clientId);
    return {
      status: e.status,
      body: { error: e.error, error_description: `AADSTS${code}: ${text} Trace ID: 0000 Correlation ID: 0000 Timestamp: ${new Date().toISOString()}`, error_codes: [code], timestamp: new Date().toISOString(), trace_id: '0000', correlation_id: '0000' },
    };
  };

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const match = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) return { status: 404, body: { error: 'not_found' } };
    requests++;
    const tenant = decodeURIComponent(match[1]!);
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    if (tenant !== options.tenant) return fail(90002, tenant);
    if (form.get('client_id') !== options.clientId) return fail(700016, tenant);
    if (refuse !== undefined) return fail(refuse, tenant);
    if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
    const assertion = form.get('client_assertion');
    if (assertion) {
      if (!publicKey || !validAssertion(assertion, publicKey, options.clientId)) return fail(700027, tenant);
    } else if (options.secret === undefined || form.get('client_secret') !== options.secret) {
      return fail(7000215, tenant);
    }
    const token = `fake-at-${issued.length + 1}-${randomBytes(12).toString('hex')}`;
    const scope = form.get('scope') ?? '';
    issued.push({ token, scope, issuedAt: Date.now() });
    return { status: 200, body: { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token } };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    authorityHost: `http://127.0.0.1:${port}`,
    issued,
    get requests() {
      return requests;
    },
    refusals,
    accepts(token, scope) {
      const found = issued.find((t) => t.token === token);
      if (!found || revoked.has(token)) return false;
      if (scope !== undefined && !found.scope.startsWith(scope)) return false;
      return Date.now() - found.issuedAt < lifetimeMs;
    },
    revokeAll() {
      for (const t of issued) revoked.add(t.token);
    },
    refuseWith(code) {
      refuse = code;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Checks a client assertion: PS256 (msal with thumbprintSha256) or RS256, aud and sub, not expired. */
function validAssertion(jwt: string, key: KeyObject, clientId: string): boolean {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return false;
  const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: string; iss?: string; exp?: number };
  const verify = createVerify('RSA-SHA256').update(`${header}.${payload}`);
  const ok =
    head.alg === 'PS256'
      ? verify.verify({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, Buffer.from(signature, 'base64url'))
      : verify.verify(key, Buffer.from(signature, 'base64url'));
  return ok && claims.sub === clientId && claims.iss === clientId && (claims.exp ?? 0) * 1000 > Date.now();
}

export interface TestCertificate {
  /** Certificate and private key in one PEM, as BULLETIN_CLIENT_CERTIFICATE expects. */
  pem: string;
  certificate: string;
  privateKey: string;
}

/** A throwaway self-signed RSA certificate from openssl, valid `days` (negative: already expired). */
export function makeTestCertificate(days = 30): TestCertificate {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bulletin-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key], { stdio: 'ignore' });
    if (days > 0) {
      execFileSync('openssl', ['req', '-x509', '-new', '-key', key, '-out', cert, '-days', String(days), '-subj', '/CN=bulletin test app'], { stdio: 'ignore' });
    } else {
      // an expired certificate: OpenSSL 3.0's req has no -not_after, but `ca -selfsign` takes dates
      const csr = path.join(dir, 'req.csr');
      writeFileSync(path.join(dir, 'index.txt'), '');
      writeFileSync(path.join(dir, 'serial'), '01\n');
      writeFileSync(path.join(dir, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nserial=serial\nnew_certs_dir=.\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n');
      execFileSync('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', '/CN=bulletin expired app'], { stdio: 'ignore' });
      const end = new Date(Date.now() + days * 86_400_000);
      const stamp = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
      execFileSync('openssl', ['ca', '-batch', '-config', 'ca.cnf', '-selfsign', '-keyfile', key, '-in', csr, '-out', cert, '-startdate', stamp(new Date(end.getTime() - 30 * 86_400_000)), '-enddate', stamp(end)], { stdio: 'ignore', cwd: dir });
    }
    // `openssl ca` writes a text dump before the PEM block: keep the block only
    const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(readFileSync(cert, 'utf8'))![0];
    const privateKey = readFileSync(key, 'utf8');
    return { pem: `${certificate}${privateKey}`, certificate, privateKey };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
