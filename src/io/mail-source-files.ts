/** Mail sources on disk: a folder of .eml files, an mbox file (split by mbox-reader), a Maildir. */
import { createReadStream } from 'node:fs';
import { open, readFile, readdir, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { mboxReader } from 'mbox-reader';
import { MailSourceError } from './mail-source-error.js';
import type { MailSource, SourceMessage } from './mail-source.js';

/** Messages bigger than this are skipped with a problem line (Microsoft 365's own maximum is 150 MB). */
export const MAX_MESSAGE_BYTES = 160 * 1024 * 1024;
/** Files read ahead of the consumer, so disk waits overlap parsing. */
const READ_AHEAD = 8;

const byName = new Intl.Collator('en', { numeric: true }).compare;
/** Numeric-aware (2.eml before 10.eml), then by code points so the order never depends on locale ties. */
function compareNames(a: string, b: string): number {
  return byName(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

// ---------------------------------------------------------------- folder of .eml files

export async function openEmlFolderSource(path: string, description: string): Promise<MailSource> {
  const entries = await readdir(path, { withFileTypes: true }).catch((err: Error) => {
    throw new MailSourceError(`cannot read the folder ${path}: ${err.message}`);
  });
  const names = entries.filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && /\.eml$/i.test(entry.name)).map((entry) => entry.name);
  names.sort(compareNames);
  const problems: string[] = [];
  if (names.length === 0) await explainEmptyFolder(path, entries.map((entry) => entry.name), entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name));
  return {
    description,
    problems,
    count: () => Promise.resolve(names.length),
    messages: () => readFilesInOrder(names.map((name) => ({ source: name, file: join(path, name) })), description, problems),
    markSeen: () => Promise.reject(unsupported('a folder of .eml files', '--mark-seen')),
    moveTo: () => Promise.reject(unsupported('a folder of .eml files', '--move-to')),
    close: () => Promise.resolve(),
  };
}

/** A folder with no .eml files is most often the wrong folder, or an export in another format: say which. */
async function explainEmptyFolder(path: string, names: string[], folders: string[]): Promise<void> {
  if (names.some((name) => /\.msg$/i.test(name))) {
    throw new MailSourceError(`${path} holds Outlook .msg files, which bulletin cannot read`, 'save the messages as .eml (or drag them from Outlook into a folder in a mail program that exports .eml), or point bulletin at the mailbox over IMAP');
  }
  for (const folder of folders.sort(compareNames)) {
    const inside = await readdir(join(path, folder)).catch(() => [] as string[]);
    if (inside.some((name) => /\.eml$/i.test(name))) {
      throw new MailSourceError(`${path} has no .eml files, but its subfolder ${folder} has`, `bulletin reads only the folder it is given, not subfolders: give ${join(path, folder)}`);
    }
  }
}

/** Marking or moving in an export would change a copy, not the mailbox: refuse, saying what works. */
function unsupported(kind: string, what: string): MailSourceError {
  return new MailSourceError(`${what} does not work with ${kind}: it is a copy of the mail, not the mailbox`, `use ${what} with the mailbox itself (imaps://user@host/INBOX or a Maildir)`);
}

interface FileToRead {
  source: string;
  file: string;
  /** Where else to look if the file has gone (Maildir: another process moved new/ → cur/). */
  relocate?: () => Promise<string | undefined>;
}

/** Read files in the given order, a few ahead; a file that cannot be read becomes a problem line. */
async function* readFilesInOrder(files: FileToRead[], description: string, problems: string[]): AsyncGenerator<SourceMessage> {
  const pending: Promise<SourceMessage | undefined>[] = [];
  let next = 0;
  const read = async (item: FileToRead): Promise<SourceMessage | undefined> => {
    try {
      return { source: item.source, raw: await readMessageFile(item.file) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && item.relocate) {
        const moved = await item.relocate();
        if (moved !== undefined) return read({ source: item.source, file: moved });
      }
      problems.push(`${description}: ${item.source}: ${code === 'ENOENT' ? 'removed while reading, skipped' : `skipped: ${(err as Error).message}`}`);
      return undefined;
    }
  };
  while (next < files.length || pending.length > 0) {
    while (pending.length < READ_AHEAD && next < files.length) pending.push(read(files[next++]!));
    const message = await pending.shift()!;
    if (message) yield message;
  }
}

async function readMessageFile(file: string): Promise<Buffer> {
  const size = (await stat(file)).size;
  if (size > MAX_MESSAGE_BYTES) throw new Error(`it is ${Math.round(size / 1024 / 1024)} MB, more than the ${MAX_MESSAGE_BYTES / 1024 / 1024} MB any mail server delivers`);
  return readFile(file);
}

// ---------------------------------------------------------------- mbox

export async function openMboxSource(path: string, description: string): Promise<MailSource> {
  const problems: string[] = [];
  const { size, lastByte, skipped } = await inspectMbox(path);
  return {
    description,
    problems,
    count: () => Promise.resolve(undefined),
    messages: () => readMbox(path, description, problems, { size, lastByte, skipped }),
    markSeen: () => Promise.reject(unsupported('an mbox file', '--mark-seen')),
    moveTo: () => Promise.reject(unsupported('an mbox file', '--move-to')),
    close: () => Promise.resolve(),
  };
}

/** The start and end of the file, to report what mbox-reader silently drops or cannot know. */
async function inspectMbox(path: string): Promise<{ size: number; lastByte: number | undefined; skipped: number | undefined }> {
  const handle = await open(path, 'r').catch((err: Error) => {
    throw new MailSourceError(`cannot open the mbox file ${path}: ${err.message}`);
  });
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, 64 * 1024));
    await handle.read(head, 0, head.length, 0);
    const text = head.toString('latin1');
    const first = text.startsWith('From ') ? 0 : text.indexOf('\nFrom ');
    const last = Buffer.alloc(1);
    const { bytesRead } = size > 0 ? await handle.read(last, 0, 1, size - 1) : { bytesRead: 0 };
    return { size, lastByte: bytesRead === 1 ? last[0] : undefined, skipped: first === -1 ? undefined : first === 0 ? 0 : first + 1 };
  } finally {
    await handle.close();
  }
}

async function* readMbox(path: string, description: string, problems: string[], shape: { size: number; lastByte: number | undefined; skipped: number | undefined }): AsyncGenerator<SourceMessage> {
  if (shape.skipped === undefined && shape.size > 0) {
    problems.push(`${description}: no line starts with "From " in its first 64 KB, so it is not an mbox file; nothing was read`);
    return;
  }
  if (shape.skipped) problems.push(`${description}: ${shape.skipped} bytes before the first "From " line are not part of any message and were skipped`);
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  let index = 0;
  try {
    for await (const message of mboxReader(stream)) {
      index++;
      if (message.content.length > MAX_MESSAGE_BYTES) {
        problems.push(`${description}: message ${index} skipped: it is ${Math.round(message.content.length / 1024 / 1024)} MB, more than any mail server delivers`);
        continue;
      }
      if (message.content.length === 0) {
        problems.push(`${description}: message ${index} is empty (a "From " line with nothing after it), skipped`);
        continue;
      }
      yield { source: `mbox:${index}`, raw: message.content };
    }
  } catch (err) {
    throw new MailSourceError(`could not read the ${description} after message ${index}: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
  if (index > 0 && shape.lastByte !== 0x0a) {
    problems.push(`${description}: message ${index} (the last) may be cut off: the file ends in the middle of a line`);
  }
}

// ---------------------------------------------------------------- Maildir

interface MaildirEntry {
  source: string;
  sub: 'cur' | 'new';
  name: string;
}

export async function openMaildirSource(path: string, description: string, write: boolean): Promise<MailSource> {
  const problems: string[] = [];
  const entries = await listMaildir(path);
  const located = new Map(entries.map((entry) => [entry.source, entry]));
  // A Maildir++ subfolder (.Bounces) lives inside the root Maildir; siblings are found from there.
  const root = basename(path).startsWith('.') && (await isMaildir(dirname(path))) ? dirname(path) : path;

  const relocate = async (entry: MaildirEntry): Promise<MaildirEntry | undefined> => {
    const fresh = (await listMaildir(path)).find((candidate) => candidate.source === entry.source);
    if (fresh) located.set(entry.source, fresh);
    return fresh;
  };
  const requireWrite = (what: string): void => {
    if (!write) throw new MailSourceError(`${what} needs the Maildir opened for writing`, 'this is a bug in bulletin: open the source with write: true');
  };
  /** Apply `change` to each message's file, finding files another program has renamed since. */
  const eachFile = async (messages: SourceMessage[], change: (entry: MaildirEntry) => Promise<MaildirEntry>): Promise<void> => {
    for (const message of messages) {
      let entry = located.get(message.source);
      if (!entry) throw new MailSourceError(`${description}: ${message.source} is not a message of this Maildir`);
      try {
        located.set(message.source, await change(entry));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        entry = await relocate(entry);
        if (!entry) {
          problems.push(`${description}: ${message.source} was removed by another program, left alone`);
          continue;
        }
        located.set(message.source, await change(entry));
      }
    }
  };

  return {
    description,
    problems,
    count: () => Promise.resolve(entries.length),
    messages: () =>
      readFilesInOrder(
        entries.map((entry) => ({
          source: entry.source,
          file: join(path, entry.sub, entry.name),
          relocate: async () => {
            const fresh = await relocate(entry);
            return fresh && join(path, fresh.sub, fresh.name);
          },
        })),
        description,
        problems,
      ),
    async markSeen(messages) {
      requireWrite('--mark-seen');
      await eachFile(messages, async (entry) => {
        const name = withFlag(entry.name, 'S');
        if (entry.sub === 'cur' && name === entry.name) return entry;
        await rename(join(path, entry.sub, entry.name), join(path, 'cur', name));
        return { source: entry.source, sub: 'cur', name };
      });
    },
    async moveTo(messages, folder) {
      requireWrite('--move-to');
      const destination = await maildirFolder(root, folder, description);
      if (destination === path) throw new MailSourceError(`the messages are already in ${folder}`, 'name another folder for --move-to');
      await eachFile(messages, async (entry) => {
        await rename(join(path, entry.sub, entry.name), join(destination, entry.sub, entry.name));
        return entry;
      });
      // Moved messages are no longer here; a later call must not find them.
      for (const message of messages) located.delete(message.source);
    },
    close: () => Promise.resolve(),
  };
}

async function listMaildir(path: string): Promise<MaildirEntry[]> {
  const entries: MaildirEntry[] = [];
  for (const sub of ['new', 'cur'] as const) {
    const names = await readdir(join(path, sub)).catch((err: Error) => {
      throw new MailSourceError(`cannot read the Maildir ${path}: ${err.message}`);
    });
    for (const name of names) {
      if (name.startsWith('.')) continue;
      entries.push({ source: uniqueName(name), sub, name });
    }
  }
  return entries.sort((a, b) => compareNames(a.source, b.source));
}

/** The Maildir unique name: the file name without the ":2,FLAGS" info. */
function uniqueName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(0, colon);
}

/** The name with this flag added to its ":2," info (flags kept in ASCII order, as the spec asks). */
function withFlag(name: string, flag: string): string {
  const match = /^(.*?):2,([A-Za-z]*)$/.exec(name);
  const base = match?.[1] ?? uniqueName(name);
  const flags = new Set((match?.[2] ?? '').split(''));
  flags.add(flag);
  return `${base}:2,${[...flags].filter(Boolean).sort().join('')}`;
}

/** The Maildir++ folder for a name: INBOX is the root, "Archive/Bounces" is .Archive.Bounces. It must exist. */
async function maildirFolder(root: string, folder: string, description: string): Promise<string> {
  const trimmed = folder.trim().replace(/^\.+/, '');
  const path = /^inbox$/i.test(trimmed) ? root : join(root, `.${trimmed.replace(/\//g, '.')}`);
  if (trimmed !== '' && (await isMaildir(path))) return path;
  const names = await readdir(root).catch(() => [] as string[]);
  const existing = ['INBOX'];
  for (const name of names.sort(compareNames)) if (name.startsWith('.') && name.length > 1 && (await isMaildir(join(root, name)))) existing.push(name.slice(1));
  throw new MailSourceError(`the folder "${folder}" does not exist in the ${description}`, `folders there: ${existing.join(', ')}; create it in your mail program first, or name one of these`);
}

async function isMaildir(path: string): Promise<boolean> {
  try {
    const [cur, fresh] = await Promise.all([stat(join(path, 'cur')), stat(join(path, 'new'))]);
    if (!cur.isDirectory() || !fresh.isDirectory()) return false;
    return true;
  } catch {
    return false;
  }
}
