/**
 * An IMAP folder through imapflow. Read-only unless opened with write: true: EXAMINE, and
 * fetches of BODY.PEEK[] (imapflow's `source`), so no flag changes. Dovecot carries out MOVE
 * even in an EXAMINEd folder, so moveTo checks `write` itself rather than trusting EXAMINE.
 */
import type { FetchMessageObject, ImapFlow, ImapFlowOptions } from 'imapflow';
import { adviseTransport } from '../core/transport-advice.js';
import { IMAP_PASSWORD_VARIABLE, MailSourceError } from './mail-source-error.js';
import { describeSource, type MailSource, type OpenSourceOptions, type SourceMessage, type SourceSpec } from './mail-source.js';
import { MAX_MESSAGE_BYTES } from './mail-source-files.js';

type ImapSpec = Extract<SourceSpec, { kind: 'imap' }>;

/** Fetched per round trip: bounds memory (one batch in hand) and frees the connection between batches. */
const BATCH_MESSAGES = 200;
const BATCH_BYTES = 8 * 1024 * 1024;
/** UIDs per STORE/MOVE command, so the command line stays well under servers' 64 KB limit. */
const UIDS_PER_COMMAND = 1000;

export async function openImapSource(spec: ImapSpec, options: OpenSourceOptions): Promise<MailSource> {
  const description = describeSource(spec);
  const write = options.write ?? false;
  const where = `${spec.user}@${spec.host}`;
  const { oauth } = options;
  if (!oauth && (options.password === undefined || options.password === '')) {
    throw new MailSourceError(`no IMAP password for ${where}`, `set ${IMAP_PASSWORD_VARIABLE} in the environment or in the campaign's .env`);
  }
  const { ImapFlow } = await import('imapflow');
  const timeout = options.timeoutMs ?? 30_000;
  const settings: ImapFlowOptions = {
    host: spec.host,
    port: spec.port,
    secure: spec.secure,
    auth: oauth ? { user: spec.user, accessToken: await signInToken(oauth, false, spec) } : { user: spec.user, pass: options.password! },
    logger: false,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: Math.max(timeout, 60_000),
    ...(options.tls ? { tls: options.tls } : {}),
    // Plain imap:// is for a server on this machine; anywhere else the password must not cross the network in clear.
    ...(!spec.secure && !isLoopback(spec.host) ? { doSTARTTLS: true } : {}),
  };
  let client: ImapFlow = new ImapFlow(settings);
  // imapflow also emits socket errors as events; unhandled, one would end the process.
  let connectionError: Error | undefined;
  const onError = (err: Error) => {
    connectionError = err;
  };
  client.on('error', onError);

  try {
    await client.connect();
  } catch (err) {
    client.close();
    if (!oauth || !(err as { authenticationFailed?: boolean }).authenticationFailed) throw connectError(err, spec, oauth);
    // A cached token the server no longer takes (revoked, or the app's rights changed): once more with a new one.
    client = new ImapFlow({ ...settings, auth: { user: spec.user, accessToken: await signInToken(oauth, true, spec) } });
    client.on('error', onError);
    try {
      await client.connect();
    } catch (again) {
      client.close();
      throw connectError(again, spec, oauth);
    }
  }

  let lock: { release(): void };
  try {
    lock = await client.getMailboxLock(spec.folder, { readOnly: !write });
  } catch (err) {
    const error = (err as { mailboxMissing?: boolean }).mailboxMissing || (err as { code?: string }).code === 'NotFound' ? await missingFolder(client, spec.folder, spec.host) : readError(err, description);
    await logoutQuietly(client);
    throw error;
  }
  if (!write && client.mailbox && !client.mailbox.readOnly) {
    lock.release();
    await logoutQuietly(client);
    throw new MailSourceError(`the IMAP server opened ${spec.folder} for writing although bulletin asked to only read it`, 'nothing was changed; please report this server to the bulletin maintainers');
  }

  const problems: string[] = [];
  /** UID → size, listed once, so the run sees a fixed set of messages even if new mail arrives. */
  let listing: Promise<{ uid: number; size: number }[]> | undefined;
  const list = (): Promise<{ uid: number; size: number }[]> => {
    listing ??= (async () => {
      const exists = client.mailbox ? client.mailbox.exists : 0;
      if (exists === 0) return [];
      const all = await guard(client.fetchAll('1:*', { uid: true, size: true }), description, () => connectionError);
      return all.map((message) => ({ uid: message.uid, size: message.size ?? 0 })).sort((a, b) => a.uid - b.uid);
    })();
    return listing;
  };
  const requireWrite = (what: string): void => {
    if (!write) throw new MailSourceError(`${what} needs the IMAP folder opened for writing`, 'this is a bug in bulletin: open the source with write: true');
  };
  const uidsOf = (messages: SourceMessage[]): number[] =>
    messages.map((message) => {
      if (message.uid === undefined) throw new MailSourceError(`${description}: ${message.source} is not a message of this IMAP folder`);
      return message.uid;
    });

  return {
    description,
    problems,
    count: async () => (await list()).length,
    async *messages() {
      const all = await list();
      for (const batch of batches(all, problems, description)) {
        const fetched = await guard(client.fetchAll(batch.map((m) => m.uid), { uid: true, source: true }, { uid: true }), description, () => connectionError);
        const byUid = new Map<number, FetchMessageObject>(fetched.map((message) => [message.uid, message]));
        for (const { uid } of batch) {
          const source = byUid.get(uid)?.source;
          if (!source) {
            problems.push(`${description}: uid:${uid} was removed from the folder while reading, skipped`);
            continue;
          }
          yield { source: `uid:${uid}`, raw: source, uid };
        }
      }
    },
    async markSeen(messages) {
      requireWrite('--mark-seen');
      for (const set of uidSets(uidsOf(messages))) {
        await guard(client.messageFlagsAdd(set, ['\\Seen'], { uid: true }), description, () => connectionError);
      }
    },
    async moveTo(messages, folder) {
      requireWrite('--move-to');
      const uids = uidsOf(messages);
      const folders = await guard(client.list(), description, () => connectionError);
      const target = folders.find((entry) => entry.path === folder || (/^inbox$/i.test(folder) && entry.specialUse === '\\Inbox') || (/^inbox$/i.test(folder) && /^inbox$/i.test(entry.path)));
      if (!target) throw missingFolderError(folder, spec.host, folders.map((entry) => entry.path));
      if (client.mailbox && target.path === client.mailbox.path) throw new MailSourceError(`the messages are already in ${folder}`, 'name another folder for --move-to');
      let moved = 0;
      for (const set of uidSets(uids)) {
        const result = await guard(client.messageMove(set, target.path, { uid: true }), description, () => connectionError);
        if (result === false) throw new MailSourceError(`the IMAP server did not move the messages to "${target.path}"`, 'check that the folder still exists and that this account may write to it');
        moved += result.uidMap?.size ?? 0;
      }
      if (moved < uids.length) problems.push(`${description}: ${uids.length - moved} of ${uids.length} messages were no longer in the folder and were not moved`);
    },
    async close() {
      lock.release();
      await logoutQuietly(client);
    },
  };
}

function* batches(all: { uid: number; size: number }[], problems: string[], description: string): Generator<{ uid: number; size: number }[]> {
  let batch: { uid: number; size: number }[] = [];
  let bytes = 0;
  for (const message of all) {
    if (message.size > MAX_MESSAGE_BYTES) {
      problems.push(`${description}: uid:${message.uid} skipped: it is ${Math.round(message.size / 1024 / 1024)} MB`);
      continue;
    }
    if (batch.length > 0 && (batch.length >= BATCH_MESSAGES || bytes + message.size > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += message.size;
  }
  if (batch.length > 0) yield batch;
}

/** UID sets as compact IMAP ranges ("3:7,9"), at most UIDS_PER_COMMAND UIDs each. */
export function uidSets(uids: number[]): string[] {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const sets: string[] = [];
  for (let start = 0; start < sorted.length; start += UIDS_PER_COMMAND) {
    const chunk = sorted.slice(start, start + UIDS_PER_COMMAND);
    const ranges: string[] = [];
    let first = chunk[0]!;
    let last = first;
    for (const uid of chunk.slice(1)) {
      if (uid === last + 1) {
        last = uid;
        continue;
      }
      ranges.push(first === last ? `${first}` : `${first}:${last}`);
      first = last = uid;
    }
    ranges.push(first === last ? `${first}` : `${first}:${last}`);
    sets.push(ranges.join(','));
  }
  return sets;
}

async function guard<T>(work: Promise<T>, description: string, connectionError: () => Error | undefined): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw readError(connectionError() ?? err, description);
  }
}

function readError(err: unknown, description: string): MailSourceError {
  if (err instanceof MailSourceError) return err;
  const e = err as { code?: string; message?: string; responseText?: string };
  if (e.code === 'NoConnection' || e.code === 'EConnectionClosed' || e.code === 'ECONNRESET' || e.code === 'EPIPE') {
    return new MailSourceError(`the connection to ${description} closed while reading`, 'run the command again: what was read is safe, and reading is repeatable');
  }
  if (e.code === 'ETIMEOUT' || e.code === 'ETIMEDOUT') return new MailSourceError(`the IMAP server for ${description} stopped answering`, 'run the command again later');
  return new MailSourceError(`the IMAP server for ${description} answered with an error: ${e.responseText ?? e.message ?? String(err)}`);
}

/** A token for the mailbox's sign-in; the sign-in service's refusal as one line with what to do. */
async function signInToken(oauth: NonNullable<OpenSourceOptions['oauth']>, renew: boolean, spec: ImapSpec): Promise<string> {
  try {
    return await oauth.tokens.token({ renew });
  } catch (err) {
    const said = oauth.scrubber.scrub(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    const advice = adviseTransport(said, { provider: oauth.provider, now: Date.now() });
    const service = oauth.provider === 'google' ? 'Google' : 'Microsoft Entra';
    throw new MailSourceError(`${service} would not give a sign-in token for ${spec.user}@${spec.host}: ${advice?.problem ?? said}`, advice?.fix ?? 'check the sign-in settings with `bulletin check-transport` (the inbox uses the same ones)');
  }
}

function connectError(err: unknown, spec: ImapSpec, oauth?: OpenSourceOptions['oauth']): MailSourceError {
  const e = err as { code?: string; message?: string; authenticationFailed?: boolean; responseText?: string };
  const at = `${spec.host}:${spec.port}`;
  const portHint = 'check the server name and port: IMAP over TLS is usually imaps://…:993, plain IMAP imap://…:143';
  if (e.authenticationFailed && oauth) {
    const fix =
      oauth.provider === 'google'
        ? `the service account's domain-wide delegation must list https://mail.google.com/ and act for ${spec.user} (a refresh token must belong to ${spec.user}); IMAP must be on for the account (Admin console → Apps → Google Workspace → Gmail → End User Access)`
        : `the app needs the IMAP.AccessAsApp permission (Office 365 Exchange Online) with admin consent, and an Exchange administrator gives it the mailbox: New-ServicePrincipal -AppId <client id> -ObjectId <enterprise application object id>, then Add-MailboxPermission -Identity ${spec.user} -User <service principal id> -AccessRights FullAccess`;
    return new MailSourceError(`the IMAP server refused the OAuth2 sign-in for ${spec.user}@${spec.host} (a new token was tried too)`, fix);
  }
  if (oauth && /Unsupported authentication mechanism/.test(e.message ?? '')) {
    return new MailSourceError(`the IMAP server ${at} does not offer OAuth2 sign-in (XOAUTH2 or OAUTHBEARER)`, `sign in with a password instead: --sign-in password, with the password in ${IMAP_PASSWORD_VARIABLE}`);
  }
  if (e.authenticationFailed) {
    return new MailSourceError(`the IMAP server refused the login for ${spec.user}@${spec.host}`, `check the user name in the address and the password in ${IMAP_PASSWORD_VARIABLE} (environment or the campaign's .env); some providers need an app password for IMAP`);
  }
  switch (e.code) {
    case 'ECONNREFUSED':
      return new MailSourceError(`could not connect to the IMAP server ${at}: connection refused`, portHint);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new MailSourceError(`could not find the IMAP server ${spec.host}`, 'check the server name in the address and this computer\'s network connection');
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
    case 'ETIMEOUT':
      return new MailSourceError(`the IMAP server ${at} did not answer in time`, `${portHint}; a firewall may be blocking the port`);
    case 'GREETING_TIMEOUT':
      return new MailSourceError(`the server at ${at} accepted the connection but did not greet as an IMAP server`, spec.secure ? portHint : `${portHint} (a TLS port needs imaps://)`);
    case 'ClosedAfterConnectTLS':
    case 'ClosedAfterConnectText':
      return new MailSourceError(`the server at ${at} closed the connection straight away`, portHint);
    case 'MissingServerExtension':
      return new MailSourceError(`the IMAP server ${at} does not offer STARTTLS, so the password would travel unencrypted`, 'use imaps:// (port 993) for this server');
  }
  if (/SSL|TLS|CERT|certificate/i.test(`${e.code ?? ''} ${e.message ?? ''}`)) {
    return new MailSourceError(`could not set up TLS with the IMAP server ${at}: ${e.message ?? e.code}`, spec.secure ? `${portHint}; if the certificate is the problem, ask the mail administrator` : portHint);
  }
  return new MailSourceError(`could not connect to the IMAP server ${at}: ${e.responseText ?? e.message ?? String(err)}`, portHint);
}

async function missingFolder(client: ImapFlow, folder: string, host: string): Promise<MailSourceError> {
  const folders = await client.list().catch(() => []);
  return missingFolderError(folder, host, folders.map((entry) => entry.path));
}

function missingFolderError(folder: string, host: string, existing: string[]): MailSourceError {
  return new MailSourceError(`the IMAP folder "${folder}" does not exist on ${host}`, existing.length > 0 ? `folders there: ${existing.join(', ')}` : 'create it in your mail program first');
}

async function logoutQuietly(client: ImapFlow): Promise<void> {
  try {
    await client.logout();
  } catch {
    client.close();
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
