/**
 * Which transport a campaign uses, and how it signs in, resolved the same way by `send` and
 * `check-transport`:
 * - the transport: --transport, then BULLETIN_TRANSPORT in the environment, then in the
 *   campaign's .env, then bulletin.json's secret-free `transport` block, then the outbox;
 * - sign-in ids and secrets: the environment, then the campaign's .env; never bulletin.json.
 *
 * Microsoft (microsoft365, graph): BULLETIN_TENANT_ID, BULLETIN_CLIENT_ID, and
 * BULLETIN_CLIENT_CERTIFICATE (a PEM file with the certificate and its private key) or
 * BULLETIN_CLIENT_SECRET; BULLETIN_AUTHORITY_HOST and BULLETIN_GRAPH_HOST for national clouds.
 * Google: BULLETIN_GOOGLE_SERVICE_ACCOUNT (the service account's JSON key file), or
 * BULLETIN_GOOGLE_CLIENT_ID + BULLETIN_GOOGLE_CLIENT_SECRET + BULLETIN_GOOGLE_REFRESH_TOKEN;
 * BULLETIN_GOOGLE_TOKEN_URL for tests.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEnv } from 'node:util';
import type { Config } from '../core/config.js';
import { SecretScrubber } from '../core/secrets.js';
import {
  GOOGLE_SCOPE,
  GOOGLE_TOKEN_URL,
  googleTokenSource,
  isLoopback,
  loadClientCertificate,
  loadServiceAccount,
  MICROSOFT_AUTHORITY_HOST,
  microsoftTokenSource,
  OUTLOOK_SCOPE,
  SignInSetupError,
  authorityOrigin,
  type AccessTokenSource,
  type ClientCertificate,
  type GoogleCredentials,
} from './oauth-tokens.js';
import { oauthSmtpSpec, parseServer, parseTransport, type TransportSignIn, type TransportSpec } from './transport.js';

export type TransportSettings = NonNullable<Config['transport']>;

export const GRAPH_HOST = 'graph.microsoft.com';

export interface CampaignEnvironment {
  /** BULLETIN_* settings: the process environment over the campaign's .env. */
  env: Record<string, string | undefined>;
  /** Where BULLETIN_TRANSPORT came from, if anywhere. */
  transportSource?: string;
  dotenvPath: string;
}

/** Reads the campaign's .env (if any) under the process environment. */
export async function readCampaignEnvironment(dir: string, processEnv: NodeJS.ProcessEnv): Promise<CampaignEnvironment> {
  const dotenvPath = path.join(dir, '.env');
  const text = await readFile(dotenvPath, 'utf8').catch(() => undefined);
  const fromFile = text === undefined ? {} : parseEnv(text);
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(fromFile)) if (key.startsWith('BULLETIN_') && value !== '') env[key] = value;
  for (const [key, value] of Object.entries(processEnv)) if (key.startsWith('BULLETIN_') && value) env[key] = value;
  const result: CampaignEnvironment = { env, dotenvPath };
  if (processEnv.BULLETIN_TRANSPORT) result.transportSource = 'BULLETIN_TRANSPORT';
  else if (fromFile.BULLETIN_TRANSPORT) result.transportSource = dotenvPath;
  return result;
}

export interface ChosenTransport {
  url: string;
  source: string;
}

/** --transport, then BULLETIN_TRANSPORT (environment, then .env); undefined: bulletin.json or the default decides. */
export function chooseTransport(option: string | undefined, environment: CampaignEnvironment): ChosenTransport | undefined {
  if (option) return { url: option, source: '--transport' };
  const url = environment.env.BULLETIN_TRANSPORT;
  if (url && environment.transportSource) return { url, source: environment.transportSource };
  return undefined;
}

/** bulletin.json's transport block as a URL: `microsoft365`, `google://host:port`, `graph`. */
export function settingsTransport(settings: TransportSettings): string {
  return settings.server && settings.provider !== 'graph' ? `${settings.provider}://${settings.server}` : settings.provider;
}

export interface ResolvedTransport {
  spec: TransportSpec;
  signIn?: TransportSignIn & {
    provider: 'microsoft365' | 'graph' | 'google';
    certificate?: ClientCertificate;
    /** The sign-in host's origin (for a clock check against its Date header). */
    signInOrigin: string;
  };
}

export interface SignInContext {
  env: Record<string, string | undefined>;
  settings: TransportSettings | undefined;
  /** The sending mailbox: the campaign's from address. */
  mailbox: string;
  /** The campaign folder: relative key file paths are tried there after the current folder. */
  dir: string;
}

/** Parses the transport and, for a provider, loads its sign-in settings (no network yet). */
export async function resolveTransport(url: string, context: SignInContext): Promise<ResolvedTransport> {
  let spec = parseTransport(url);
  if (spec.kind === 'smtp' || spec.kind === 'outbox') return { spec };
  const { env, settings } = context;
  const scrubber = new SecretScrubber();

  if (spec.kind === 'oauth-smtp' && !spec.custom && settings?.server && settings.provider === spec.provider) {
    spec = oauthSmtpSpec(spec.provider, parseServer(settings.server, spec.provider));
  }
  const graphOrigin = hostOrigin((spec.kind === 'graph' ? spec.host : undefined) ?? env.BULLETIN_GRAPH_HOST ?? settings?.graphHost ?? GRAPH_HOST, 'Graph host');

  if (spec.kind === 'oauth-smtp' && spec.provider === 'google') {
    const credentials = await googleCredentials(context, scrubber);
    const account = googleAccount(credentials);
    return {
      spec: { ...spec, account },
      signIn: { provider: 'google', tokens: googleTokenSource(credentials, scrubber), mailbox: context.mailbox, scrubber, graphHost: graphOrigin, signInOrigin: new URL(credentials.tokenUrl).origin },
    };
  }

  const provider = spec.kind === 'graph' ? 'graph' : 'microsoft365';
  // Graph's scope is its own host's, except for a loopback test server standing in for it
  const graphScope = isLoopback(new URL(graphOrigin).hostname) ? `https://${GRAPH_HOST}/.default` : `${graphOrigin}/.default`;
  const microsoft = await microsoftSignIn(context, provider, provider === 'graph' ? graphScope : outlookScope(spec), scrubber);
  const { tokens, account, certificate, signInOrigin } = microsoft;
  const signIn: NonNullable<ResolvedTransport['signIn']> = { provider, tokens, mailbox: context.mailbox, scrubber, graphHost: graphOrigin, signInOrigin };
  if (certificate) signIn.certificate = certificate;
  if (spec.kind === 'graph') return { spec: { kind: 'graph', host: new URL(graphOrigin).host, account }, signIn };
  return { spec: { ...spec, account }, signIn };
}

interface MicrosoftSignIn {
  tokens: AccessTokenSource;
  account: string;
  certificate?: ClientCertificate;
  signInOrigin: string;
}

/** The Entra app's sign-in (client credentials) from BULLETIN_TENANT_ID, BULLETIN_CLIENT_ID and a certificate or secret. */
async function microsoftSignIn(context: Pick<SignInContext, 'env' | 'settings' | 'dir'>, provider: string, scope: string, scrubber: SecretScrubber): Promise<MicrosoftSignIn> {
  const { env, settings } = context;
  const tenant = required(env, 'BULLETIN_TENANT_ID', 'the Directory (tenant) ID from the app\'s Overview page in the Microsoft Entra admin center');
  const clientId = required(env, 'BULLETIN_CLIENT_ID', 'the Application (client) ID from the app\'s Overview page in the Microsoft Entra admin center');
  const authorityHost = env.BULLETIN_AUTHORITY_HOST ?? settings?.authorityHost ?? MICROSOFT_AUTHORITY_HOST;
  const signInOrigin = wrap(() => authorityOrigin(authorityHost));
  const certificateFile = env.BULLETIN_CLIENT_CERTIFICATE;
  const secret = env.BULLETIN_CLIENT_SECRET;
  let certificate: ClientCertificate | undefined;
  if (certificateFile) {
    certificate = await loadClientCertificate(await locate(certificateFile, context.dir, 'BULLETIN_CLIENT_CERTIFICATE'));
    scrubber.add(certificate.privateKey);
  } else if (secret) {
    scrubber.add(secret);
  } else {
    throw new SignInSetupError(
      `${provider} needs a client certificate or secret: set BULLETIN_CLIENT_CERTIFICATE (a PEM file with the certificate and its private key) or BULLETIN_CLIENT_SECRET`,
      "in the environment or the campaign's .env file, never in bulletin.json; a certificate is what most security teams prefer",
    );
  }
  const tokens = microsoftTokenSource({ tenant, clientId, ...(certificate ? { certificate } : { secret: secret! }), authorityHost, scope }, scrubber);
  const signIn: MicrosoftSignIn = { tokens, account: `app ${abbreviate(clientId)}, tenant ${abbreviate(tenant)}`, signInOrigin };
  if (certificate) signIn.certificate = certificate;
  return signIn;
}

/** Exchange Online's IMAP hosts: worldwide, and the US government clouds. */
const EXCHANGE_ONLINE_IMAP_HOSTS = new Set(['outlook.office365.com', 'outlook.office.com', 'outlook.office365.us', 'outlook-dod.office365.us']);

/** How `bulletin inbox` signs in to an IMAP server: a password, or the Microsoft 365 or Google sign-in `send` uses. */
export type ImapSignInMethod = 'password' | 'microsoft365' | 'google';
export const IMAP_SIGN_IN_METHODS: readonly ImapSignInMethod[] = ['password', 'microsoft365', 'google'];

/**
 * The sign-in an IMAP host needs when none is asked for: Exchange Online and Gmail no longer take
 * passwords from apps (Microsoft turned Basic authentication off; Google wants OAuth or an app
 * password), so their hosts get OAuth2; any other server, a password.
 */
export function imapSignInFor(host: string): ImapSignInMethod {
  const name = host.toLowerCase();
  if (EXCHANGE_ONLINE_IMAP_HOSTS.has(name)) return 'microsoft365';
  if (name === 'imap.gmail.com') return 'google';
  return 'password';
}

export interface ImapSignIn {
  tokens: AccessTokenSource;
  scrubber: SecretScrubber;
  /** e.g. "app 1234abcd…, tenant contoso…", for messages. */
  account: string;
}

/**
 * OAuth2 for an IMAP mailbox, with the credentials `send` uses (environment, then the campaign's
 * .env): Microsoft 365 app-only access (the app needs IMAP.AccessAsApp and access to the
 * mailbox), or a Google service account acting for the mailbox's user (or a refresh token).
 */
export async function resolveImapSignIn(method: Exclude<ImapSignInMethod, 'password'>, context: Pick<SignInContext, 'env' | 'settings' | 'dir'> & { user: string; host: string }): Promise<ImapSignIn> {
  const scrubber = new SecretScrubber();
  if (method === 'google') {
    const credentials = await googleCredentials({ ...context, mailbox: context.user }, scrubber);
    const account = googleAccount(credentials);
    return { tokens: googleTokenSource(credentials, scrubber), scrubber, account };
  }
  // The US government clouds' audience is their own host (https://outlook.office365.us); any other, the worldwide one.
  const scope = /\.office365\.us$/i.test(context.host) ? `https://${context.host.toLowerCase()}/.default` : OUTLOOK_SCOPE;
  const { tokens, account } = await microsoftSignIn(context, 'microsoft365', scope, scrubber);
  return { tokens, scrubber, account };
}

async function googleCredentials(context: Pick<SignInContext, 'env' | 'dir' | 'mailbox'>, scrubber: SecretScrubber): Promise<GoogleCredentials> {
  const { env } = context;
  const keyFile = env.BULLETIN_GOOGLE_SERVICE_ACCOUNT;
  if (keyFile) {
    const key = await loadServiceAccount(await locate(keyFile, context.dir, 'BULLETIN_GOOGLE_SERVICE_ACCOUNT'));
    scrubber.add(key.privateKey);
    return { user: context.mailbox, tokenUrl: env.BULLETIN_GOOGLE_TOKEN_URL ?? key.tokenUri ?? GOOGLE_TOKEN_URL, serviceAccount: { clientEmail: key.clientEmail, privateKey: key.privateKey } };
  }
  if (env.BULLETIN_GOOGLE_REFRESH_TOKEN) {
    const clientId = required(env, 'BULLETIN_GOOGLE_CLIENT_ID', 'the OAuth client ID the refresh token was issued to');
    const clientSecret = required(env, 'BULLETIN_GOOGLE_CLIENT_SECRET', "that OAuth client's secret");
    scrubber.add(clientSecret);
    scrubber.add(env.BULLETIN_GOOGLE_REFRESH_TOKEN);
    return { user: context.mailbox, tokenUrl: env.BULLETIN_GOOGLE_TOKEN_URL ?? GOOGLE_TOKEN_URL, refreshToken: { clientId, clientSecret, refreshToken: env.BULLETIN_GOOGLE_REFRESH_TOKEN } };
  }
  throw new SignInSetupError(
    'google needs a service account key (BULLETIN_GOOGLE_SERVICE_ACCOUNT, a JSON key file) or a refresh token (BULLETIN_GOOGLE_CLIENT_ID, BULLETIN_GOOGLE_CLIENT_SECRET, BULLETIN_GOOGLE_REFRESH_TOKEN)',
    `in the environment or the campaign's .env file; the service account needs domain-wide delegation for ${GOOGLE_SCOPE}`,
  );
}

/** The Google sign-in as messages name it: enough to recognise, not to copy. */
function googleAccount(credentials: GoogleCredentials): string {
  return credentials.serviceAccount ? `service account ${abbreviate(credentials.serviceAccount.clientEmail)}` : `OAuth client ${abbreviate(credentials.refreshToken?.clientId ?? '')}`;
}

function required(env: Record<string, string | undefined>, name: string, what: string): string {
  const value = env[name]?.trim();
  if (!value) throw new SignInSetupError(`${name} is not set: it must hold ${what}`, "set it in the environment or in the campaign's .env file (never in bulletin.json)");
  return value;
}

/** A key file named relative to the current folder, or else to the campaign folder (.env). */
async function locate(file: string, dir: string, name: string): Promise<string> {
  for (const candidate of path.isAbsolute(file) ? [file] : [path.resolve(file), path.resolve(dir, file)]) {
    if (await access(candidate).then(() => true, () => false)) return candidate;
  }
  throw new SignInSetupError(`${name} names ${file}, which does not exist`, 'give the full path of the file, or a path relative to the campaign folder');
}

/**
 * Exchange's token audience follows its SMTP host: smtp.office365.com → outlook.office365.com,
 * and for a national cloud smtp.office365.us → outlook.office365.us. Any other host (a relay, a
 * test server) keeps the global one.
 */
function outlookScope(spec: TransportSpec): string {
  const cloud = spec.kind === 'oauth-smtp' ? /^smtp\.(office365\.[a-z.]+)$/i.exec(spec.host)?.[1] : undefined;
  return cloud ? `https://outlook.${cloud.toLowerCase()}/.default` : OUTLOOK_SCOPE;
}

/** `graph.microsoft.us` → https://graph.microsoft.us; http:// only for loopback (tests). */
function hostOrigin(host: string, what: string): string {
  return wrap(() => {
    const url = new URL(/^https?:\/\//i.test(host) ? host : `https://${host}`);
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) throw new SignInSetupError(`the ${what} ${host} must use https`, 'http:// is allowed for 127.0.0.1 only (tests)');
    return url.origin;
  });
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SignInSetupError) throw error;
    throw new SignInSetupError(`cannot read a host setting: ${error instanceof Error ? error.message : String(error)}`, 'give a host name such as login.microsoftonline.us');
  }
}

/** `1234abcd-…` → `1234abcd…`, `contoso.onmicrosoft.com` → `contoso…`: enough to recognise, not to copy. */
export function abbreviate(id: string): string {
  const head = /^[^-.@]{1,8}/.exec(id)?.[0] ?? id.slice(0, 8);
  return head.length < id.length ? `${head}…` : head;
}
