/**
 * A fake Microsoft Graph on 127.0.0.1 for tests: a real node:http server answering
 * `POST /v1.0/users/{mailbox}/sendMail` (base64 MIME, as Graph takes it) and
 * `GET /v1.0/users/{mailbox}/mailboxSettings`. It keeps the exact bytes of every message it
 * accepted, checks the bearer token against `tokens` (which the test changes at will), and can be
 * told to misbehave for the next requests the way Graph does.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

export type GraphBehaviour =
  /** Answer with this status and Graph error body (e.g. 429 + Retry-After, 503, 403 ErrorAccessDenied); `{token}` in the message echoes the bearer token. */
  | { kind: 'answer'; status: number; code?: string; message?: string; retryAfter?: string }
  /** Read the whole request body, then never answer. */
  | { kind: 'hang' }
  /** Read the whole request body (the message is "taken"), then destroy the connection without answering. */
  | { kind: 'destroy-after-body' }
  /** Reset the connection as soon as the request headers arrive, before reading any of the body. */
  | { kind: 'destroy-on-headers' };

export interface GraphMessage {
  mailbox: string;
  /** The decoded MIME bytes. */
  raw: Buffer;
  token: string;
  requestId: string;
  clientRequestId: string | undefined;
  /** When the request arrived and when its body was complete (Date.now()). */
  startedAt: number;
  receivedAt: number;
}

export interface GraphRequestLog {
  method: string;
  path: string;
  status: number | 'hung' | 'destroyed';
  /** When the request arrived, and when it was answered (Date.now()). */
  at: number;
  answeredAt?: number;
  requestId: string;
  authorization: string | undefined;
}

export interface FakeGraph {
  /** http://127.0.0.1:PORT: the graphHost to give the transport. */
  url: string;
  /** Bearer tokens accepted; any other gets 401 InvalidAuthenticationToken. */
  tokens: Set<string>;
  /** Mailboxes that exist (lower case); others get 404 ErrorInvalidUser. Empty: every mailbox exists. */
  mailboxes: Set<string>;
  /** mailboxSettings: 'ok' (200) or 'forbidden' (403, Mail.Send without MailboxSettings.Read). */
  mailboxSettings: 'ok' | 'forbidden';
  /** Delay before each sendMail answer (ms), to let requests overlap. */
  answerDelayMs: number;
  /** Messages accepted with 202, in order. */
  accepted: GraphMessage[];
  /** Messages whose whole body was read, whatever the answer (accepted, hung or destroyed after). */
  bodiesRead: GraphMessage[];
  requests: GraphRequestLog[];
  /** The most sendMail requests open at the same time. */
  maxConcurrent: number;
  /** Queue behaviours for the next sendMail requests that carry an accepted token, in arrival order. */
  next(...behaviours: GraphBehaviour[]): void;
  /** Same behaviour for the next `count` requests. */
  nextTimes(count: number, behaviour: GraphBehaviour): void;
  acceptedFor(address: string): GraphMessage[];
  close(): Promise<void>;
}

export const GRAPH_BODY_LIMIT = 4 * 1024 * 1024;

export interface FakeGraphOptions {
  tokens?: string[];
  mailboxes?: string[];
  /** Serve HTTPS with this key and certificate (PEM), like the real Graph. */
  tls?: { key: string; cert: string };
}

export async function startFakeGraph(options: FakeGraphOptions = {}): Promise<FakeGraph> {
  const queue: GraphBehaviour[] = [];
  const sockets = new Set<Socket>();
  let open = 0;

  const fake: FakeGraph = {
    url: '',
    tokens: new Set(options.tokens ?? []),
    mailboxes: new Set((options.mailboxes ?? []).map((m) => m.toLowerCase())),
    mailboxSettings: 'ok',
    answerDelayMs: 0,
    accepted: [],
    bodiesRead: [],
    requests: [],
    maxConcurrent: 0,
    next: (...behaviours) => void queue.push(...behaviours),
    nextTimes: (count, behaviour) => {
      for (let i = 0; i < count; i++) queue.push(behaviour);
    },
    acceptedFor: (address) => fake.accepted.filter((m) => headerTo(m.raw).includes(address.toLowerCase())),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const handler: http.RequestListener = (req, res) => {
    const startedAt = Date.now();
    const requestId = randomUUID();
    const clientRequestId = single(req.headers['client-request-id']);
    const authorization = single(req.headers.authorization);
    const log: GraphRequestLog = { method: req.method ?? '', path: req.url ?? '', status: 0, at: startedAt, requestId, authorization };
    fake.requests.push(log);
    res.setHeader('request-id', requestId);
    if (clientRequestId !== undefined) res.setHeader('client-request-id', clientRequestId);

    const answer = (status: number, body?: { code: string; message: string }, headers: Record<string, string> = {}): void => {
      log.status = status;
      log.answeredAt = Date.now();
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      if (!body) {
        res.writeHead(status).end();
        return;
      }
      const json = JSON.stringify({ error: { ...body, innerError: { date: new Date().toISOString(), 'request-id': requestId, 'client-request-id': clientRequestId } } });
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(json);
    };

    const route = /^\/v1\.0\/users\/([^/]+)\/(sendMail|mailboxSettings)$/.exec(req.url ?? '');
    const mailbox = route ? decodeURIComponent(route[1]!).toLowerCase() : '';
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const authorised = token !== undefined && fake.tokens.has(token);

    if (route?.[2] === 'mailboxSettings' && req.method === 'GET') {
      req.resume();
      if (!authorised) return answer(401, { code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' });
      if (fake.mailboxes.size > 0 && !fake.mailboxes.has(mailbox)) return answer(404, { code: 'ErrorInvalidUser', message: `The requested user '${mailbox}' is invalid.` });
      if (fake.mailboxSettings === 'forbidden') return answer(403, { code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' });
      log.status = 200;
      log.answeredAt = Date.now();
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ timeZone: 'GMT Standard Time', language: { locale: 'en-GB' } }));
      return;
    }
    if (route?.[2] !== 'sendMail' || req.method !== 'POST') {
      req.resume();
      return answer(404, { code: 'BadRequest', message: `Resource not found for the segment '${req.url ?? ''}'.` });
    }

    open++;
    fake.maxConcurrent = Math.max(fake.maxConcurrent, open);
    res.once('close', () => open--);
    const behaviour = authorised ? queue.shift() : undefined;
    if (behaviour?.kind === 'destroy-on-headers') {
      log.status = 'destroyed';
      req.socket.resetAndDestroy();
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GRAPH_BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => {
      if (!authorised) return answer(401, { code: 'InvalidAuthenticationToken', message: 'Lifetime validation failed, the token is expired.' }, { 'WWW-Authenticate': 'Bearer realm=""' });
      if (fake.mailboxes.size > 0 && !fake.mailboxes.has(mailbox)) return answer(404, { code: 'ErrorInvalidUser', message: `The requested user '${mailbox}' is invalid.` });
      if (size > GRAPH_BODY_LIMIT) return answer(413, { code: 'RequestBodyTooLarge', message: 'The request body exceeds the maximum allowed size of 4 MB.' });
      if (!/^text\/plain\b/i.test(req.headers['content-type'] ?? '')) return answer(400, { code: 'ErrorInvalidRequest', message: 'Cannot read the request body as JSON.' });
      const text = Buffer.concat(chunks).toString('ascii').replace(/\r?\n/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0 || text.length === 0) {
        return answer(400, { code: 'ErrorMimeContentInvalidBase64String', message: 'Invalid base64 string for MIME content.' });
      }
      const message: GraphMessage = { mailbox, raw: Buffer.from(text, 'base64'), token: token ?? '', requestId, clientRequestId, startedAt, receivedAt: Date.now() };
      fake.bodiesRead.push(message);
      if (behaviour?.kind === 'hang') {
        log.status = 'hung';
        return;
      }
      if (behaviour?.kind === 'destroy-after-body') {
        log.status = 'destroyed';
        req.socket.destroy();
        return;
      }
      if (behaviour?.kind === 'answer') {
        const body = behaviour.code === undefined ? undefined : { code: behaviour.code, message: (behaviour.message ?? '').replace('{token}', token ?? '') };
        return answer(behaviour.status, body, behaviour.retryAfter === undefined ? {} : { 'Retry-After': behaviour.retryAfter });
      }
      const accept = (): void => {
        fake.accepted.push(message);
        answer(202);
      };
      if (fake.answerDelayMs > 0) setTimeout(accept, fake.answerDelayMs);
      else accept();
    });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  fake.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return fake;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The To: header of a message, lower case (enough to tell test recipients apart). */
function headerTo(raw: Buffer): string {
  const head = raw.subarray(0, Math.max(0, raw.indexOf('\r\n\r\n'))).toString('utf8');
  return (/^To:(.*(?:\r\n[ \t].*)*)/im.exec(head)?.[1] ?? '').toLowerCase();
}
