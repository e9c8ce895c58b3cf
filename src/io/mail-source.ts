/**
 * Where `bulletin inbox` reads mail from: a folder of .eml files, an mbox file, a Maildir or an
 * IMAP folder, behind one interface. Read-only unless opened with `write: true`.
 */
import type { SecretScrubber } from '../core/secrets.js';
import type { AccessTokenSource } from './oauth-tokens.js';
import { open, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { IMAP_PASSWORD_VARIABLE, MailSourceError } from './mail-source-error.js';

export { MailSourceError, IMAP_PASSWORD_VARIABLE } from './mail-source-error.js';
export { parseMail, PARSE_LIMIT_BYTES, type ParsedMail } from './parse-mail.js';

export type SourceSpec =
  /** A folder of .eml files, as a mail program exports them. Only the folder itself, not its subfolders. */
  | { kind: 'eml-folder'; path: string }
  | { kind: 'mbox'; path: string }
  /** A Maildir (cur/, new/, tmp/), or a Maildir++ subfolder (.Name) of one. */
  | { kind: 'maildir'; path: string }
  | { kind: 'imap'; secure: boolean; host: string; port: number; user: string; folder: string };

export interface SourceMessage {
  /** Stable id within the source: the file name within the folder / Maildir (without the :2,flags suffix), 'mbox:<index from 1>', or 'uid:<UID>' (IMAP). */
  source: string;
  raw: Buffer;
  /** IMAP UID, when from IMAP. */
  uid?: number;
}

export interface MailSource {
  readonly description: string;
  /** Messages in a stable order; streams (bounded memory for a 10,000-message mbox). */
  messages(): AsyncIterable<SourceMessage>;
  /** How many messages there are, when cheap to know (for a progress bar); else undefined. */
  count(): Promise<number | undefined>;
  /**
   * What could not be read, one line each naming the source and the message (a skipped start
   * of an mbox, a cut-off last message, a file that vanished): read after messages() ends.
   */
  readonly problems: readonly string[];
  /** Only when opened with write: true. Marks these as seen (IMAP \Seen; Maildir: move to cur/ with the S flag). */
  markSeen(messages: SourceMessage[]): Promise<void>;
  /** Only when opened with write: true. Moves them to this folder (IMAP UID MOVE; Maildir++ subfolder .FOLDER); the folder must exist. */
  moveTo(messages: SourceMessage[], folder: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenSourceOptions {
  /** IMAP password (from the environment / the campaign's .env; the caller finds it). */
  password?: string;
  /** IMAP OAuth2 (XOAUTH2 or OAUTHBEARER) instead of a password: Microsoft 365 or Google. */
  oauth?: { provider: 'microsoft365' | 'google'; tokens: AccessTokenSource; scrubber: SecretScrubber };
  /** false (default): the folder is opened read-only (IMAP EXAMINE), nothing changes. */
  write?: boolean;
  /** IMAP: TLS options (tests use a self-signed certificate). */
  tls?: { rejectUnauthorized?: boolean };
  /** IMAP: how long to wait for the connection, the greeting and any answer (ms); default 30 s. */
  timeoutMs?: number;
}

/**
 * 'imaps://user@host[:port]/FOLDER' (also imap:// for a local/test server), or a path: a
 * directory with cur/ and new/ is a Maildir, another directory a folder of .eml files (or an
 * Apple Mail .mbox export when it holds a file named mbox), a file an mbox. Relative paths are
 * against baseDir. A password in the URL is refused: it must come from the environment.
 */
export async function parseSourceSpec(text: string, baseDir: string): Promise<SourceSpec> {
  const trimmed = text.trim();
  if (trimmed === '') throw new MailSourceError('no mail source given', 'name a folder of .eml files, an mbox file, a Maildir or imaps://user@host/INBOX');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme !== undefined) return parseImapUrl(trimmed, scheme);
  const path = trimmed.startsWith('~/') ? join(homedir(), trimmed.slice(2)) : resolve(baseDir, trimmed);
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new MailSourceError(`no such file or folder: ${path}`, 'give a folder of .eml files, an mbox file, a Maildir, or imaps://user@host/INBOX');
    throw new MailSourceError(`cannot open ${path}: ${(err as Error).message}`);
  }
  if (info.isDirectory()) {
    if ((await isDirectory(join(path, 'cur'))) && (await isDirectory(join(path, 'new')))) return { kind: 'maildir', path };
    // Apple Mail exports a mailbox as Name.mbox/, a folder holding one file named mbox.
    const mboxInside = join(path, 'mbox');
    if ((await isFile(mboxInside)) && !(await hasEmlFiles(path))) return { kind: 'mbox', path: mboxInside };
    return { kind: 'eml-folder', path };
  }
  if (!info.isFile()) throw new MailSourceError(`${path} is neither a file nor a folder`);
  await checkLooksLikeMbox(path);
  return { kind: 'mbox', path };
}

export function describeSource(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'eml-folder':
      return `folder of .eml files ${spec.path}`;
    case 'mbox':
      return `mbox file ${spec.path}`;
    case 'maildir':
      return `Maildir ${spec.path}`;
    case 'imap': {
      const defaultPort = spec.secure ? 993 : 143;
      const port = spec.port === defaultPort ? '' : `:${spec.port}`;
      return `${spec.secure ? 'imaps' : 'imap'}://${encodeURIComponent(spec.user)}@${spec.host}${port}/${spec.folder}`;
    }
  }
}

export async function openMailSource(spec: SourceSpec, options: OpenSourceOptions = {}): Promise<MailSource> {
  if (spec.kind === 'imap') {
    const { openImapSource } = await import('./mail-source-imap.js');
    return openImapSource(spec, options);
  }
  const files = await import('./mail-source-files.js');
  const write = options.write ?? false;
  if (spec.kind === 'mbox') return files.openMboxSource(spec.path, describeSource(spec));
  if (spec.kind === 'maildir') return files.openMaildirSource(spec.path, describeSource(spec), write);
  return files.openEmlFolderSource(spec.path, describeSource(spec));
}

function parseImapUrl(text: string, scheme: string): SourceSpec {
  if (scheme !== 'imap' && scheme !== 'imaps') {
    const hint = scheme === 'pop' || scheme === 'pop3' || scheme === 'pop3s' ? 'bulletin reads mailboxes over IMAP, not POP3: use imaps://user@host/INBOX' : 'use imaps://user@host/INBOX, or a path to a folder, mbox file or Maildir';
    throw new MailSourceError(`unsupported mail source "${scheme}://…"`, hint);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MailSourceError('the IMAP address is not a valid URL', 'write it as imaps://user@host[:port]/FOLDER (a user name with @ may be written as is, or with %40)');
  }
  if (url.password !== '') {
    throw new MailSourceError('the IMAP address contains a password', `remove it from the address and put it in ${IMAP_PASSWORD_VARIABLE} (in the environment or the campaign's .env)`);
  }
  const user = safeDecode(url.username);
  if (user === '') throw new MailSourceError('the IMAP address has no user name', 'write it as imaps://user@host/INBOX');
  if (url.hostname === '') throw new MailSourceError('the IMAP address has no server name', 'write it as imaps://user@host/INBOX');
  const secure = scheme === 'imaps';
  const port = url.port === '' ? (secure ? 993 : 143) : Number(url.port);
  const folder = safeDecode(url.pathname.replace(/^\/+/, '').replace(/\/+$/, '')) || 'INBOX';
  // IPv6 literals come back in brackets; the socket wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'imap', secure, host, port, user, folder };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** An mbox starts with a "From " line; say so now rather than read nothing later. */
async function checkLooksLikeMbox(path: string): Promise<void> {
  const handle = await open(path, 'r');
  let head: string;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
  if (head.startsWith('From ') || /\nFrom /.test(head)) return;
  const name = basename(path);
  const hint = /\.eml$/i.test(name)
    ? 'this looks like one .eml message: give the folder that holds the .eml files instead'
    : 'give an mbox file (each message starts with a "From " line), a folder of .eml files, a Maildir, or imaps://user@host/INBOX';
  throw new MailSourceError(head.length === 0 ? `${path} is empty, not an mbox file` : `${path} is not an mbox file (no line starts with "From " near its start)`, hint);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function hasEmlFiles(path: string): Promise<boolean> {
  return (await readdir(path)).some((name) => /\.eml$/i.test(name));
}
