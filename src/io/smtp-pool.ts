/**
 * A pool of nodemailer SMTPConnections for pre-built messages: at most `size` connections,
 * opened when a message needs one, each sending one message at a time and kept for the next.
 *
 * Why not nodemailer's own pool (`createTransport({ pool: true })`): its sendMail runs every
 * message through the Mailer first (plugins, a MailComposer, a MimeNode whose raw content goes
 * through three more streams before the SMTP data stream). For bytes that are already a finished
 * message that is all overhead: measured with bench/send-sink, about 40% of the sender's CPU per
 * message. The SMTP session itself (greeting, EHLO, STARTTLS, AUTH, pipelining, dot-stuffing,
 * replies and their errors) is still nodemailer's SMTPConnection, with the same error objects.
 *
 * What happens to a connection after a message mirrors nodemailer's PoolResource: refused by the
 * server (EENVELOPE or EMESSAGE, not 421, connection intact) → RSET and use it again; any other
 * error → close it, and the next message opens a new one. A message is never resent here.
 */
import type { Readable } from 'node:stream';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionOptions, SMTPConnectionSendInfo, SMTPEnvelope } from 'nodemailer/lib/smtp-connection';
import type MimeNode from 'nodemailer/lib/mime-node';
import type XOAuth2 from 'nodemailer/lib/xoauth2';

export interface SmtpPoolOptions {
  /** Connections open at once, at most. */
  size: number;
  connection: SMTPConnectionOptions;
  /** A password, or OAuth2 (XOAUTH2) with nodemailer's XOAuth2 asked for a token per new connection. */
  auth?: { user: string; pass: string } | { user: string; oauth2: XOAuth2 };
  /**
   * Close a connection this long after it signed in, instead of reusing it (ms). For OAuth2: a
   * session signed in with a token should not outlive the token by much, so a send of several
   * hours signs in again with a fresh one.
   */
  maxAgeMs?: number;
}

type SendInfo = SMTPConnectionSendInfo;

/** The nodemailer classes, passed in so that nodemailer loads only when SMTP is used. */
export interface NodemailerClasses {
  SMTPConnection: typeof SMTPConnection;
  MimeNode: typeof MimeNode;
}

export class SmtpPool {
  private readonly idle: SMTPConnection[] = [];
  /** Every connection opened or opening and not yet discarded. */
  private readonly live = new Set<SMTPConnection>();
  /** Connections sending a message, with how to fail that message if the connection just ends. */
  private readonly busy = new Map<SMTPConnection, (error: Error) => void>();
  private readonly waiting: (() => void)[] = [];
  /** When each connection was opened (for maxAgeMs). */
  private readonly openedAt = new Map<SMTPConnection, number>();
  private closed = false;

  constructor(
    private readonly classes: NodemailerClasses,
    private readonly options: SmtpPoolOptions,
  ) {}

  /**
   * Sends one message: the envelope as given (normalised the way nodemailer's sendMail does),
   * the stream as the message data. Rejects with nodemailer's error.
   */
  async send(envelope: { from: string; to: string[] }, message: Readable): Promise<SendInfo> {
    const smtpEnvelope = this.normalise(envelope);
    const connection = await this.acquire();
    return new Promise<SendInfo>((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | null, info?: SendInfo): void => {
        if (settled) return;
        settled = true;
        this.busy.delete(connection);
        if (error) reject(error);
        else resolve(info!);
      };
      this.busy.set(connection, (error) => settle(error));
      connection.send(smtpEnvelope, message, (error, info) => {
        if (!error) {
          this.release(connection);
          settle(null, info);
          return;
        }
        const refused = (error.code === 'EENVELOPE' || error.code === 'EMESSAGE') && error.responseCode !== 421;
        if (refused && !connection.destroyed && this.live.has(connection)) {
          // the server refused this message, the session is fine: reset it and keep it
          this.busy.delete(connection);
          connection.reset((resetError) => (resetError ? this.discard(connection) : this.release(connection)));
        } else {
          this.discard(connection);
        }
        settle(error);
      });
    });
  }

  /** Opens a connection (and logs in) to check the settings, then closes it. */
  async verify(): Promise<void> {
    const connection = await this.connect();
    this.discard(connection, true);
  }

  close(): void {
    this.closed = true;
    for (const connection of [...this.live]) this.discard(connection);
    for (const wake of this.waiting.splice(0)) wake();
  }

  private normalise(envelope: { from: string; to: string[] }): SMTPEnvelope {
    return normaliseEnvelope(this.classes.MimeNode, envelope);
  }

  private async acquire(): Promise<SMTPConnection> {
    for (;;) {
      if (this.closed) throw poolClosed();
      const ready = this.idle.pop();
      if (ready) return ready;
      if (this.live.size < this.options.size) return this.connect();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private connect(): Promise<SMTPConnection> {
    const connection = new this.classes.SMTPConnection(this.options.connection);
    this.live.add(connection);
    this.openedAt.set(connection, Date.now());
    return new Promise<SMTPConnection>((resolve, reject) => {
      let ready = false;
      const settle = (error?: Error | null): void => {
        if (ready) return;
        ready = true;
        if (error) {
          this.discard(connection);
          reject(error);
        } else {
          resolve(connection);
        }
      };
      connection.on('error', (error: Error) => {
        // before it is ready: this is why connecting failed. While sending: the send callback
        // gets the same error. While idle (a timeout, the server went away): drop it.
        if (!ready) settle(error);
        else if (!this.busy.has(connection)) this.discard(connection);
      });
      connection.once('end', () => {
        settle(connectionClosed());
        this.discard(connection);
        // nodemailer ends a connection (synchronously, in close()) before it hands the error to
        // the send callback: give that callback the chance to report the real error first. This
        // is for a connection closed with no callback coming at all (closing the pool mid-send).
        setImmediate(() => this.busy.get(connection)?.(connectionClosed()));
      });
      connection.connect((error) => {
        if (error) {
          settle(error);
          return;
        }
        const auth = this.options.auth;
        if (auth && 'oauth2' in auth) {
          // a token must never go to a server that offers no sign-in (or in the clear: requireTLS)
          if (!connection.allowsAuth) settle(Object.assign(new Error('The server offers no sign-in (AUTH) on this connection'), { code: 'EAUTH', command: 'AUTH' }));
          else connection.login({ user: auth.user, oauth2: auth.oauth2 }, (loginError) => settle(loginError));
        } else if (auth && connection.allowsAuth) connection.login({ user: auth.user, credentials: auth }, (loginError) => settle(loginError));
        else settle();
      });
    });
  }

  private release(connection: SMTPConnection): void {
    if (this.closed || connection.destroyed || !this.live.has(connection)) {
      this.discard(connection);
      return;
    }
    const age = Date.now() - (this.openedAt.get(connection) ?? Date.now());
    if (this.options.maxAgeMs !== undefined && age >= this.options.maxAgeMs) {
      this.discard(connection, true);
      return;
    }
    this.idle.push(connection);
    this.waiting.shift()?.();
  }

  private discard(connection: SMTPConnection, politely = false): void {
    if (!this.live.delete(connection)) return;
    this.openedAt.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at !== -1) this.idle.splice(at, 1);
    if (politely) connection.quit();
    else connection.close();
    this.waiting.shift()?.();
  }
}

/**
 * The envelope as nodemailer's sendMail would send it: its MimeNode punycodes a Unicode domain,
 * lowercases the domain, quotes an odd local part and drops duplicate recipients. An envelope of
 * plain lowercase ASCII addresses comes out unchanged, so it skips that work (a MimeNode per
 * message, with its random boundary and address parser, was 7% of the sender's CPU).
 */
export function normaliseEnvelope(Node: typeof MimeNode, envelope: { from: string; to: string[] }): SMTPEnvelope {
  if (PLAIN.test(envelope.from) && envelope.to.every((to) => PLAIN.test(to)) && new Set(envelope.to).size === envelope.to.length) {
    return { from: envelope.from, to: [...envelope.to] };
  }
  const node = new Node();
  node.setEnvelope(envelope);
  const { from, to } = node.getEnvelope();
  return { from: from || '', to };
}

/**
 * A dot-atom of letters, digits and `_+-`, at a lowercase ASCII domain with no punycode label
 * and a top-level label of letters only (a numeric one makes the URL parser read an IPv4 address).
 */
const PLAIN = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:(?!xn--)[a-z0-9-]+\.)+[a-z]+$/;

function connectionClosed(): Error {
  return Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION', command: 'CONN' });
}

function poolClosed(): Error {
  return Object.assign(new Error('The SMTP connections are closed'), { code: 'ECONNECTION', command: 'API' });
}
