import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MailSourceError, describeSource, openMailSource, parseMail, parseSourceSpec, type MailSource, type SourceMessage, type SourceSpec } from '../../src/io/mail-source.js';
import { fastPassThroughActive } from '../../src/io/parse-mail.js';
import { findDovecot, freePort, imapFlags, seedImap, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { dsnMessage, messageWithAttachment, replyMessage, toMbox } from '../helpers/mail-samples.js';

/** The same five messages in every source: two bounces, two replies, one in a charset nobody knows. */
const unknownCharset = Buffer.concat([Buffer.from(replyMessage(5, { charset: 'x-klingon-9', subject: 'Charset test' })), Buffer.from([0xe9, 0x80, 0xff, 0x0d, 0x0a])]);
const corpus: Buffer[] = [Buffer.from(dsnMessage(1)), Buffer.from(replyMessage(2)), Buffer.from(dsnMessage(3)), Buffer.from(replyMessage(4)), unknownCharset];
const corpusIds = ['<dsn.1@mx.example.org>', '<reply.2@school2.example.com>', '<dsn.3@mx.example.org>', '<reply.4@school4.example.com>', '<reply.5@school5.example.com>'];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulletin-sources-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The MailSourceError a call fails with (the test fails if it succeeds or fails otherwise). */
async function failure(work: Promise<unknown>): Promise<MailSourceError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof MailSourceError) return err;
    throw err;
  }
  throw new Error('expected a MailSourceError');
}

async function readAll(source: MailSource): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const message of source.messages()) out.push(message);
  return out;
}

async function messageIds(messages: SourceMessage[]): Promise<string[]> {
  const ids: string[] = [];
  for (const message of messages) {
    const parsed = await parseMail(message.raw);
    if (!parsed.ok) throw new Error(parsed.problem);
    ids.push(parsed.email.messageId ?? '');
  }
  return ids;
}

async function writeEmlFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
  // Numeric order: 2 before 10.
  const names = ['1.eml', '2.eml', '10.eml', '11.eml', '12.EML'];
  for (const [i, name] of names.entries()) await writeFile(join(path, name), corpus[i]!);
  await writeFile(join(path, 'notes.txt'), 'not mail');
}

async function writeMaildir(path: string): Promise<void> {
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(path, sub), { recursive: true });
  for (const [i, raw] of corpus.entries()) {
    const base = `170000000${i}.M${i}P100.testhost`;
    // Some already seen by a mail program (cur/ with flags), some new.
    if (i % 2 === 0) await writeFile(join(path, 'new', base), raw);
    else await writeFile(join(path, 'cur', `${base}:2,${i === 1 ? 'F' : ''}`), raw);
  }
}

describe('sources on disk read the same messages', () => {
  it('a folder of .eml files: only .eml, numeric name order, file names as ids', async () => {
    await writeEmlFolder(join(dir, 'export'));
    const spec = await parseSourceSpec('export', dir);
    expect(spec).toEqual({ kind: 'eml-folder', path: join(dir, 'export') });
    const source = await openMailSource(spec, {});
    expect(await source.count()).toBe(5);
    const messages = await readAll(source);
    expect(messages.map((m) => m.source)).toEqual(['1.eml', '2.eml', '10.eml', '11.eml', '12.EML']);
    expect(await messageIds(messages)).toEqual(corpusIds);
    expect(source.problems).toEqual([]);
    await expect(source.moveTo(messages, 'Processed')).rejects.toThrow(/--move-to does not work with a folder of \.eml files/);
  });

  it('an mbox (mboxrd quoting undone): mbox:<n> ids', async () => {
    await writeFile(join(dir, 'inbox.mbox'), toMbox(corpus));
    const spec = await parseSourceSpec(join(dir, 'inbox.mbox'), '/elsewhere');
    expect(spec.kind).toBe('mbox');
    const source = await openMailSource(spec, {});
    const messages = await readAll(source);
    expect(messages.map((m) => m.source)).toEqual(['mbox:1', 'mbox:2', 'mbox:3', 'mbox:4', 'mbox:5']);
    expect(await messageIds(messages)).toEqual(corpusIds);
    expect(source.problems).toEqual([]);
    await expect(source.markSeen(messages)).rejects.toThrow(/--mark-seen does not work with an mbox file/);
  });

  it('a Maildir: new/ and cur/, ids without the :2,flags info', async () => {
    await writeMaildir(join(dir, 'Maildir'));
    const spec = await parseSourceSpec('Maildir', dir);
    expect(spec.kind).toBe('maildir');
    const source = await openMailSource(spec, {});
    const messages = await readAll(source);
    expect(messages.map((m) => m.source)).toEqual([0, 1, 2, 3, 4].map((i) => `170000000${i}.M${i}P100.testhost`));
    expect(await messageIds(messages)).toEqual(corpusIds);
    // Read-only unless opened for writing.
    await expect(source.markSeen(messages)).rejects.toThrow(MailSourceError);
  });

  it('a Maildir opened for writing: mark seen (new → cur with S), move only the given messages, refuse a missing folder', async () => {
    const maildir = join(dir, 'Maildir');
    await writeMaildir(maildir);
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(maildir, '.Processed', sub), { recursive: true });
    const source = await openMailSource({ kind: 'maildir', path: maildir }, { write: true });
    const messages = await readAll(source);
    await source.markSeen([messages[0]!, messages[1]!]);
    const cur = (await readdir(join(maildir, 'cur'))).sort();
    expect(cur).toContain('1700000000.M0P100.testhost:2,S');
    expect(cur).toContain('1700000001.M1P100.testhost:2,FS');
    expect(await readdir(join(maildir, 'new'))).toEqual(['1700000002.M2P100.testhost', '1700000004.M4P100.testhost']);

    const error = await failure(source.moveTo([messages[2]!], 'Archive'));
    expect(error.message).toMatch(/the folder "Archive" does not exist/);
    expect(error.hint).toMatch(/INBOX, Processed/);

    await source.moveTo([messages[0]!, messages[2]!], 'Processed');
    expect((await readdir(join(maildir, '.Processed', 'cur'))).sort()).toEqual(['1700000000.M0P100.testhost:2,S']);
    expect(await readdir(join(maildir, '.Processed', 'new'))).toEqual(['1700000002.M2P100.testhost']);
    const left = await readAll(await openMailSource({ kind: 'maildir', path: maildir }, {}));
    expect(left.map((m) => m.source)).toEqual(['1700000001.M1P100.testhost', '1700000003.M3P100.testhost', '1700000004.M4P100.testhost']);
  });
});

describe('parseSourceSpec', () => {
  it('reads IMAP addresses, with the usual ports and a user name that is an address', async () => {
    expect(await parseSourceSpec('imaps://comms%40example.org@mail.example.org/Bounces', dir)).toEqual({ kind: 'imap', secure: true, host: 'mail.example.org', port: 993, user: 'comms@example.org', folder: 'Bounces' });
    expect(await parseSourceSpec('imap://alice@127.0.0.1:1143', dir)).toEqual({ kind: 'imap', secure: false, host: '127.0.0.1', port: 1143, user: 'alice', folder: 'INBOX' });
    const spec = await parseSourceSpec('imaps://comms@example.org@mail.example.org/INBOX', dir);
    expect(spec).toMatchObject({ user: 'comms@example.org', host: 'mail.example.org' });
    expect(describeSource(spec)).toBe('imaps://comms%40example.org@mail.example.org/INBOX');
  });

  it('refuses a password in the address without repeating it', async () => {
    const error = await failure(parseSourceSpec('imaps://alice:Sekr3t-Pw@mail.example.org/INBOX', dir));
    expect(error).toBeInstanceOf(MailSourceError);
    expect(error.message).toBe('the IMAP address contains a password');
    expect(error.hint).toMatch(/BULLETIN_IMAP_PASSWORD/);
    expect(`${error.message} ${error.hint}`).not.toContain('Sekr3t');
  });

  it('says what is wrong with other sources', async () => {
    await expect(parseSourceSpec('pop3://alice@mail.example.org', dir)).rejects.toMatchObject({ hint: /not POP3/ });
    await expect(parseSourceSpec('nowhere', dir)).rejects.toThrow(`no such file or folder: ${join(dir, 'nowhere')}`);
    await writeFile(join(dir, 'one.eml'), corpus[1]!);
    await expect(parseSourceSpec('one.eml', dir)).rejects.toMatchObject({ hint: /give the folder that holds the \.eml files/ });
    await mkdir(join(dir, 'outlook'));
    await writeFile(join(dir, 'outlook', 'a.msg'), 'x');
    await expect(openMailSource(await parseSourceSpec('outlook', dir), {})).rejects.toThrow(/Outlook \.msg files/);
    await mkdir(join(dir, 'parent', 'Bounces'), { recursive: true });
    await writeFile(join(dir, 'parent', 'Bounces', 'a.eml'), corpus[0]!);
    await expect(openMailSource(await parseSourceSpec('parent', dir), {})).rejects.toThrow(/its subfolder Bounces has/);
  });

  it('reads an Apple Mail export (Name.mbox/ holding a file named mbox) as an mbox', async () => {
    await mkdir(join(dir, 'Bounces.mbox'));
    await writeFile(join(dir, 'Bounces.mbox', 'mbox'), toMbox(corpus.slice(0, 2)));
    expect(await parseSourceSpec('Bounces.mbox', dir)).toEqual({ kind: 'mbox', path: join(dir, 'Bounces.mbox', 'mbox') });
  });
});

describe('bad input: a clear line, what can be read is read', () => {
  it('garbage before the first From line is skipped and reported', async () => {
    await writeFile(join(dir, 'x.mbox'), Buffer.concat([Buffer.from('garbage left by a crashed program\nmore garbage\n'), toMbox(corpus.slice(0, 2))]));
    const source = await openMailSource(await parseSourceSpec('x.mbox', dir), {});
    const messages = await readAll(source);
    expect(await messageIds(messages)).toEqual(corpusIds.slice(0, 2));
    expect(source.problems).toEqual([`mbox file ${join(dir, 'x.mbox')}: 47 bytes before the first "From " line are not part of any message and were skipped`]);
  });

  it('a cut-off last message is read and reported by index', async () => {
    const whole = toMbox(corpus.slice(0, 3));
    await writeFile(join(dir, 'cut.mbox'), whole.subarray(0, whole.length - 700));
    const source = await openMailSource(await parseSourceSpec('cut.mbox', dir), {});
    const messages = await readAll(source);
    expect(messages).toHaveLength(3);
    expect(source.problems).toEqual([`mbox file ${join(dir, 'cut.mbox')}: message 3 (the last) may be cut off: the file ends in the middle of a line`]);
    const last = await parseMail(messages[2]!.raw);
    expect(last.ok && last.email.messageId).toBe('<dsn.3@mx.example.org>');
  });

  it('a file that is not an mbox is refused with a hint', async () => {
    await writeFile(join(dir, 'photo.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]));
    const error = await failure(parseSourceSpec('photo.jpg', dir));
    expect(error.message).toBe(`${join(dir, 'photo.jpg')} is not an mbox file (no line starts with "From " near its start)`);
    // Opened directly (the spec written by hand): nothing read, one problem line, no crash.
    const source = await openMailSource({ kind: 'mbox', path: join(dir, 'photo.jpg') } satisfies SourceSpec, {});
    expect(await readAll(source)).toEqual([]);
    expect(source.problems[0]).toMatch(/is not an mbox file; nothing was read/);
  });

  it('parseMail: an unknown charset still decodes; empty and header-less input are problems, not exceptions', async () => {
    const parsed = await parseMail(unknownCharset);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.email.subject).toBe('Charset test');
      expect(parsed.email.text).toContain('Thank you, we will share this');
    }
    expect(await parseMail(Buffer.alloc(0))).toEqual({ ok: false, problem: 'the message is empty' });
    expect(await parseMail(Buffer.from('\r\n\r\njust a body, no headers\r\n'))).toMatchObject({ ok: false });
  });

  it('parseMail: a DSN keeps its report parts, and the fast decoder is in use', async () => {
    const parsed = await parseMail(Buffer.from(dsnMessage(9)));
    expect(fastPassThroughActive).toBe(true);
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(parsed.email.attachments.map((a) => a.mimeType)).toEqual(['message/delivery-status', 'message/rfc822']);
    const returned = Buffer.from(parsed.email.attachments[1]!.content as ArrayBuffer).toString('utf8');
    expect(returned).toContain('Message-ID: <r20261201.9.bulletin@example.org>\n');
    expect(Buffer.from(parsed.email.attachments[0]!.content as ArrayBuffer).toString('utf8')).toContain('Status: 5.1.1\n');
  });

  it('a 40 MB attachment: read from a folder and parsed within bounded time and memory', async () => {
    await mkdir(join(dir, 'big'));
    await writeFile(join(dir, 'big', 'survey.eml'), messageWithAttachment(40 * 1024 * 1024));
    const source = await openMailSource(await parseSourceSpec('big', dir), {});
    const started = performance.now();
    const rssBefore = process.memoryUsage().rss;
    const [message] = await readAll(source);
    const parsed = await parseMail(message!.raw);
    const ms = performance.now() - started;
    const rssGrowth = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    console.log(`40 MB attachment (${(message!.raw.length / 1024 / 1024).toFixed(0)} MB raw): read + parsed in ${ms.toFixed(0)} ms, RSS +${rssGrowth.toFixed(0)} MB`);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.truncated).toBe(true);
      expect(parsed.email.messageId).toBe('<survey.7@school7.example.com>');
      expect(parsed.email.inReplyTo).toBe('<r20261201.7.bulletin@example.org>');
      expect(parsed.email.text).toContain('The survey is attached.');
    }
  });
});

const dovecotBinary = findDovecot();
if (!dovecotBinary) console.warn('Skipping the IMAP tests: dovecot is not installed (apt-get install dovecot-imapd).');

describe.skipIf(!dovecotBinary)('IMAP against a real Dovecot', () => {
  let dovecot: Dovecot;
  const password = 'alice-test-pw';
  beforeAll(async () => {
    dovecot = await startDovecot({ alice: password });
  });
  afterAll(async () => {
    await dovecot?.stop();
  });
  const spec = (folder: string): Extract<SourceSpec, { kind: 'imap' }> => ({ kind: 'imap', secure: false, host: '127.0.0.1', port: dovecot.port, user: 'alice', folder });

  it('read-only: the same messages, flags and UIDs untouched, and a move is refused', async () => {
    const folder = 'ReadOnly';
    const uids = await seedImap(dovecot, folder, corpus.map((raw, i) => ({ raw, flags: i === 1 ? ['\\Flagged'] : i === 3 ? ['\\Seen'] : [] })));
    const before = await imapFlags(dovecot, folder);
    expect(before.get(uids[1]!)).toEqual(['\\Flagged']);

    const source = await openMailSource(spec(folder), { password });
    try {
      expect(source.description).toBe(`imap://alice@127.0.0.1:${dovecot.port}/ReadOnly`);
      expect(await source.count()).toBe(5);
      const messages = await readAll(source);
      expect(messages.map((m) => m.uid)).toEqual(uids);
      expect(messages.map((m) => m.source)).toEqual(uids.map((uid) => `uid:${uid}`));
      expect(await messageIds(messages)).toEqual(corpusIds);
      await expect(source.moveTo(messages, 'INBOX')).rejects.toThrow(/needs the IMAP folder opened for writing/);
      await expect(source.markSeen(messages)).rejects.toThrow(/needs the IMAP folder opened for writing/);
    } finally {
      await source.close();
    }
    expect(await imapFlags(dovecot, folder)).toEqual(before);
  });

  it('write: marks only the given messages seen, and moves only the given UIDs', async () => {
    const folder = 'Writable';
    const uids = await seedImap(dovecot, folder, corpus.map((raw) => ({ raw })));
    await seedImap(dovecot, 'Processed', []);
    const source = await openMailSource(spec(folder), { password, write: true });
    try {
      const messages = await readAll(source);
      await source.markSeen([messages[0]!, messages[2]!]);
      const flags = await imapFlags(dovecot, folder);
      expect([...flags.values()]).toEqual([['\\Seen'], [], ['\\Seen'], [], []]);

      const error = await failure(source.moveTo([messages[1]!], 'Processed-typo'));
      expect(error.message).toBe('the IMAP folder "Processed-typo" does not exist on 127.0.0.1');
      expect(error.hint).toMatch(/folders there: .*Processed/);
      expect((await imapFlags(dovecot, folder)).size).toBe(5);

      await source.moveTo([messages[1]!, messages[3]!], 'Processed');
    } finally {
      await source.close();
    }
    expect([...(await imapFlags(dovecot, folder)).keys()]).toEqual([uids[0], uids[2], uids[4]]);
    const moved = await openMailSource(spec('Processed'), { password });
    try {
      expect(await messageIds(await readAll(moved))).toEqual([corpusIds[1], corpusIds[3]]);
    } finally {
      await moved.close();
    }
  });

  it('a wrong password: one clear line naming the user, a hint naming the variable, never the password', async () => {
    const error = await failure(openMailSource(spec('INBOX'), { password: 'Wrong-Pw-123' }));
    expect(error).toBeInstanceOf(MailSourceError);
    expect(error.message).toBe('the IMAP server refused the login for alice@127.0.0.1');
    expect(error.hint).toMatch(/BULLETIN_IMAP_PASSWORD/);
    expect(`${error.message} ${error.hint}`).not.toMatch(/Wrong-Pw|alice-test-pw/);
    await expect(openMailSource(spec('INBOX'), {})).rejects.toThrow('no IMAP password for alice@127.0.0.1');
  });

  it('a missing folder names it and lists the folders that exist', async () => {
    await seedImap(dovecot, 'Bounces', [{ raw: corpus[0]! }]);
    const error = await failure(openMailSource(spec('Bounce'), { password }));
    expect(error.message).toBe('the IMAP folder "Bounce" does not exist on 127.0.0.1');
    expect(error.hint).toMatch(/^folders there: .*\bINBOX\b/);
    expect(error.hint).toMatch(/\bBounces\b/);
  });

  it('an empty folder reads as no messages', async () => {
    const source = await openMailSource(spec('INBOX'), { password });
    try {
      expect(await source.count()).toBe(0);
      expect(await readAll(source)).toEqual([]);
    } finally {
      await source.close();
    }
  });

  it('connection refused and TLS spoken to a plain port give clear lines', async () => {
    const closed = await freePort();
    await expect(openMailSource({ ...spec('INBOX'), port: closed }, { password })).rejects.toThrow(`could not connect to the IMAP server 127.0.0.1:${closed}: connection refused`);
    const error = await failure(openMailSource({ ...spec('INBOX'), secure: true }, { password, timeoutMs: 5000 }));
    expect(error).toBeInstanceOf(MailSourceError);
    expect(error.message).toMatch(new RegExp(`^could not set up TLS with the IMAP server 127\\.0\\.0\\.1:${dovecot.port}`));
  });
});
