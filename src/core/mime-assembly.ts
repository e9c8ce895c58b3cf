/**
 * The bytes of a compiled MailComposer tree, written synchronously: the same bytes as
 * nodemailer's own `build()`, without its streams.
 *
 * `MimeNode.build()` sends every node through a chain of streams (a PassThrough per content,
 * an encoder, a pipeline with its AbortController, a LastNewline transform), ~6 per message.
 * For content that is already in memory, that machinery was most of a message's assembly
 * cost and much of its garbage. Here each node is written as `MimeNode.stream()` writes it —
 * its header block from its own `buildHeaders()`, its content through nodemailer's own
 * quoted-printable or base64 encoder (or, for a text part, `encodeTextQp`, which writes the same
 * bytes faster), called directly with the whole content as the one chunk
 * that its PassThrough would have handed over, then its children between the same boundary
 * lines — and the result ends with a line break as LastNewline ensures. Anything else (content
 * from a stream, a file or a URL, raw nodes, transforms) is not handled: `assembleMessage`
 * returns undefined, and the caller builds that message the usual way.
 *
 * An attachment is the same Buffer in every message of a campaign, so its encoded form is
 * kept per Buffer (a WeakMap: it goes when the campaign does) and encoded once.
 */
import type { Transform } from 'node:stream';
import type MimeNode from 'nodemailer/lib/mime-node';
import { encodeTextQp } from './quoted-printable.js';

/** nodemailer's encoder classes (nodemailer/lib/qp, nodemailer/lib/base64), passed in so that nodemailer loads only when a message is built. */
export interface MimeEncoders {
  QpEncoder: new (options?: { binary?: boolean }) => Transform;
  Base64Encoder: new (options?: object) => Transform;
}

/** The MimeNode fields `stream()` reads that its type does not declare. */
interface NodeInternals {
  _raw?: unknown;
  _transforms?: unknown[];
  _processFuncs?: unknown[];
  newline?: unknown;
}

const encodedOnce = new WeakMap<Buffer, Map<string, Buffer>>();

/** The message's bytes, or undefined when the tree has something only nodemailer's streams can write. */
export function assembleMessage(root: MimeNode, encoders: MimeEncoders): Buffer | undefined {
  const internals = root as unknown as NodeInternals;
  if (internals._transforms?.length || internals._processFuncs?.length || internals.newline) return undefined;
  const parts: Buffer[] = [];
  try {
    writeNode(root, parts, encoders);
  } catch (error) {
    if (error instanceof Unhandled) return undefined;
    throw error;
  }
  const message = Buffer.concat(parts);
  // LastNewline: the message ends with a line break
  const last = message.length > 0 ? message[message.length - 1] : undefined;
  if (last === 0x0a) return message;
  return Buffer.concat([message, Buffer.from(last === 0x0d ? '\n' : '\r\n', 'latin1')]);
}

/** Writes one node as `MimeNode.stream()` does; throws Unhandled for what only its streams can write. */
function writeNode(node: MimeNode, parts: Buffer[], encoders: MimeEncoders): void {
  if ((node as unknown as NodeInternals)._raw) throw new Unhandled();
  const transferEncoding = node.getTransferEncoding();
  parts.push(Buffer.from(node.buildHeaders() + '\r\n\r\n', 'latin1'));
  const content: unknown = node.content;
  if (content) {
    if (typeof content === 'string') {
      // a string gets a fresh Buffer every time, so it is not worth keeping
      parts.push(encodeContent(Buffer.from(content, 'utf8'), transferEncoding, isText(node), encoders));
    } else if (Buffer.isBuffer(content)) {
      parts.push(encodeShared(content, transferEncoding, isText(node), encoders));
    } else {
      throw new Unhandled();
    }
  }
  if (node.multipart) {
    node.childNodes.forEach((child, i) => {
      parts.push(Buffer.from(`${i > 0 ? '\r\n' : ''}--${String(node.boundary)}\r\n`, 'latin1'));
      writeNode(child, parts, encoders);
    });
    parts.push(Buffer.from(`\r\n--${String(node.boundary)}--\r\n`, 'latin1'));
  }
}

/** A node that only nodemailer's streams can write. */
class Unhandled extends Error {}

function isText(node: MimeNode): boolean {
  return /^text\//i.test(node.contentType ?? '');
}

function encodeShared(content: Buffer, transferEncoding: string | false, text: boolean, encoders: MimeEncoders): Buffer {
  let byEncoding = encodedOnce.get(content);
  if (!byEncoding) {
    byEncoding = new Map();
    encodedOnce.set(content, byEncoding);
  }
  const key = `${transferEncoding}\0${text}`;
  let encoded = byEncoding.get(key);
  if (!encoded) {
    encoded = encodeContent(content, transferEncoding, text, encoders);
    byEncoding.set(key, encoded);
  }
  return encoded;
}

/** As `MimeNode.stream()` encodes a content: QP and base64 through nodemailer's encoders, anything else as is. */
function encodeContent(content: Buffer, transferEncoding: string | false, text: boolean, encoders: MimeEncoders): Buffer {
  if (transferEncoding !== 'quoted-printable' && transferEncoding !== 'base64') return content;
  if (transferEncoding === 'quoted-printable' && text) {
    const encoded = encodeTextQp(content);
    if (encoded) return encoded;
  }
  // outside of text a lone CR or LF is data (nodemailer's reason for `binary`)
  const encoder = transferEncoding === 'base64' ? new encoders.Base64Encoder({}) : new encoders.QpEncoder({ binary: !text });
  return runEncoder(encoder, content);
}

/**
 * A Transform's own `_transform` and `_flush`, called directly with the whole content as one
 * chunk (as the PassThrough in front of it delivers a string or Buffer content), collecting
 * what it pushes. Both encoders finish synchronously.
 */
function runEncoder(encoder: Transform, content: Buffer): Buffer {
  const out: Buffer[] = [];
  let done = false;
  encoder.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (Buffer.isBuffer(chunk)) out.push(chunk);
    else if (typeof chunk === 'string') out.push(Buffer.from(chunk, encoding ?? 'utf8'));
    return true;
  };
  // what a piped Buffer chunk arrives as (the encoding argument of a Buffer write)
  encoder._transform(content, 'buffer' as BufferEncoding, (error) => {
    if (error) throw error;
  });
  encoder._flush((error) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error('a MIME encoder did not finish synchronously');
  return Buffer.concat(out);
}
