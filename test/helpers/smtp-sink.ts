/**
 * A real SMTP server on 127.0.0.1 for tests: records every message it accepts, and can be told
 * per recipient to misbehave the way real servers do.
 */
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export type Behaviour =
  /** 550 at RCPT TO. */
  | 'reject'
  /** 451 at RCPT TO the first time, accept afterwards. */
  | 'defer-once'
  /** Close the connection at RCPT TO (before DATA), the first time. */
  | 'drop-before-data'
  /** Close the connection on the first chunk of message data, the first time. */
  | 'drop-mid-data'
  /** Read the whole message (keeping it: the server "queued" it), then close without replying, the first time. */
  | 'drop-after-data';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: Buffer;
  /** Connection it arrived on (remote port), to tell pooled connections apart. */
  remotePort: number;
  /** Whether the session was encrypted (implicit TLS, or after STARTTLS). */
  secure: boolean;
  /** Date.now() when the server had the whole message. */
  receivedAt: number;
}

export interface SinkOptions {
  /** Require this login; wrong credentials get 535. */
  auth?: { user: string; pass: string };
  /** Delay before replying to the end of DATA (ms). */
  replyDelayMs?: number;
  /** Offer STARTTLS, or speak TLS from the start (smtps), with smtp-server's own test certificate. */
  tls?: 'starttls' | 'implicit';
  /**
   * Sign-in with XOAUTH2 only. A token `accepts` approves logs in; any other gets a 334
   * challenge and then 535, as Exchange Online and Gmail answer. `refuse`: answer every AUTH
   * with this 535 text instead (e.g. "5.7.139 …", SMTP AUTH disabled).
   */
  xoauth2?: { accepts(token: string, user: string): boolean; refuse?: () => string | undefined };
  /** Close a connection once it has delivered this many messages (servers cap a session). */
  messagesPerConnection?: number;
}

export interface SmtpSink {
  port: number;
  url: string;
  received: ReceivedMessage[];
  /** What happened per recipient: 'accepted', 'rejected', 'deferred', 'dropped-…'. */
  events: { to: string; event: string }[];
  behave(address: string, behaviour: Behaviour): void;
  /** Messages received for one address. */
  receivedFor(address: string): ReceivedMessage[];
  parse(message: ReceivedMessage): Promise<ParsedMail>;
  /** Server-side sessions that logged in (user names). */
  logins: string[];
  /** XOAUTH2 sign-ins refused (a 334 challenge or a 535). */
  authRejections: number;
  close(): Promise<void>;
}

export async function startSmtpSink(options: SinkOptions = {}): Promise<SmtpSink> {
  const behaviours = new Map<string, Behaviour>();
  const used = new Set<string>();
  const sockets = new Map<number, Socket>();
  const received: ReceivedMessage[] = [];
  const events: SmtpSink['events'] = [];
  const logins: string[] = [];
  let authRejections = 0;
  const delivered = new Map<number, number>();

  /** A one-time behaviour fires once per address, then the address behaves normally. */
  const take = (address: string, behaviour: Behaviour): boolean => {
    if (behaviours.get(address) !== behaviour) return false;
    if (behaviour === 'reject') return true;
    if (used.has(address)) return false;
    used.add(address);
    return true;
  };

  const drop = (session: SMTPServerSession): void => {
    sockets.get(session.remotePort)?.destroy();
  };

  const server = new SMTPServer({
    secure: options.tls === 'implicit',
    disabledCommands: [...(options.tls === 'starttls' ? [] : ['STARTTLS']), ...(options.auth || options.xoauth2 ? [] : ['AUTH'])],
    authOptional: !options.auth && !options.xoauth2,
    ...(options.xoauth2 ? { authMethods: ['XOAUTH2'] } : {}),
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.xoauth2) {
        const refusal = options.xoauth2.refuse?.();
        if (refusal !== undefined) {
          authRejections++;
          callback(Object.assign(new Error(refusal), { responseCode: 535 }));
          return;
        }
        if (auth.method === 'XOAUTH2' && options.xoauth2.accepts(auth.accessToken ?? '', auth.username ?? '')) {
          logins.push(auth.username ?? '');
          callback(null, { user: auth.username });
          return;
        }
        authRejections++;
        callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://outlook.office.com/SMTP.Send' } });
        return;
      }
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        logins.push(auth.username ?? '');
        callback(null, { user: auth.username });
        return;
      }
      callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onRcptTo(address, session, callback) {
      const to = address.address.toLowerCase();
      if (take(to, 'reject')) {
        events.push({ to, event: 'rejected' });
        callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }));
        return;
      }
      if (take(to, 'defer-once')) {
        events.push({ to, event: 'deferred' });
        callback(Object.assign(new Error('4.7.1 Greylisted, try again later'), { responseCode: 451 }));
        return;
      }
      if (take(to, 'drop-before-data')) {
        events.push({ to, event: 'dropped-before-data' });
        drop(session);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      const first = to[0] ?? '';
      const chunks: Buffer[] = [];
      if (take(first, 'drop-mid-data')) {
        events.push({ to: first, event: 'dropped-mid-data' });
        stream.once('data', () => drop(session));
        stream.resume();
        return;
      }
      const dropAfter = take(first, 'drop-after-data');
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        received.push({ from, to, raw: Buffer.concat(chunks), remotePort: session.remotePort, secure: session.secure, receivedAt: Date.now() });
        if (dropAfter) {
          events.push({ to: first, event: 'dropped-after-data' });
          drop(session);
          return;
        }
        for (const address of to) events.push({ to: address, event: 'accepted' });
        const count = (delivered.get(session.remotePort) ?? 0) + 1;
        delivered.set(session.remotePort, count);
        const reply = (): void => {
          callback(null, `OK queued as ${received.length}`);
          if (options.messagesPerConnection !== undefined && count >= options.messagesPerConnection) setImmediate(() => sockets.get(session.remotePort)?.end());
        };
        if (options.replyDelayMs) setTimeout(reply, options.replyDelayMs);
        else reply();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    const port = socket.remotePort;
    if (port === undefined) return;
    sockets.set(port, socket);
    socket.once('close', () => sockets.delete(port));
  });
  server.on('error', () => {
    // a client that went away mid-session is expected in these tests
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const credentials = options.auth ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@` : '';

  return {
    port,
    url: `smtp://${credentials}127.0.0.1:${port}`,
    received,
    events,
    logins,
    get authRejections() {
      return authRejections;
    },
    behave: (address, behaviour) => behaviours.set(address.toLowerCase(), behaviour),
    receivedFor: (address) => received.filter((m) => m.to.includes(address.toLowerCase())),
    parse: (message) => simpleParser(message.raw),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets.values()) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
