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

// ---------------------------------------------------------------------------------------------
// Transport URLs

export type TransportSpec =
  | { kind: 'smtp'; secure: boolean; host: string; port: number; user?: string; pass?: string }
  | { kind: 'outbox'; dir: string };

export class TransportUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportUrlError';
  }
}

const URL_HINT = 'use smtp://user:password@host:587, smtps://user:password@host:465 or outbox:FOLDER';

/** Parses `smtp://[user:pass@]host:port`, `smtps://…` or `outbox:DIR`. Errors never include the password. */
export function parseTransport(url: string): TransportSpec {
  const text = url.trim();
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

/** The URL with its password replaced by `***`: `smtp://user:***@host:587`. Safe on any string. */
export function redactTransport(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):[^@\s]*@/i, '$1:***@');
}

/** How the transport is shown everywhere (summary, run.json): never with a password. */
export function describeTransport(spec: TransportSpec): string {
  if (spec.kind === 'outbox') return `outbox:${spec.dir}`;
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
}

export async function openTransport(spec: TransportSpec, options: OpenTransportOptions): Promise<DeliveryTransport> {
  const sign = options.dkim ? await dkimSigner(options.dkim) : (raw: Buffer) => Promise.resolve(raw);
  return spec.kind === 'outbox' ? openOutbox(spec.dir, sign) : openSmtp(spec, options, sign);
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

async function openSmtp(spec: Extract<TransportSpec, { kind: 'smtp' }>, options: OpenTransportOptions, sign: Signer): Promise<DeliveryTransport> {
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
        logger: false,
        ...(options.timeouts?.connection !== undefined ? { connectionTimeout: options.timeouts.connection } : {}),
        ...(options.timeouts?.greeting !== undefined ? { greetingTimeout: options.timeouts.greeting } : {}),
        ...(options.timeouts?.socket !== undefined ? { socketTimeout: options.timeouts.socket } : {}),
        ...(options.tls ? { tls: options.tls } : {}),
      },
      ...(spec.user !== undefined ? { auth: { user: spec.user, pass: spec.pass ?? '' } } : {}),
    },
  );

  const scrub = secretScrubber(spec.pass);

  return {
    description: describeTransport(spec),
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
