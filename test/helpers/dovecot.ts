/**
 * Debian's Dovecot (2.3) on 127.0.0.1 for tests: a throwaway config and Maildirs in a temp dir,
 * a free port, plain LOGIN (127.0.0.1 counts as secured). Config and pitfalls: LIBRARY-NOTES A1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ImapFlow } from 'imapflow';

/** The dovecot binary: on PATH, or where Debian puts it (/usr/sbin is not on a normal user's PATH). */
export function findDovecot(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, 'dovecot');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

export interface Dovecot {
  host: '127.0.0.1';
  port: number;
  dir: string;
  /** user → password */
  users: Record<string, string>;
  /** A logged-in client (logger off); the caller logs out. */
  client(user?: string): Promise<ImapFlow>;
  stop(): Promise<void>;
}

export interface DovecotOAuth {
  /** Dovecot posts `token=…` here (RFC 7662 introspection) and wants `{ active: true, username }` back. */
  introspectionUrl: string;
  /** The SASL mechanisms offered for it: `xoauth2` alone, as Exchange Online offers; Gmail offers both. */
  mechanisms: Array<'xoauth2' | 'oauthbearer'>;
}

export async function startDovecot(users: Record<string, string> = { alice: 'alice-test-pw' }, oauth?: DovecotOAuth): Promise<Dovecot> {
  const binary = findDovecot();
  if (!binary) throw new Error('dovecot is not installed (apt-get install dovecot-imapd)');
  // Short: a base_dir over about 80 characters fails with "File name too long".
  const dir = await mkdtemp(join(tmpdir(), 'bdc-'));
  try {
    const root = process.getuid?.() === 0;
    const me = userInfo().username;
    const group = root ? 'dovecot' : execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
    const [u, g, l] = root ? ['dovecot', 'dovecot', 'dovenull'] : [me, group, me];
    await mkdir(join(dir, 'mail'));
    if (root) {
      await chmod(dir, 0o755);
      const ids = execFileSync('id', ['-u', 'dovecot'], { encoding: 'utf8' }).trim();
      const gid = execFileSync('id', ['-g', 'dovecot'], { encoding: 'utf8' }).trim();
      await chown(join(dir, 'mail'), Number(ids), Number(gid));
    }
    await writeFile(join(dir, 'users'), Object.entries(users).map(([name, pass]) => `${name}:{PLAIN}${pass}\n`).join(''));
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      await writeFile(join(dir, 'dovecot.conf'), config(dir, port, u, g, l, oauth));
      if (oauth) await writeFile(join(dir, 'oauth2.conf.ext'), `introspection_mode = post\nintrospection_url = ${oauth.introspectionUrl}\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n`);
      const child = spawn(binary, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const up = await waitForPort(port, exited);
      if (up) return handle(dir, port, users, child, exited);
      const log = await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '');
      // Another process may have taken the port between freePort() and dovecot's bind: try again.
      if (attempt < 3 && /in use/i.test(stderr + log)) continue;
      throw new Error(`dovecot did not start: ${stderr}${log}`.trim());
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function handle(dir: string, port: number, users: Record<string, string>, child: ChildProcess, exited: Promise<number | null>): Dovecot {
  return {
    host: '127.0.0.1',
    port,
    dir,
    users,
    async client(user = Object.keys(users)[0]!) {
      const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: users[user]! }, logger: false });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        // The master takes 1-3 s to exit; deleting its base_dir before that makes it complain.
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function config(dir: string, port: number, user: string, group: string, loginUser: string, oauth?: DovecotOAuth): string {
  // With OAuth2 on, passwords still work (the tests seed mailboxes with them) and tokens go to the introspection URL.
  const oauthPassdb = oauth
    ? `auth_mechanisms = plain login ${oauth.mechanisms.join(' ')}
passdb {
  driver = oauth2
  mechanisms = ${oauth.mechanisms.join(' ')}
  args = ${dir}/oauth2.conf.ext
}
`
    : '';
  return `${oauthPassdb}base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
default_internal_user = ${user}
default_internal_group = ${group}
default_login_user = ${loginUser}
first_valid_uid = 1
mail_location = maildir:${dir}/mail/%u
passdb {
  driver = passwd-file
  args = ${dir}/users
  ${oauth ? 'mechanisms = plain login' : ''}
}
userdb {
  driver = static
  args = uid=${user} gid=${group} home=${dir}/mail/%u
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
}
`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, exited: Promise<number | null>): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 15_000;
  while (!gone && Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return false;
}

/** Append raw messages to a folder (created if missing), with flags; returns their UIDs. */
export async function seedImap(dovecot: Dovecot, folder: string, messages: { raw: string | Buffer; flags?: string[] }[], user?: string): Promise<number[]> {
  const client = await dovecot.client(user);
  try {
    if (folder !== 'INBOX') await client.mailboxCreate(folder).catch(() => undefined);
    const uids: number[] = [];
    for (const message of messages) {
      const result = await client.append(folder, message.raw, message.flags ?? []);
      if (!result || result.uid === undefined) throw new Error(`append to ${folder} failed`);
      uids.push(result.uid);
    }
    return uids;
  } finally {
    await client.logout();
  }
}

/** Flags per UID, read in EXAMINE mode so the reading itself changes nothing. */
export async function imapFlags(dovecot: Dovecot, folder: string, user?: string): Promise<Map<number, string[]>> {
  const client = await dovecot.client(user);
  try {
    const lock = await client.getMailboxLock(folder, { readOnly: true });
    try {
      const out = new Map<number, string[]>();
      if (client.mailbox && client.mailbox.exists > 0) {
        // \Recent depends on which session saw a message first, not on anything bulletin does.
        for (const message of await client.fetchAll('1:*', { uid: true, flags: true })) out.set(message.uid, [...(message.flags ?? [])].filter((flag) => flag !== '\\Recent').sort());
      }
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}
