/**
 * One message in, postal-mime's parsed Email out, without ever throwing and within bounded
 * time and memory, whatever arrives in a sender's mailbox.
 */
import PostalMime, { type Email } from 'postal-mime';
import { INBOX_PARSE_OPTIONS } from '../core/inbox-classify.js';

export type ParsedMail = { ok: true; email: Email; truncated: boolean } | { ok: false; problem: string };

/**
 * What is parsed of a message. Everything classification needs (the headers, the human text,
 * a DSN's delivery-status part and the returned message's headers) comes first in real mail,
 * so a 40 MB attachment is cut, not decoded: parsing the whole of one took seconds and several
 * times its size in memory. The raw message stays whole for export.
 */
export const PARSE_LIMIT_BYTES = 1024 * 1024;

/**
 * Parse one message. Corrupt or odd input gives `{ ok: false, problem }`; an unknown charset
 * decodes as windows-1252 (postal-mime's fallback). `truncated` says the message was longer
 * than PARSE_LIMIT_BYTES and only its start was parsed.
 */
export async function parseMail(raw: Buffer): Promise<ParsedMail> {
  installFastPassThrough();
  if (raw.length === 0 || raw.subarray(0, 4096).toString('latin1').trim() === '') return { ok: false, problem: 'the message is empty' };
  const truncated = raw.length > PARSE_LIMIT_BYTES;
  let input = raw;
  if (truncated) {
    // Cut at a line end, so the last header or boundary line parsed is a whole one.
    const cut = raw.lastIndexOf(0x0a, PARSE_LIMIT_BYTES - 1);
    input = raw.subarray(0, cut > 0 ? cut + 1 : PARSE_LIMIT_BYTES);
  }
  let email: Email;
  try {
    email = await PostalMime.parse(input, INBOX_PARSE_OPTIONS);
  } catch (err) {
    return { ok: false, problem: `the message could not be parsed: ${(err as Error).message}` };
  }
  if (email.headers.length === 0) return { ok: false, problem: 'no mail headers found at the start (not an e-mail message?)' };
  return { ok: true, email, truncated };
}

/** Whether postal-mime's 7bit/8bit/binary decoder was replaced by the linear one below. */
export let fastPassThroughActive = false;
let installed = false;

interface ChunkedDecoder {
  chunks: (Uint8Array | string)[];
  finalize(): Promise<ArrayBuffer>;
}

/**
 * postal-mime 4.0 collects every line of a 7bit/8bit part (a DSN's returned message and its
 * delivery-status part) as two Blob parts, and Node 20's Blob is quadratic in the number of
 * parts: 1,000 lines take 50 ms, so an 18 KB DSN parsed at about 400/s with 90% of the time in
 * Blob. Joining the chunks directly gives the same bytes, linearly (about 6,000 DSN/s).
 * The decoder class is not exported, so it is found through a parser's root node; if
 * postal-mime's internals change, nothing is replaced and parsing is only slower.
 */
function installFastPassThrough(): void {
  if (installed) return;
  installed = true;
  const probe = new PostalMime() as unknown as { root?: { setupContentDecoder?: (encoding: string) => void; contentDecoder?: unknown } };
  const root = probe.root;
  if (typeof root?.setupContentDecoder !== 'function') return;
  root.setupContentDecoder('7bit');
  const decoder = root.contentDecoder as Partial<ChunkedDecoder> | null | undefined;
  if (!decoder || !Array.isArray(decoder.chunks) || typeof decoder.finalize !== 'function') return;
  const prototype = Object.getPrototypeOf(decoder) as ChunkedDecoder;
  const encoder = new TextEncoder();
  prototype.finalize = function (this: ChunkedDecoder): Promise<ArrayBuffer> {
    const parts = this.chunks.map((part) => (typeof part === 'string' ? (part === '\n' ? NEWLINE : encoder.encode(part)) : part));
    let size = 0;
    for (const part of parts) size += part.length;
    const joined = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return Promise.resolve(joined.buffer);
  };
  fastPassThroughActive = true;
}

const NEWLINE = new Uint8Array([0x0a]);
