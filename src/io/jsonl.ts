import { open, readFile, type FileHandle } from 'node:fs/promises';

/**
 * Read a JSON-lines file. A crash can leave a torn last line: it is skipped and counted,
 * never fatal. A missing file is empty.
 */
export async function readJsonLines<T>(file: string): Promise<{ records: T[]; torn: number }> {
  const text = await readTextIfExists(file);
  const records: T[] = [];
  let torn = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as T);
    } catch {
      torn++;
    }
  }
  return { records, torn };
}

/** A file's text, or '' when it does not exist (yet): a log nobody has written to is empty. */
export async function readTextIfExists(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** A file's lines one at a time, or none when it does not exist (yet), like readTextIfExists. */
export async function* readLinesIfExists(file: string): AsyncGenerator<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    yield* handle.readLines();
  } finally {
    await handle.close();
  }
}

/** Append one record and fsync before returning: on disk before anything acts on it. */
export async function appendJsonLine(file: string, record: unknown): Promise<void> {
  const handle = await open(file, 'a');
  try {
    await handle.write(`${JSON.stringify(record)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
