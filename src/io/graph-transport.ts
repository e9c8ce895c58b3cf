/**
 * Microsoft Graph transport: `POST /v1.0/users/{mailbox}/sendMail` with the finished MIME bytes,
 * base64-encoded (Content-Type: text/plain), so the message that goes is byte for byte the one
 * the reviewer approved. For tenants that turn SMTP AUTH off altogether.
 *
 * Outcomes follow the SMTP rules of transport.ts:
 * - 202 → sent, with Graph's request-id and our client-request-id on the record;
 * - 429/503/504 with Retry-After → temporary with `retryAfterMs`; every other message of this
 *   transport is held back until then (Graph throttles per app and mailbox);
 * - 401 → one renewed token and one more try in the same call; still 401, or 403, or a token
 *   source that fails → fatal auth (the run stops and can be resumed);
 * - a connection lost after the request body was completely handed to the operating system
 *   (the request's 'finish' event) and before the answer → uncertain, never resent by us;
 *   lost before 'finish' → temporary: Graph cannot act on half a request body.
 *   (Node's ClientRequest emits 'finish' once the last byte of headers and body has been handed
 *   to the OS. Bytes in the OS may still be unsent; only an answer can tell, so that case is
 *   uncertain, on the safe side, as with SMTP's final `.`.)
 * The access token never appears in any outcome or error: every text is scrubbed of it.
 *
 * node:http(s) rather than fetch, because fetch does not say when the body has been written.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { OutgoingMessage } from '../core/outgoing.js';
import type { AccessTokenSource } from './oauth-tokens.js';
import { TLS_SYSTEM_ERROR, TransportUrlError, type DeliveryOutcome, type DeliveryTransport } from './transport.js';

/** A bearer token for Graph; `renew: true` after Graph refused the last one (skip any cache). */
export type { AccessTokenSource };

export interface GraphTransportOptions {
  /** Default https://graph.microsoft.com; national clouds differ (https://graph.microsoft.us, …). http:// only for 127.0.0.1/localhost. */
  graphHost: string;
  /** The sending mailbox: the campaign's from address. */
  mailbox: string;
  tokens: AccessTokenSource;
  /** Requests in flight at once; capped at GRAPH_MAX_CONCURRENCY. */
  concurrency: number;
  /** No answer (no bytes either way) for this long → the request is given up. Default 60 s. */
  timeoutMs?: number;
  /** An extra CA to trust (PEM) besides the usual roots, e.g. a TLS-inspecting proxy's. */
  tls?: { ca?: string };
}

export const DEFAULT_GRAPH_HOST = 'https://graph.microsoft.com';

/**
 * Outlook's limit on requests an app runs at once: "Outlook can execute up to 4 concurrent
 * requests" per app ID (Microsoft Graph service-specific throttling limits, Outlook service
 * limits; https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits). Older
 * versions of that page and the Graph team's 2019/2020 announcements state it per app and mailbox.
 */
export const GRAPH_MAX_CONCURRENCY = 4;

/**
 * The largest message (raw MIME bytes) we hand to sendMail: 3 MiB. Graph refuses request bodies
 * over 4 MB (its documentation issue "Request limit not mentioned" on user-sendmail, and its
 * "3 MB, else an upload session" rule for attachments), and the body is the base64 text, 4 bytes
 * per 3: 3 × 1024 × 1024 raw bytes are exactly 4 × 1024 × 1024 base64 characters.
 */
export const GRAPH_MAX_MIME_BYTES = 3 * 1024 * 1024;

/** One sentence when a message is too large for sendMail, else undefined. */
export function graphSizeProblem(rawBytes: number): string | undefined {
  if (rawBytes <= GRAPH_MAX_MIME_BYTES) return undefined;
  return `the message is ${formatMb(rawBytes)}, over the ${formatMb(GRAPH_MAX_MIME_BYTES)} Microsoft Graph accepts in one sendMail request (4 MB once base64-encoded): make it smaller (link to large files rather than attaching them), or send it over SMTP`;
}

function formatMb(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? mb.toFixed(0) : mb.toFixed(2).replace(/\.?0+$/, '')} MB (${bytes.toLocaleString('en-GB')} bytes)`;
}

// ---------------------------------------------------------------------------------------------
// Graph's errors, in a shape the advice table can rely on

/** What Graph said about a failed request. */
export interface GraphError {
  status: number;
  /** Graph's error code, e.g. ErrorAccessDenied, InvalidAuthenticationToken. */
  code?: string;
  message?: string;
  requestId?: string;
  /** The Date header (or innerError.date): when Graph answered, for a support ticket or a clock check. */
  date?: string;
}

/** Reads Graph's `{ error: { code, message, innerError } }` body and the response headers. */
export function describeGraphError(status: number, headers: http.IncomingHttpHeaders, body: string): GraphError {
  const error: GraphError = { status };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const inner = field(parsed, 'error');
  const code = text(field(inner, 'code'));
  const message = text(field(inner, 'message')) ?? (parsed === undefined && body.trim() !== '' ? oneLine(body).slice(0, 300) : undefined);
  const innerError = field(inner, 'innerError');
  const requestId = header(headers, 'request-id') ?? text(field(innerError, 'request-id'));
  const date = header(headers, 'date') ?? text(field(innerError, 'date'));
  if (code !== undefined) error.code = code;
  if (message !== undefined && message !== '') error.message = oneLine(message);
  if (requestId !== undefined) error.requestId = requestId;
  if (date !== undefined) error.date = date;
  return error;
}

/** `HTTP 403 ErrorAccessDenied: Access is denied. [request-id …; date …]`: the fixed shape of every Graph error we record. */
export function formatGraphError(error: GraphError): string {
  const head = `HTTP ${error.status}${error.code === undefined ? '' : ` ${error.code}`}: ${error.message ?? httpStatusText(error.status)}`;
  return `${head} [request-id ${error.requestId ?? '-'}; date ${error.date ?? '-'}]`;
}

/** The reverse of formatGraphError, for a DeliveryOutcome's `response`: undefined when it is not in that shape. */
export function parseGraphError(response: string): GraphError | undefined {
  const match = /^HTTP (\d{3})(?: ([^\s:]+))?: (.*) \[request-id ([^;\]]*); date ([^\]]*)\]$/s.exec(response);
  if (!match) return undefined;
  const error: GraphError = { status: Number(match[1]), message: match[3]! };
  if (match[2] !== undefined) error.code = match[2];
  if (match[4] !== '-') error.requestId = match[4]!;
  if (match[5] !== '-') error.date = match[5]!;
  return error;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

function httpStatusText(status: number): string {
  return http.STATUS_CODES[status] ?? 'error';
}

// ---------------------------------------------------------------------------------------------
// The transport

/** Graph error codes that mean the sending mailbox itself cannot be used: no message can go. */
const MAILBOX_ERRORS = new Set(['ErrorInvalidUser', 'ResourceNotFound', 'MailboxNotEnabledForRESTAPI', 'MailboxNotSupportedForRESTAPI', 'ErrorMailboxNotFound', 'ErrorNonExistentMailbox']);
/** 400s about the message itself (its MIME or its size), rather than the request or the mailbox. */
const MESSAGE_SIZE_ERRORS = /size|large|exceed/i;
const THROTTLE_STATUSES = new Set([429, 503, 504]);
const RESPONSE_BODY_LIMIT = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 60_000;
/**
 * Idle keep-alive connections are closed after this long, well before a server would close them:
 * a request written into a connection the server has just closed would fail after 'finish' and
 * look uncertain although Graph never saw it.
 */
const IDLE_SOCKET_MS = 15_000;

type HttpResult =
  | { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; body: string }
  /** No answer. `written`: the whole request had been handed to the OS before it failed. */
  | { kind: 'failed'; error: Error; written: boolean };

export function openGraphTransport(options: GraphTransportOptions): DeliveryTransport {
  const base = graphBase(options.graphHost);
  const secure = base.protocol === 'https:';
  const limit = Math.max(1, Math.min(Math.floor(options.concurrency), GRAPH_MAX_CONCURRENCY));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const agentOptions = { keepAlive: true, maxSockets: limit, maxFreeSockets: limit, timeout: IDLE_SOCKET_MS };
  const agent = secure ? new https.Agent({ ...agentOptions, ...(options.tls?.ca ? { ca: [...rootCertificates, options.tls.ca] } : {}) }) : new http.Agent(agentOptions);
  const request = secure ? https.request : http.request;
  const userPath = `${base.pathname.replace(/\/$/, '')}/v1.0/users/${encodeURIComponent(options.mailbox).replace(/%40/g, '@')}`;
  const slots = new Slots(limit);
  /** Graph asked us to wait (Retry-After) until this time (ms): nothing is sent before. */
  let heldUntil = 0;

  const tokensSeen = new Set<string>();
  /** Belt and braces: no text we record may carry a token, whatever a server echoes back. */
  const scrub = (value: string): string => {
    let out = value;
    for (const token of tokensSeen) if (token.length >= 8) out = out.split(token).join('***');
    return out.replace(/\beyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*/g, '***');
  };

  let renewing: Promise<string> | undefined;
  const getToken = async (renew: boolean): Promise<string> => {
    let token: string;
    if (renew) {
      // several requests refused at once share one renewal
      renewing ??= options.tokens.token({ renew: true }).finally(() => (renewing = undefined));
      token = await renewing;
    } else {
      token = await (renewing ?? options.tokens.token({ renew: false }));
    }
    tokensSeen.add(token);
    return token;
  };

  const send = (method: 'GET' | 'POST', path: string, token: string, body?: Buffer): Promise<HttpResult> =>
    new Promise((resolve) => {
      let written = false;
      let settled = false;
      const settle = (result: HttpResult): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const headers: http.OutgoingHttpHeaders = {
        Authorization: `Bearer ${token}`,
        Accept: 'application/json',
        'client-request-id': randomUUID(),
        'return-client-request-id': 'true',
      };
      if (body) {
        headers['Content-Type'] = 'text/plain';
        headers['Content-Length'] = body.length;
      }
      const req = request({ protocol: base.protocol, hostname: base.hostname, port: base.port, path, method, headers, agent });
      req.on('finish', () => (written = true));
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from Microsoft Graph within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`)));
      req.on('error', (error) => settle({ kind: 'failed', error, written }));
      req.on('response', (res) => {
        // The status line has arrived: that is Graph's answer, even if the rest of the body is lost.
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (): void => settle({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.on('data', (chunk: Buffer) => {
          if (size < RESPONSE_BODY_LIMIT) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
      });
      req.end(body);
    });

  /** Runs one request with a token, renewing it once if Graph refuses it (401): nothing was accepted then. */
  const withToken = async (method: 'GET' | 'POST', path: string, body?: Buffer): Promise<HttpResult | DeliveryOutcome> => {
    let token: string;
    try {
      token = await getToken(false);
    } catch (error) {
      return tokenProblem(error);
    }
    const first = await send(method, path, token, body);
    if (first.kind !== 'response' || first.status !== 401) return first;
    try {
      token = await getToken(true);
    } catch (error) {
      return tokenProblem(error);
    }
    return send(method, path, token, body);
  };

  const tokenProblem = (error: unknown): DeliveryOutcome => ({
    kind: 'fatal',
    reason: 'auth',
    response: scrub(`could not get an access token for Microsoft Graph: ${error instanceof Error ? error.message : String(error)}`),
  });

  const heldOutcome = (): DeliveryOutcome | undefined => {
    const wait = heldUntil - Date.now();
    if (wait <= 0) return undefined;
    return { kind: 'temporary', response: `not sent: Microsoft Graph asked us to wait until ${new Date(heldUntil).toISOString()}`, retryAfterMs: wait };
  };

  return {
    description: `graph:${options.mailbox} via ${base.origin}${base.pathname.replace(/\/$/, '')}`,

    async deliver(message: OutgoingMessage): Promise<DeliveryOutcome> {
      const tooLarge = graphSizeProblem(message.raw.length);
      if (tooLarge) return { kind: 'permanent', code: 413, response: `not sent: ${tooLarge}` };
      const release = await slots.acquire();
      try {
        // Checked once a slot is free: a throttle may have arrived while this one waited.
        const held = heldOutcome();
        if (held) return held;
        const result = await withToken('POST', `${userPath}/sendMail`, Buffer.from(message.raw.toString('base64'), 'ascii'));
        if (result.kind !== 'response' && result.kind !== 'failed') return result;
        if (result.kind === 'failed') {
          const reason = scrub(describeFailure(result.error));
          // A certificate Graph's host does not pass will not pass on the next try either.
          if (isTlsError(result.error)) return { kind: 'fatal', reason: 'connection', response: `cannot connect securely to Microsoft Graph at ${base.origin}: ${reason}` };
          return result.written
            ? { kind: 'uncertain', response: `${reason} (after the whole request was sent, before Microsoft Graph answered)` }
            : { kind: 'temporary', response: `${reason} (before the whole request was sent)` };
        }
        return sendMailOutcome(result);
      } finally {
        release();
      }
    },

    async verify(): Promise<DeliveryOutcome | undefined> {
      const release = await slots.acquire();
      try {
        const result = await withToken('GET', `${userPath}/mailboxSettings`);
        if (result.kind !== 'response' && result.kind !== 'failed') return result;
        if (result.kind === 'failed') {
          const how = isTlsError(result.error) ? 'cannot connect securely to' : 'cannot reach';
          return { kind: 'fatal', reason: 'connection', response: scrub(`${how} Microsoft Graph at ${base.origin}: ${describeFailure(result.error)}`) };
        }
        if (result.status === 200) return undefined;
        // Reading the mailbox's settings needs MailboxSettings.Read, which a sender need not have:
        // with Mail.Send alone this read is refused (403) and sending still works. The read is
        // optional, so a 403 here is not a failure; a token that is refused (401) or a mailbox
        // that does not exist (404) is.
        if (result.status === 403) return undefined;
        return errorOutcome(result);
      } finally {
        release();
      }
    },

    close(): Promise<void> {
      agent.destroy();
      return Promise.resolve();
    },
  };

  function sendMailOutcome(result: Extract<HttpResult, { kind: 'response' }>): DeliveryOutcome {
    if (result.status === 202) {
      const requestId = header(result.headers, 'request-id');
      const clientRequestId = header(result.headers, 'client-request-id');
      const ids = [requestId === undefined ? undefined : `request-id ${requestId}`, clientRequestId === undefined ? undefined : `client-request-id ${clientRequestId}`].filter((id) => id !== undefined);
      return { kind: 'sent', code: 202, response: scrub(`accepted by Microsoft Graph${ids.length > 0 ? ` (${ids.join(', ')})` : ''}`) };
    }
    if (THROTTLE_STATUSES.has(result.status)) {
      const retryAfterMs = parseRetryAfter(header(result.headers, 'retry-after'), Date.now());
      if (retryAfterMs !== undefined) {
        heldUntil = Math.max(heldUntil, Date.now() + retryAfterMs);
        return { kind: 'temporary', code: result.status, response: scrub(formatGraphError(describeGraphError(result.status, result.headers, result.body))), retryAfterMs };
      }
    }
    return errorOutcome(result);
  }

  function errorOutcome(result: Extract<HttpResult, { kind: 'response' }>): DeliveryOutcome {
    const { status } = result;
    const error = describeGraphError(status, result.headers, result.body);
    const response = scrub(formatGraphError(error));
    if (status === 401 || status === 403) return { kind: 'fatal', reason: 'auth', code: status, response };
    // The sending mailbox is wrong or cannot use Graph: every message would fail the same way.
    if (status === 404 || (error.code !== undefined && MAILBOX_ERRORS.has(error.code))) return { kind: 'fatal', reason: 'connection', code: status, response };
    if (status === 413 || (status === 400 && MESSAGE_SIZE_ERRORS.test(`${error.code ?? ''} ${error.message ?? ''}`))) {
      return { kind: 'permanent', code: status, response: `${response} (Microsoft Graph takes at most ${formatMb(GRAPH_MAX_MIME_BYTES)} of message per sendMail)` };
    }
    if (status === 429) return { kind: 'temporary', code: status, response };
    // A gateway that timed out may have passed the whole request on: Exchange may have taken it.
    if (status === 502 || status === 504) return { kind: 'uncertain', response: `${response} (a gateway gave up waiting: Exchange may have taken the message)` };
    if (status >= 500) return { kind: 'temporary', code: status, response };
    if (status >= 400) return { kind: 'permanent', code: status, response };
    // 1xx/2xx/3xx other than 202: not what sendMail answers; nothing says the message was taken.
    return { kind: 'uncertain', response: `${response} (Microsoft Graph answered ${status} instead of 202 Accepted)` };
  }
}

/** Retry-After in seconds (what Graph sends) or as an HTTP date; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function isTlsError(error: Error): boolean {
  return TLS_SYSTEM_ERROR.test((error as NodeJS.ErrnoException).code ?? '');
}

function describeFailure(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

function graphBase(graphHost: string): URL {
  let url: URL;
  try {
    url = new URL(graphHost.trim());
  } catch {
    throw new TransportUrlError(`the Graph host "${graphHost}" is not a URL: use e.g. ${DEFAULT_GRAPH_HOST}`);
  }
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new TransportUrlError(`the Graph host "${graphHost}" must start with https:// (e.g. ${DEFAULT_GRAPH_HOST})`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new TransportUrlError(`the Graph host "${url.origin}" must be just a host, e.g. ${DEFAULT_GRAPH_HOST}`);
  }
  return url;
}

/** At most `size` holders at once; the others wait in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
