/**
 * Access tokens for OAuth2 sign-in: Microsoft Entra app-only (client credentials, through
 * @azure/msal-node) and Google (service account with domain-wide delegation, or a refresh
 * token, through nodemailer's XOAuth2). Each gives `{ token({ renew }) }`:
 * - renew false: a cached token that still has at least 5 minutes to live, else a new one, so a
 *   send that lasts hours (10,000 recipients at 30 a minute: 5.5 h; a token lives about an hour)
 *   signs every new connection in with a live token;
 * - renew true: a new token whatever the cache holds, after a server rejected the cached one.
 * Every token handed out is added to the scrubber, so no reply or error can carry it anywhere.
 *
 * msal (measured, LIBRARY-NOTES B1): its in-memory cache renews when less than 300 s remain;
 * `skipCache` forces a new token. For a loopback sign-in host (tests) the authority stays the
 * real one and `authorityMetadata` points the token endpoint at http://127.0.0.1:P, which msal
 * accepts without TLS and without any discovery request.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SecretScrubber } from '../core/secrets.js';
import type { ConfidentialClientApplication, NodeAuthOptions } from '@azure/msal-node';
import type XOAuth2 from 'nodemailer/lib/xoauth2';
import type { XOAuth2Options } from 'nodemailer/lib/xoauth2';

export interface AccessTokenSource {
  token(options: { renew: boolean }): Promise<string>;
}

export const MICROSOFT_AUTHORITY_HOST = 'login.microsoftonline.com';
export const OUTLOOK_SCOPE = 'https://outlook.office365.com/.default';
export const GRAPH_SCOPE_SUFFIX = '/.default';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const GOOGLE_SCOPE = 'https://mail.google.com/';

/** Renew a cached token with less than this to live, as msal does. */
const RENEW_MARGIN_MS = 300_000;

export interface ClientCertificate {
  /** Hex SHA-256 of the DER certificate, as Entra shows it. */
  thumbprintSha256: string;
  /** PKCS#8 PEM. */
  privateKey: string;
  notBefore: number;
  notAfter: number;
}

export interface MicrosoftCredentials {
  tenant: string;
  clientId: string;
  secret?: string;
  certificate?: ClientCertificate;
  /** `login.microsoftonline.com`, `https://login.microsoftonline.us`, or `http://127.0.0.1:P` (loopback only). */
  authorityHost: string;
  scope: string;
}

/** Loads a PEM holding the certificate and its (unencrypted) private key; computes the SHA-256 thumbprint. */
export async function loadClientCertificate(file: string): Promise<ClientCertificate> {
  const pem = await readFile(file, 'utf8');
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!certPem) throw new SignInSetupError(`${file} holds no certificate (no "BEGIN CERTIFICATE" block)`, 'BULLETIN_CLIENT_CERTIFICATE must name a PEM file with the certificate and its private key');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem)) {
    throw new SignInSetupError(`the private key in ${file} is protected by a password`, 'save it without one for bulletin (openssl pkcs8 -in key.pem -nocrypt -topk8) and protect the file itself instead');
  }
  const keyPem = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!keyPem) throw new SignInSetupError(`${file} holds no private key`, 'put the certificate and its private key in one PEM file (cat cert.pem key.pem > bulletin.pem)');
  let cert: X509Certificate;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    cert = new X509Certificate(certPem);
    key = createPrivateKey(keyPem);
  } catch {
    throw new SignInSetupError(`${file}: the certificate or private key cannot be read`, 'export it again as PEM (Base64) with its private key');
  }
  if (!cert.checkPrivateKey(key)) throw new SignInSetupError(`${file}: the private key does not belong to the certificate`, 'put the matching certificate and key together in the file');
  return {
    thumbprintSha256: createHash('sha256').update(cert.raw).digest('hex'),
    privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
  };
}

/** A sign-in setting that is missing or unusable: one line and a hint, like CampaignError. */
export class SignInSetupError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'SignInSetupError';
  }
}

/** The origin of the sign-in host: `https://login.microsoftonline.com`, or http for loopback. */
export function authorityOrigin(host: string): string {
  const withScheme = /^https?:\/\//i.test(host) ? host : `https://${host}`;
  const url = new URL(withScheme);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new SignInSetupError(`the sign-in host ${host} must use https`, 'http:// is allowed for 127.0.0.1 only (tests)');
  }
  return url.origin;
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

export function microsoftTokenSource(credentials: MicrosoftCredentials, scrubber: SecretScrubber): AccessTokenSource {
  const origin = authorityOrigin(credentials.authorityHost);
  const loopback = origin.startsWith('http:');
  const tenant = encodeURIComponent(credentials.tenant);
  let app: Promise<ConfidentialClientApplication> | undefined;
  const load = async () => {
    const { ConfidentialClientApplication, LogLevel } = await import('@azure/msal-node');
    const auth: NodeAuthOptions = {
      clientId: credentials.clientId,
      authority: loopback ? `https://${MICROSOFT_AUTHORITY_HOST}/${tenant}` : `${origin}/${tenant}`,
    };
    if (credentials.certificate) auth.clientCertificate = { thumbprintSha256: credentials.certificate.thumbprintSha256, privateKey: credentials.certificate.privateKey };
    else if (credentials.secret !== undefined) auth.clientSecret = credentials.secret;
    if (loopback) {
      // the real authority is never contacted: msal posts straight to this token endpoint
      auth.authorityMetadata = JSON.stringify({
        token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
        authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
        issuer: `${origin}/${tenant}/v2.0`,
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
      });
    } else if (new URL(origin).hostname !== MICROSOFT_AUTHORITY_HOST) {
      auth.knownAuthorities = [new URL(origin).host];
    }
    return new ConfidentialClientApplication({ auth, system: { loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined } } });
  };
  return {
    async token({ renew }) {
      app ??= load();
      const client = await app;
      let result = await client.acquireTokenByClientCredential({ scopes: [credentials.scope], skipCache: renew });
      if (result && !renew && result.expiresOn && result.expiresOn.getTime() - Date.now() < RENEW_MARGIN_MS) {
        result = await client.acquireTokenByClientCredential({ scopes: [credentials.scope], skipCache: true });
      }
      if (!result?.accessToken) throw new Error('Microsoft Entra returned no access token');
      scrubber.add(result.accessToken);
      return result.accessToken;
    },
  };
}

export interface GoogleCredentials {
  /** The Workspace user to send as (the campaign's from address). */
  user: string;
  tokenUrl: string;
  serviceAccount?: { clientEmail: string; privateKey: string };
  refreshToken?: { clientId: string; clientSecret: string; refreshToken: string };
}

/** Reads a service account key file (JSON from the Google Cloud console). */
export async function loadServiceAccount(file: string): Promise<{ clientEmail: string; privateKey: string; tokenUri?: string }> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new SignInSetupError(`${file} is not a service account key file (JSON)`, 'download a JSON key for the service account in Google Cloud console → IAM & Admin → Service accounts → Keys');
  }
  const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (typeof fields.client_email !== 'string' || typeof fields.private_key !== 'string') {
    throw new SignInSetupError(`${file} has no client_email and private_key`, 'download a JSON key for the service account (not an OAuth client file)');
  }
  const out: { clientEmail: string; privateKey: string; tokenUri?: string } = { clientEmail: fields.client_email, privateKey: fields.private_key };
  if (typeof fields.token_uri === 'string') out.tokenUri = fields.token_uri;
  return out;
}

export function googleTokenSource(credentials: GoogleCredentials, scrubber: SecretScrubber): AccessTokenSource {
  let client: Promise<XOAuth2> | undefined;
  const load = async () => {
    const { default: XOAuth2Class } = await import('nodemailer/lib/xoauth2');
    const options: XOAuth2Options = { user: credentials.user, accessUrl: credentials.tokenUrl };
    if (credentials.serviceAccount) {
      options.serviceClient = credentials.serviceAccount.clientEmail;
      options.privateKey = credentials.serviceAccount.privateKey;
    } else if (credentials.refreshToken) {
      Object.assign(options, credentials.refreshToken);
    }
    return new XOAuth2Class(options);
  };
  return {
    async token({ renew }) {
      client ??= load();
      const xoauth2 = await client;
      const stale = xoauth2.expires > 0 && xoauth2.expires - Date.now() < RENEW_MARGIN_MS;
      const token = await new Promise<string>((resolve, reject) => xoauth2.getToken(renew || stale, (error: Error | null, accessToken: string) => (error ? reject(error) : resolve(accessToken))));
      scrubber.add(token);
      return token;
    },
  };
}
