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
import type { MimeNodeHeaderValue } from 'nodemailer/lib/mime-node';
import type { MailComposerOptions } from 'nodemailer/lib/mail-composer';
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
  return withLastNewline(Buffer.concat(parts));
}

/** LastNewline: the message ends with a line break. */
function withLastNewline(message: Buffer): Buffer {
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

/** The nodemailer pieces a skeleton needs, passed in for the same reason as MimeEncoders. */
export interface SkeletonClasses {
  MailComposer: new (options: MailComposerOptions) => { compile(): MimeNode };
  MimeNode: new (contentType: string, options: object) => MimeNode;
  isPlainText: (value: string) => boolean;
  hasLongerLines: (value: string, lineLength: number) => boolean;
  encoders: MimeEncoders;
}

/** What goes between the static pieces of a skeleton: a content of the message, encoded as its node says. */
type Slot = { kind: 'text' | 'html'; transferEncoding: string | false } | { kind: 'attachment'; index: number; transferEncoding: string | false };

/**
 * Everything of a message below its root header block, for one shape of message: the child
 * nodes' header blocks and the boundary lines as text (split where the boundary's random token
 * goes), and slots for the contents.
 */
interface Skeleton {
  rootType: string;
  /** statics[i] comes before slots[i]; statics has one more entry than slots. Each static is split at the token. */
  statics: string[][];
  slots: Slot[];
}

/** The options keys bulletin's messages use; a message with any other is built the usual way. */
const KNOWN = new Set(['from', 'to', 'replyTo', 'subject', 'date', 'messageId', 'text', 'html', 'headers', 'attachments', 'textEncoding', 'disableFileAccess', 'disableUrlAccess', 'xMailer', 'baseBoundary']);
/** The root headers MailComposer's compile() sets, in its order (after the custom headers). */
const ROOT_HEADERS: [string, keyof MailComposerOptions][] = [
  ['from', 'from'],
  ['to', 'to'],
  ['reply-to', 'replyTo'],
  ['subject', 'subject'],
  ['message-id', 'messageId'],
  ['date', 'date'],
];
const TOKEN = /^[0-9a-f]{16}$/;

/**
 * Builds messages from a skeleton per shape of message instead of a MailComposer tree each.
 *
 * Only the root header block differs from message to message beyond the contents: its
 * headers are set on a root MimeNode of its own, in the order compile() sets them, and written
 * by that node's `buildHeaders()`, so nodemailer still encodes and folds every header. Below the
 * root, what MailComposer decides (the tree, each child's Content-Type, charset and transfer
 * encoding) depends only on the shape: which attachments, and for the text and the HTML whether
 * they are empty, plain (7bit, unless a line is over 76) or not, and non-ASCII. The first message
 * of each shape is built by MailComposer (compile(), then `assembleMessage`), the skeleton is
 * taken from its tree, and the skeleton's bytes for that message must equal MailComposer's, or
 * that shape is always built by MailComposer. A campaign has a handful of shapes.
 */
export class MessageSkeletons {
  private readonly shapes = new Map<string, Skeleton | null>();
  private readonly bufferIds = new WeakMap<Buffer, number>();
  private nextBufferId = 1;

  constructor(private readonly classes: SkeletonClasses) {}

  /** The message's bytes, or undefined when it must be built by MailComposer's own streams. */
  build(options: MailComposerOptions): Buffer | undefined {
    const key = this.shapeOf(options);
    if (key === undefined) return this.reference(options);
    const known = this.shapes.get(key);
    if (known) return this.fromSkeleton(known, options);
    if (known === null) return this.reference(options);
    const root = new this.classes.MailComposer(options).compile();
    const rootType = root.getHeader('Content-Type');
    const reference = assembleMessage(root, this.classes.encoders);
    if (!reference) return undefined;
    const skeleton = typeof rootType === 'string' ? skeletonOf(root, rootType, options) : undefined;
    // a campaign has a few shapes; a long-lived process (preview --watch) sees many campaigns
    if (this.shapes.size >= 64) this.shapes.clear();
    const ok = skeleton !== undefined && this.fromSkeleton(skeleton, options).equals(reference);
    this.shapes.set(key, ok ? skeleton : null);
    return reference;
  }

  private reference(options: MailComposerOptions): Buffer | undefined {
    return assembleMessage(new this.classes.MailComposer(options).compile(), this.classes.encoders);
  }

  /** What decides the tree below the root, or undefined for a message outside what a skeleton covers. */
  private shapeOf(options: MailComposerOptions): string | undefined {
    for (const k in options) if (!KNOWN.has(k)) return undefined;
    const { text, html, attachments = [] } = options;
    if (typeof text !== 'string' || typeof html !== 'string' || typeof options.baseBoundary !== 'string' || !TOKEN.test(options.baseBoundary)) return undefined;
    // without a textEncoding, MimeNode picks Q or B from each text's characters: not covered by the shape
    if (typeof options.textEncoding !== 'string') return undefined;
    const parts = [this.textShape(text), this.textShape(html), options.textEncoding];
    for (const a of attachments) {
      if (!Buffer.isBuffer(a.content) || typeof a.filename !== 'string' || Object.keys(a).length !== 2) return undefined;
      let id = this.bufferIds.get(a.content);
      if (id === undefined) {
        id = this.nextBufferId++;
        this.bufferIds.set(a.content, id);
      }
      parts.push(`${id}:${a.filename}`);
    }
    return parts.join('\0');
  }

  /** The facts about a text that MimeNode's setContent, getTransferEncoding and buildHeaders act on. */
  private textShape(value: string): string {
    if (value === '') return 'none';
    const plain = this.classes.isPlainText(value);
    return `${plain ? (this.classes.hasLongerLines(value, 76) ? 'long' : 'plain') : 'qp'}${/[\u0080-\uFFFF]/.test(value) ? 'u' : 'a'}`;
  }

  private fromSkeleton(skeleton: Skeleton, options: MailComposerOptions): Buffer {
    const token = options.baseBoundary!;
    const root = new this.classes.MimeNode(skeleton.rootType, {
      baseBoundary: token,
      textEncoding: options.textEncoding,
      disableUrlAccess: options.disableUrlAccess,
      disableFileAccess: options.disableFileAccess,
    });
    if (options.headers) root.addHeader(options.headers);
    for (const [header, field] of ROOT_HEADERS) {
      const value = options[field];
      // the same values compile() passes to setHeader (an address object, a Date or a string)
      if (value) root.setHeader(header, value as MimeNodeHeaderValue);
    }
    root.messageId();
    const parts: Buffer[] = [Buffer.from(root.buildHeaders() + '\r\n\r\n', 'latin1')];
    const { encoders } = this.classes;
    skeleton.slots.forEach((slot, i) => {
      parts.push(Buffer.from(skeleton.statics[i]!.join(token), 'latin1'));
      if (slot.kind === 'attachment') parts.push(encodeShared(options.attachments![slot.index]!.content as Buffer, slot.transferEncoding, false, encoders));
      else parts.push(encodeContent(Buffer.from(options[slot.kind] as string, 'utf8'), slot.transferEncoding, true, encoders));
    });
    parts.push(Buffer.from(skeleton.statics.at(-1)!.join(token), 'latin1'));
    return withLastNewline(Buffer.concat(parts));
  }
}

/** The skeleton of a compiled tree whose root header block has been written, or undefined if it has a part a skeleton cannot hold. */
function skeletonOf(root: MimeNode, rootType: string, options: MailComposerOptions): Skeleton | undefined {
  if (!root.multipart || root.content) return undefined;
  const token = options.baseBoundary!;
  const statics: string[] = [];
  const slots: Slot[] = [];
  let current = '';
  const walkChildren = (node: MimeNode): boolean => {
    for (const [i, child] of node.childNodes.entries()) {
      current += `${i > 0 ? '\r\n' : ''}--${String(node.boundary)}\r\n`;
      // buildHeaders() has run on every node (assembleMessage): calling it again gives the same block
      current += child.buildHeaders() + '\r\n\r\n';
      const content: unknown = child.content;
      if (content) {
        const transferEncoding = child.getTransferEncoding();
        let slot: Slot;
        // by identity, each claimed once: the text and the HTML may be the same string
        if (content === options.text && !slots.some((s) => s.kind === 'text')) slot = { kind: 'text', transferEncoding };
        else if (content === options.html && !slots.some((s) => s.kind === 'html')) slot = { kind: 'html', transferEncoding };
        else {
          const index = (options.attachments ?? []).findIndex((a) => a.content === content);
          if (index === -1 || !Buffer.isBuffer(content)) return false;
          slot = { kind: 'attachment', index, transferEncoding };
        }
        if (slot.kind !== 'attachment' && !isText(child)) return false;
        statics.push(current);
        slots.push(slot);
        current = '';
      }
      if (child.multipart && !walkChildren(child)) return false;
    }
    current += `\r\n--${String(node.boundary)}--\r\n`;
    return true;
  };
  if (!walkChildren(root)) return undefined;
  statics.push(current);
  return { rootType, statics: statics.map((s) => s.split(token)), slots };
}
