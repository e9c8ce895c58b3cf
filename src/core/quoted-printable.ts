/**
 * Quoted-printable for a text part, byte for byte what nodemailer's qp.Encoder writes for a
 * text/* content handed over in one chunk (its `encodeBytes`, then its `wrap` at 76), written
 * straight into a Buffer. nodemailer's wrap walks the encoded text with `substr` and five
 * regular expressions per line and builds the result by string concatenation: about half of a
 * message's assembly time and much of its garbage. The same decisions are taken here on byte
 * offsets, in the same order (see each step); a generated test holds them to nodemailer's.
 *
 * Only up to 64 KB is done here (nodemailer's encoder works in 64 KB slices beyond that):
 * `encodeTextQp` returns undefined for more, and the caller uses nodemailer's encoder.
 */

const LINE = 76;
const MARGIN = Math.floor(LINE / 3);
const SLICE = 64 * 1024;
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');

/** 1 for a byte written as is: TAB, LF, CR, and printable ASCII but `=` (RFC 2045 6.7). */
const LITERAL = new Uint8Array(256);
for (let i = 0; i < 256; i++) LITERAL[i] = i === 0x09 || i === 0x0a || i === 0x0d || (i >= 0x20 && i <= 0x7e && i !== 0x3d) ? 1 : 0;

/** Characters nodemailer's wrap may break a line after: `[ \t.,!?]`. */
const BREAK = new Uint8Array(256);
for (const c of ' \t.,!?') BREAK[c.charCodeAt(0)] = 1;

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

export function encodeTextQp(content: Buffer): Buffer | undefined {
  if (content.length > SLICE) return undefined;
  // nodemailer's encoder holds back the spaces and tabs the content ends with (its chunk might
  // not be the last), encodes and wraps the rest keeping the last line open, then at the flush
  // wraps that line again followed by the held-back whitespace, encoded
  let end = content.length;
  while (end > 0 && (content[end - 1] === 0x20 || content[end - 1] === 0x09)) end--;
  if (end === content.length) return wrap(encode(content));
  const body = end > 0 ? wrap(encode(content.subarray(0, end))) : Buffer.alloc(0);
  const open = body.lastIndexOf(0x0a) + 1;
  const rest = wrap(Buffer.concat([body.subarray(open), encode(content.subarray(end))]));
  return Buffer.concat([body.subarray(0, open), rest]);
}

/** nodemailer's encodeBytes with no byte following and not binary. */
function encode(input: Buffer): Buffer {
  const len = input.length;
  const out = Buffer.allocUnsafe(len * 3);
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = input[i]!;
    if (LITERAL[c]) {
      // whitespace that ends a line (or the input) is encoded
      if (c === 0x20 || c === 0x09) {
        const next = i + 1 < len ? input[i + 1] : undefined;
        if (next !== undefined && next !== 0x0a && next !== 0x0d) {
          out[o++] = c;
          continue;
        }
      } else {
        out[o++] = c;
        continue;
      }
    }
    out[o++] = 0x3d;
    out[o++] = HEX[c >> 4]!;
    out[o++] = HEX[c & 15]!;
  }
  return out.subarray(0, o);
}

/** nodemailer's qp `wrap(str, 76)`, step by step, on byte offsets. */
function wrap(s: Buffer): Buffer {
  const len = s.length;
  if (len <= LINE) return s;
  // each line keeps at least one byte and gains at most `=\r\n`
  const out = Buffer.allocUnsafe(len * 4);
  let o = 0;
  let pos = 0;
  const emit = (from: number, to: number): void => {
    o += s.copy(out, o, from, to);
  };
  while (pos < len) {
    const end = Math.min(pos + LINE, len);
    // /\r\n/: the line ends after the first CRLF in it
    let crlf = -1;
    for (let j = pos; j + 1 < end; j++) {
      if (s[j] === 0x0d && s[j + 1] === 0x0a) {
        crlf = j;
        break;
      }
    }
    if (crlf !== -1) {
      emit(pos, crlf + 2);
      pos = crlf + 2;
      continue;
    }
    // a line that ends in LF as it is
    if (s[end - 1] === 0x0a) {
      emit(pos, end);
      pos = end;
      continue;
    }
    // /\n.*?$/ in the last MARGIN characters: up to and including the last LF there, unless a
    // CR follows it (`.` matches neither CR nor LF, so then nothing matches)
    const tail = Math.max(pos, end - MARGIN);
    let lf = -1;
    for (let j = end - 1; j >= tail; j--) {
      if (s[j] === 0x0d) break;
      if (s[j] === 0x0a) {
        lf = j;
        break;
      }
    }
    if (lf !== -1) {
      emit(pos, lf + 1);
      pos = lf + 1;
      continue;
    }
    let lineLen = end - pos;
    let broke = false;
    if (lineLen > LINE - MARGIN) {
      // /[ \t.,!?][^ \t.,!?]*$/ in the last MARGIN characters: after the last such character
      for (let j = end - 1; j >= tail; j--) {
        if (BREAK[s[j]!]) {
          lineLen = j + 1 - pos;
          broke = true;
          break;
        }
      }
    }
    if (!broke && endsWithEscapeStart(s, pos, lineLen)) {
      // /[=][\da-f]{0,1}$/i: an incomplete escape moves to the next line
      if (s[pos + lineLen - 1] === 0x3d) lineLen -= 1;
      else if (lineLen >= 2 && s[pos + lineLen - 2] === 0x3d && isHex(s[pos + lineLen - 1]!)) lineLen -= 2;
      // nor is a UTF-8 sequence split
      while (lineLen > 3 && lineLen < len - pos && !onlyEscapes(s, pos, lineLen) && endsWithEscape(s, pos, lineLen)) {
        const code = hexValue(s[pos + lineLen - 2]!) * 16 + hexValue(s[pos + lineLen - 1]!);
        if (code < 128) break;
        lineLen -= 3;
        if (code >= 0xc0) break;
      }
    }
    if (lineLen === 0) lineLen = end - pos;
    if (pos + lineLen < len && s[pos + lineLen - 1] !== 0x0a) {
      if (lineLen === LINE && endsWithEscape(s, pos, lineLen)) lineLen -= 3;
      else if (lineLen === LINE) lineLen -= 1;
      emit(pos, pos + lineLen);
      out[o++] = 0x3d;
      out[o++] = 0x0d;
      out[o++] = 0x0a;
    } else {
      emit(pos, pos + lineLen);
    }
    pos += lineLen;
  }
  return out.subarray(0, o);
}

/** /[=][\da-f]{0,2}$/i on the line s[pos, pos + n). */
function endsWithEscapeStart(s: Buffer, pos: number, n: number): boolean {
  const at = pos + n;
  if (n >= 1 && s[at - 1] === 0x3d) return true;
  if (n >= 2 && s[at - 2] === 0x3d && isHex(s[at - 1]!)) return true;
  return n >= 3 && s[at - 3] === 0x3d && isHex(s[at - 2]!) && isHex(s[at - 1]!);
}

/** /[=][\da-f]{2}$/i on the line. */
function endsWithEscape(s: Buffer, pos: number, n: number): boolean {
  const at = pos + n;
  return n >= 3 && s[at - 3] === 0x3d && isHex(s[at - 2]!) && isHex(s[at - 1]!);
}

/** /^(?:=[\da-f]{2}){1,4}$/i on the line. */
function onlyEscapes(s: Buffer, pos: number, n: number): boolean {
  if (n % 3 !== 0 || n < 3 || n > 12) return false;
  for (let j = pos; j < pos + n; j += 3) if (s[j] !== 0x3d || !isHex(s[j + 1]!) || !isHex(s[j + 2]!)) return false;
  return true;
}
