/**
 * A large recipients file parsed by csv-parse in a worker thread, beside the main thread's work.
 * validate starts it as soon as the file is read, so the file is parsed while MJML compiles and
 * then while the rows are checked, instead of before: csv-parse is most of a large validate's time.
 *
 * The worker parses the pieces cutRecipients made, in order, up to PARSED_AHEAD pieces past what
 * the main thread has taken, and hands each piece's records over when asked. So neither thread
 * ever holds more than a few pieces' records (a few MB), however long the file.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CsvError } from 'csv-parse/sync';
import { csvOptions, LINE_BREAKS, type CsvPieces, type CsvRecords } from '../core/recipients.js';

/** Smaller files are parsed in the main thread: a worker takes ~40 ms to start. */
export const WORKER_FROM_CHARS = 1_000_000;
/** Pieces (of ~32 KB: 1 MB of text in all) the worker parses before it is asked for them. */
const PARSED_AHEAD = 32;
/** Pieces the main thread asks for before it needs them. */
const ASKED_AHEAD = 2;
/**
 * Pieces handed to the worker and not yet read back. The worker gets its text a piece at a time
 * rather than the whole file at its start: a clone of the whole file there (as two-byte strings
 * if any row has a non-ASCII character: 26 MB for 100,000 rows) was most of its memory.
 */
const SENT_AHEAD = PARSED_AHEAD + ASKED_AHEAD + 2;

// CommonJS evaluated in the worker: `workerData.csvParse` is csv-parse/sync's resolved path, and
// `lineBreaks` is LINE_BREAKS (a RegExp survives the structured clone); `bytes`, CsvPieces' flag: the
// pieces are UTF-8 bytes, decoded here as pieceText (core/recipients.ts) does. Messages in: {piece,
// options} (in file order) and {ask: n}; out: one reply per piece, in order, when asked.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { parse } = require(workerData.csvParse);
const { ahead, lineBreaks, bytes } = workerData;
const pieces = [];
const parsed = [];
let asked = 0, scheduled = false, failed = false;
function parseOne({ piece, options }) {
  try {
    // pieceText in core/recipients.ts
    const text = bytes ? Buffer.from(piece, 'latin1').toString('utf8') : piece;
    return { records: parse(text.replace(lineBreaks.pattern, lineBreaks.replacement), options) };
  } catch (e) {
    failed = true; // nothing after an error is read
    return { failure: { code: e.code, message: e.message, lines: e.lines } };
  }
}
function send() {
  while (asked > 0 && parsed.length > 0) { asked--; parentPort.postMessage(parsed.shift()); }
}
function work() {
  scheduled = false;
  if (pieces.length > 0 && parsed.length < ahead) {
    const next = pieces.shift();
    if (!failed) parsed.push(parseOne(next));
    schedule();
  }
  send();
}
function schedule() { // one piece per turn, so that requests are answered in between
  if (!scheduled) { scheduled = true; setImmediate(work); }
}
parentPort.on('message', (m) => {
  if (m.ask) asked += m.ask;
  else pieces.push(m);
  send();
  schedule();
});
`;

interface Reply {
  records?: string[][];
  failure?: { code: string; message: string; lines?: number };
}

type CsvErrorArgs = ConstructorParameters<typeof CsvError>;

/**
 * Start parsing the pieces in a worker now; the records are read from the result, once.
 * `onRunning` is called once the worker's thread is running (see cli/heap.ts).
 */
export function parseInWorker({ pieces, bytes, ...layout }: CsvPieces, onRunning?: () => void): CsvRecords {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { csvParse: createRequire(import.meta.url).resolve('csv-parse/sync'), ahead: PARSED_AHEAD, lineBreaks: LINE_BREAKS, bytes: bytes ?? false },
    // csv-parse's garbage is short-lived: a small young generation holds it as well as the default
    // 32 MB, and that space adds to validate's peak beside MJML's worker and the main thread
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  if (onRunning) worker.once('online', onRunning);
  const replies = repliesOf(worker);
  let sent = 0;
  const sendUpTo = (count: number): void => {
    for (; sent < Math.min(count, pieces.length); sent++) worker.postMessage({ piece: pieces[sent], options: csvOptions(layout.delimiter, sent) });
  };
  sendUpTo(SENT_AHEAD);
  worker.unref(); // until its records are read: a command that stops early just exits (after repliesOf: adding listeners refs it)
  return { ...layout, pieces: receive(worker, replies, pieces.length, sendUpTo) };
}

async function* receive(worker: Worker, replies: () => Promise<Reply>, count: number, sendUpTo: (count: number) => void): AsyncGenerator<string[][]> {
  worker.ref();
  try {
    worker.postMessage({ ask: Math.min(count, ASKED_AHEAD) });
    for (let i = 0; i < count; i++) {
      const { records, failure } = await replies();
      if (failure) {
        const error = new CsvError(failure.code as CsvErrorArgs[0], failure.message, {} as CsvErrorArgs[2]);
        throw Object.assign(error, { lines: failure.lines });
      }
      sendUpTo(i + 1 + SENT_AHEAD);
      if (i + ASKED_AHEAD < count) worker.postMessage({ ask: 1 });
      yield records ?? [];
    }
  } finally {
    // Also when the reader stops early (a header without the email column).
    await worker.terminate();
  }
}

/** The worker's replies, one per call, in order; listening from its start, so no error goes unheard. */
function repliesOf(worker: Worker): () => Promise<Reply> {
  const queue: Reply[] = [];
  let waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  let failed: Error | undefined;
  worker.on('message', (reply: Reply) => {
    if (waiting) waiting.resolve(reply);
    else queue.push(reply);
    waiting = undefined;
  });
  const fail = (error: Error): void => {
    failed ??= error;
    waiting?.reject(failed);
    waiting = undefined;
  };
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the CSV worker stopped before the end of the file')));
  return () => {
    const reply = queue.shift();
    if (reply) return Promise.resolve(reply);
    if (failed) return Promise.reject(failed);
    return new Promise((resolve, reject) => (waiting = { resolve, reject }));
  };
}
