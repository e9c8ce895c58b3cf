/**
 * Mail transports: SMTP over nodemailer's SMTPConnection (in a small pool of our own,
 * smtp-pool.ts), or an outbox folder of .eml files.
 *
 * Every delivery ends in one DeliveryOutcome. The distinction that matters most is between a
 * connection lost *before* the whole message was handed to the server (nothing can have been
 * accepted: safe to retry) and one lost *after* the final `.` went out but before the reply
 * (the server may have queued it: uncertain, never retried automatically).
 *
 * How that is told apart, from nodemailer 10's source (dist/esm):
 * - Messages go to nodemailer's SMTPConnection through our own small pool (smtp-pool.ts), as a
 *   stream of the finished bytes. SMTPConnection `send()` pipes that stream into a DataStream
 *   only once DATA got its 354 (`message.pipe(stream)` in the `_setEnvelope` callback), and
 *   DataStream appends the terminating `.` in `_flush`, which runs only after its input has
 *   ended. So the `.` can never be written before our stream has emitted 'end'.
 * - A readable emits 'end' only once its consumer has read every byte, and nothing reads this
 *   one before DATA is accepted.
 * - The raw bytes go in as a stream of 64 KB chunks rather than one Buffer: a single Buffer
 *   would pass the whole pipeline as one chunk straight into the socket's write queue, and the
 *   stream would end the moment DATA was accepted. In chunks, socket backpressure holds the
 *   stream back until all but the last few chunks have been handed to the operating system.
 * Not ended → the `.` was certainly not sent → temporary. Ended → it may have been: uncertain.
 * (Bytes handed to the operating system may still be unsent; nothing but the server's reply
 * can tell, so that case is uncertain too, on the safe side.)
 *
 * Nothing resends a message on its own (nodemailer's pool would, after a dropped connection):
 * a message is only ever retried by us, on the record.
 */
import { mkdir, open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { OutgoingMessage } from '../core/outgoing.js';
import { safeFileName } from '../core/file-names.js';
import type { SecretScrubber } from '../core/secrets.js';
import type { GraphTransportOptions } from './graph-transport.js';
import type { AccessTokenSource } from './oauth-tokens.js';
import type { SmtpPoolOptions } from './smtp-pool.js';

// ---------------------------------------------------------------------------------------------
// Transport URLs

export type TransportSpec =
  | { kind: 'smtp'; secure: boolean; host: string; port: number; user?: string; pass?: string }
  | { kind: 'outbox'; dir: string }
  /** SMTP with OAuth2 (XOAUTH2): Exchange Online or Gmail, signed in with settings from the environment. */
  | OAuthSmtpSpec
  /** Microsoft Graph sendMail. `host`: another Graph host given in the URL (else the setting, else graph.microsoft.com). */
  | { kind: 'graph'; host?: string; account?: string };

export interface OAuthSmtpSpec {
  kind: 'oauth-smtp';
  provider: 'microsoft365' | 'google';
  host: string;
  port: number;
  /** TLS from the start (465); otherwise STARTTLS. */
  secure: boolean;
  /** Refuse to sign in without TLS: always, except to a loopback test server. */
  requireTLS: boolean;
  /** Whether host and port were given (URL or bulletin.json), rather than the provider's. */
  custom: boolean;
  /** Who signs in, without secrets ("app 1234…, tenant contoso…"), once known. */
  account?: string;
}

/** The provider's own SMTP server: Exchange Online submission with STARTTLS, Gmail with TLS. */
export const PROVIDER_SMTP = {
  microsoft365: { host: 'smtp.office365.com', port: 587 },
  google: { host: 'smtp.gmail.com', port: 465 },
} as const;

export class TransportUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportUrlError';
  }
}

const URL_HINT = 'use smtp://user:password@host:587, smtps://user:password@host:465, microsoft365, graph, google or outbox:FOLDER';

/**
 * Parses `smtp://[user:pass@]host:port`, `smtps://…`, `outbox:DIR`, or a provider:
 * `microsoft365`, `google`, `graph`, each optionally `://host[:port]` (another server: a
 * national cloud, a relay, a test server). Errors never include the password.
 */
export function parseTransport(url: string): TransportSpec {
  const text = url.trim();
  const provider = /^(microsoft365|m365|office365|google|gmail|graph)(?::\/\/(.*))?$/i.exec(text);
  if (provider) return parseProvider(provider[1]!.toLowerCase(), provider[2]);
  if (/^outbox:/i.test(text)) {
    const dir = text.slice('outbox:'.length);
    if (dir === '') throw new TransportUrlError(`"outbox:" needs a folder, e.g. outbox:runs/outbox`);
    return { kind: 'outbox', dir };
  }
  const scheme = /^(smtps?):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) throw new TransportUrlError(`unknown transport "${redactTransport(text)}": ${URL_HINT}`);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new TransportUrlError(`"${redactTransport(text)}" is not a valid URL: ${URL_HINT} (a password with @, : or / must be percent-encoded)`);
  }
  if (parsed.hostname === '') throw new TransportUrlError(`"${redactTransport(text)}" has no host: ${URL_HINT}`);
  if ((parsed.pathname !== '' && parsed.pathname !== '/') || parsed.search !== '') {
    throw new TransportUrlError(`"${redactTransport(text)}": only scheme, user, password, host and port are understood: ${URL_HINT}`);
  }
  const secure = scheme === 'smtps';
  const spec: TransportSpec = {
    kind: 'smtp',
    secure,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? (secure ? 465 : 587) : Number(parsed.port),
  };
  if (parsed.username !== '') spec.user = decodeURIComponent(parsed.username);
  if (parsed.password !== '') spec.pass = decodeURIComponent(parsed.password);
  return spec;
}

function parseProvider(name: string, server: string | undefined): TransportSpec {
  const where = server === undefined || server === '' ? undefined : parseServer(server, name);
  if (name === 'graph') return where ? { kind: 'graph', host: where.port === undefined ? where.host : `${where.host}:${where.port}` } : { kind: 'graph' };
  const provider = name === 'google' || name === 'gmail' ? 'google' : 'microsoft365';
  return oauthSmtpSpec(provider, where);
}

/** `host[:port]` of a provider URL or the bulletin.json transport block's `server`. */
export function parseServer(server: string, name: string): { host: string; port?: number } {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?\/?$/.exec(server.trim());
  if (!match) {
    const hint = server.includes('@') ? ': sign-in ids and secrets go in the environment or .env (BULLETIN_CLIENT_ID, BULLETIN_CLIENT_SECRET, …), not in the URL' : '';
    throw new TransportUrlError(`"${name}://${redactTransport(server).replace(/^.*@/, '…@')}": only a host and port can follow ${name}://${hint}`);
  }
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
  return match[2] === undefined ? { host } : { host, port: Number(match[2]) };
}

/** The SMTP spec of a provider, on its own server or the one given. */
export function oauthSmtpSpec(provider: 'microsoft365' | 'google', where: { host: string; port?: number } | undefined): OAuthSmtpSpec {
  const host = where?.host ?? PROVIDER_SMTP[provider].host;
  const port = where?.port ?? (where ? (provider === 'google' ? 465 : 587) : PROVIDER_SMTP[provider].port);
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  return { kind: 'oauth-smtp', provider, host, port, secure: port === 465, requireTLS: !loopback, custom: where !== undefined };
}

/** The URL with its password replaced by `***`: `smtp://user:***@host:587`. Safe on any string. */
export function redactTransport(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):[^@\s]*@/i, '$1:***@');
}

/** How the transport is shown everywhere (summary, run.json): never with a password. */
export function describeTransport(spec: TransportSpec): string {
  if (spec.kind === 'outbox') return `outbox:${spec.dir}`;
  if (spec.kind === 'oauth-smtp') {
    const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
    return `${spec.provider} (${[`${host}:${spec.port}`, spec.account].filter(Boolean).join(', ')})`;
  }
  if (spec.kind === 'graph') return `graph (${[spec.host ?? 'graph.microsoft.com', spec.account].filter(Boolean).join(', ')})`;
  const user = spec.user === undefined ? '' : `${encodeURIComponent(spec.user)}${spec.pass === undefined ? '' : ':***'}@`;
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${spec.secure ? 'smtps' : 'smtp'}://${user}${host}:${spec.port}`;
}

// ---------------------------------------------------------------------------------------------
// Outcomes

export type DeliveryOutcome =
  | { kind: 'sent'; code: number; response: string }
  /** 5xx, including the recipient refused at RCPT TO. */
  | { kind: 'permanent'; code: number; response: string }
  /**
   * 4xx, or the connection was lost before the message data was completely sent.
   * `retryAfterMs`: the server said when to come back (HTTP Retry-After). It throttles the whole
   * sender, not this message: the run retries no sooner, and starts nothing else until then.
   */
  | { kind: 'temporary'; code?: number; response: string; retryAfterMs?: number }
  /** The connection was lost after the whole message went out, before the reply: the server may have queued it. */
  | { kind: 'uncertain'; response: string }
  /** Will not fix itself by retrying: bad credentials, TLS or connection settings. */
  | { kind: 'fatal'; reason: 'auth' | 'connection'; code?: number; response: string };

export interface DeliveryTransport {
  /** The transport as shown to users, without secrets. */
  readonly description: string;
  deliver(message: OutgoingMessage): Promise<DeliveryOutcome>;
  /** Connects (and logs in) once, to find bad settings before anything is sent. */
  verify(): Promise<DeliveryOutcome | undefined>;
  close(): Promise<void>;
}

export interface DkimKey {
  domainName: string;
  keySelector: string;
  /** PEM */
  privateKey: string;
}

export interface OpenTransportOptions {
  /** SMTP connections used at once. */
  concurrency: number;
  dkim?: DkimKey;
  /** Override nodemailer's timeouts (ms); mainly for tests. */
  timeouts?: { connection?: number; greeting?: number; socket?: number };
  /** TLS settings passed to nodemailer, e.g. a private CA for an internal relay. */
  tls?: { rejectUnauthorized?: boolean; ca?: string };
  /** For microsoft365, google and graph: how to get tokens, for which mailbox. */
  signIn?: TransportSignIn;
  /** OAuth2 SMTP: sign in again on a new connection after this long (ms); mainly for tests. */
  connectionMaxAgeMs?: number;
}

export interface TransportSignIn {
  tokens: AccessTokenSource;
  /** The mailbox that sends (the campaign's from address). */
  mailbox: string;
  /** Knows every secret and token, to keep them out of replies and errors. */
  scrubber: SecretScrubber;
  /** Graph's origin: https://graph.microsoft.com, or another cloud's, or http://127.0.0.1:P in tests. */
  graphHost: string;
}

export async function openTransport(spec: TransportSpec, options: OpenTransportOptions): Promise<DeliveryTransport> {
  const sign = options.dkim ? await dkimSigner(options.dkim) : (raw: Buffer) => Promise.resolve(raw);
  if (spec.kind === 'outbox') return openOutbox(spec.dir, sign);
  if (spec.kind === 'smtp') {
    const auth = spec.user !== undefined ? { user: spec.user, pass: spec.pass ?? '' } : undefined;
    return openSmtp(spec, describeTransport(spec), auth, options, sign, secretScrubber(spec.pass), undefined);
  }
  const signIn = options.signIn;
  if (!signIn) throw new Error(`the ${spec.kind} transport needs sign-in settings`);
  const scrub = (text: string) => signIn.scrubber.scrub(text);
  if (spec.kind === 'graph') return withSigning(await openGraph(signIn, options), sign);
  const { default: XOAuth2 } = await import('nodemailer/lib/xoauth2');
  // Every new connection asks the token source (which caches and renews before expiry);
  // after a 334 challenge nodemailer asks again with renew=true, once. `expires: 1` (already
  // past) keeps XOAuth2's own cache out of the way: 0 would mean "never expires".
  const oauth2 = new XOAuth2({
    user: signIn.mailbox,
    provisionCallback: (_user, renew, callback) => {
      signIn.tokens.token({ renew }).then(
        (token) => callback(null, token, 1),
        (error: unknown) => callback(error instanceof Error ? new Error(scrub(error.message)) : new Error(scrub(String(error))), '', 0),
      );
    },
  });
  return openSmtp(spec, describeTransport(spec), { user: signIn.mailbox, oauth2 }, options, sign, scrub, options.connectionMaxAgeMs ?? OAUTH_CONNECTION_MAX_AGE_MS);
}

/** Tokens live about an hour: sign in again on a new connection well before that. */
const OAUTH_CONNECTION_MAX_AGE_MS = 40 * 60_000;

/** The Microsoft Graph transport (graph-transport.ts), loaded only when used. */
async function openGraph(signIn: TransportSignIn, options: OpenTransportOptions): Promise<DeliveryTransport> {
  const { openGraphTransport } = await import('./graph-transport.js');
  const graphOptions: GraphTransportOptions = { graphHost: signIn.graphHost, mailbox: signIn.mailbox, tokens: signIn.tokens, concurrency: options.concurrency };
  if (options.tls?.ca !== undefined) graphOptions.tls = { ca: options.tls.ca };
  return openGraphTransport(graphOptions);
}

/** DKIM-signs messages before another transport delivers them. */
function withSigning(transport: DeliveryTransport, sign: Signer): DeliveryTransport {
  return {
    description: transport.description,
    deliver: async (message) => transport.deliver({ ...message, raw: await sign(message.raw) }),
    verify: () => transport.verify(),
    close: () => transport.close(),
  };
}

type Signer = (raw: Buffer) => Promise<Buffer>;

/** DKIM-signs the finished bytes with nodemailer's signer, before they reach any transport. */
async function dkimSigner(key: DkimKey): Promise<Signer> {
  const { default: DKIM } = await import('nodemailer/lib/dkim');
  const dkim = new DKIM({ domainName: key.domainName, keySelector: key.keySelector, privateKey: key.privateKey });
  return (raw) => collect(dkim.sign(raw));
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// SMTP

interface NodemailerErrorLike {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  message?: string;
}

const AUTH_ERRORS = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);
/** Settings problems: retrying the same settings gets the same error. */
const CONFIG_ERRORS = new Set(['ETLS', 'EDNS', 'ECONFIG', 'EPROXY', 'EREQUIRETLS']);
/** Certificate and TLS protocol errors surface as ESOCKET with Node's own code kept in originalCode. */
export const TLS_SYSTEM_ERROR = /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|UNABLE_TO_(GET|VERIFY)_)/;

/**
 * Maps a nodemailer error to an outcome. `handedOver`: whether the whole message stream was
 * consumed by the SMTP connection (see the header comment): after that, a lost connection is
 * uncertain, before it, temporary.
 */
export function classifySmtpError(error: unknown, handedOver: boolean, scrub: (text: string) => string = (t) => t): DeliveryOutcome {
  const err = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as NodemailerErrorLike;
  const response = scrub(err.response ?? err.message ?? 'unknown error');
  const code = err.responseCode;
  if (err.code !== undefined && AUTH_ERRORS.has(err.code)) {
    return code === undefined ? { kind: 'fatal', reason: 'auth', response } : { kind: 'fatal', reason: 'auth', code, response };
  }
  if (code !== undefined && code >= 400) {
    // nodemailer marks 503 (bad sequence of commands) not permanent: a new session can succeed
    if (code >= 500 && err.permanent !== false) return { kind: 'permanent', code, response };
    return { kind: 'temporary', code, response };
  }
  if ((err.code !== undefined && CONFIG_ERRORS.has(err.code)) || TLS_SYSTEM_ERROR.test(err.originalCode ?? '')) {
    return { kind: 'fatal', reason: 'connection', response: describeConnectionError(err, response) };
  }
  if (handedOver) return { kind: 'uncertain', response: `${response} (after the whole message was sent, before the server replied)` };
  return { kind: 'temporary', response: describeConnectionError(err, response) };
}

function describeConnectionError(err: NodemailerErrorLike, response: string): string {
  return err.originalCode && !response.includes(err.originalCode) ? `${response} (${err.originalCode})` : response;
}

function replyCode(response: string): number {
  const code = Number(/^\d{3}/.exec(response)?.[0]);
  return Number.isFinite(code) && code > 0 ? code : 250;
}

async function openSmtp(
  spec: { host: string; port: number; secure: boolean; requireTLS?: boolean },
  description: string,
  auth: SmtpPoolOptions['auth'],
  options: OpenTransportOptions,
  sign: Signer,
  scrub: (text: string) => string,
  maxAgeMs: number | undefined,
): Promise<DeliveryTransport> {
  const [{ default: SMTPConnection }, { default: MimeNode }, { SmtpPool }] = await Promise.all([
    import('nodemailer/lib/smtp-connection'),
    import('nodemailer/lib/mime-node'),
    import('./smtp-pool.js'),
  ]);
  const pool = new SmtpPool(
    { SMTPConnection, MimeNode },
    {
      size: options.concurrency,
      connection: {
        host: spec.host,
        port: spec.port,
        secure: spec.secure,
        ...(spec.requireTLS ? { requireTLS: true } : {}),
        logger: false,
        ...(options.timeouts?.connection !== undefined ? { connectionTimeout: options.timeouts.connection } : {}),
        ...(options.timeouts?.greeting !== undefined ? { greetingTimeout: options.timeouts.greeting } : {}),
        ...(options.timeouts?.socket !== undefined ? { socketTimeout: options.timeouts.socket } : {}),
        ...(options.tls ? { tls: options.tls } : {}),
      },
      ...(auth ? { auth } : {}),
      ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
    },
  );

  return {
    description,
    async deliver(message) {
      const raw = readInChunks(await sign(message.raw));
      // the data stream has taken every byte (see the top of this file)
      let handedOver = false;
      raw.once('end', () => (handedOver = true));
      try {
        const info = await pool.send(message.envelope, raw);
        return sentOutcome(info, scrub, handedOver);
      } catch (error) {
        return classifySmtpError(error, handedOver, scrub);
      } finally {
        raw.destroy();
      }
    },
    async verify() {
      try {
        await pool.verify();
        return undefined;
      } catch (error) {
        return classifySmtpError(error, false, scrub);
      }
    },
    close() {
      pool.close();
      return Promise.resolve();
    },
  };
}

const CHUNK_BYTES = 64 * 1024;

/** The bytes as a stream that hands out one chunk per read, so backpressure applies (see top). */
function readInChunks(bytes: Buffer): Readable {
  let offset = 0;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (offset >= bytes.length) {
        this.push(null);
        return;
      }
      this.push(bytes.subarray(offset, offset + CHUNK_BYTES));
      offset += CHUNK_BYTES;
    },
  });
}

function sentOutcome(
  info: { accepted: (string | { address: string })[]; rejected: (string | { address: string })[]; rejectedErrors?: NodemailerErrorLike[]; response: string },
  scrub: (text: string) => string,
  handedOver: boolean,
): DeliveryOutcome {
  const response = scrub(info.response);
  if (info.accepted.length === 0 && info.rejected.length > 0) {
    // every recipient of the envelope was refused one by one (nodemailer reports no error then)
    const first = info.rejectedErrors?.[0];
    return first ? classifySmtpError(first, handedOver, scrub) : { kind: 'permanent', code: 550, response };
  }
  return { kind: 'sent', code: replyCode(response), response };
}

/** Belt and braces: a server that echoes the password back must not get it into the manifest. */
function secretScrubber(pass: string | undefined): (text: string) => string {
  if (!pass) return (text) => text;
  const secrets = [pass, Buffer.from(pass).toString('base64')].filter((s) => s.length >= 3);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}

// ---------------------------------------------------------------------------------------------
// Outbox

export const OUTBOX_RESPONSE = 'written to outbox';

async function openOutbox(dir: string, sign: Signer): Promise<DeliveryTransport> {
  await mkdir(dir, { recursive: true });
  // continue numbering after files a previous (resumed) run left, never overwrite one
  let counter = (await readdir(dir)).reduce((max, name) => Math.max(max, Number(/^(\d+)-/.exec(name)?.[1] ?? 0)), 0);
  return {
    description: `outbox:${dir}`,
    async deliver(message) {
      const n = ++counter;
      const name = `${String(n).padStart(5, '0')}-${safeFileName(message.email)}.eml`;
      await writeAtomically(join(dir, name), await sign(message.raw));
      return { kind: 'sent', code: 250, response: OUTBOX_RESPONSE };
    },
    verify: () => Promise.resolve(undefined),
    close: () => Promise.resolve(),
  };
}

/** Write a temporary file, sync it, then rename: a crash never leaves half a message behind. */
async function writeAtomically(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.write(data);
    await file.datasync(); // the bytes and size; the timestamps need not reach the disk first
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
