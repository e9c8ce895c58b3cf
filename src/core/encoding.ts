import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { warning, type Diagnostic } from './diagnostics.js';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'windows-1252';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
  bom: boolean;
  diagnostics: Diagnostic[];
}

/**
 * Spreadsheets save CSV as UTF-8 (often with a BOM), UTF-16 ("Unicode text") or, in older Excel,
 * Windows-1252. Bytes that are not valid UTF-8 are read as Windows-1252 with iconv-lite (Node 20's
 * own TextDecoder gets 0x80–0x9F wrong), and the user is told.
 */
export function decodeText(input: Uint8Array, file: string): DecodedText {
  if (hasUtf16Bom(input)) {
    return { text: new TextDecoder('utf-16le').decode(input.subarray(2)), encoding: 'utf-16le', bom: true, diagnostics: [] };
  }
  const bom = hasUtf8Bom(input);
  const bytes = bom ? input.subarray(3) : input;
  const utf8 = decodeUtf8(bytes);
  if (utf8 !== undefined) return { text: utf8, encoding: 'utf-8', bom, diagnostics: [] };
  // A UTF-8 BOM followed by bytes that are not UTF-8 (a file edited in two programs) gets the same warning.
  const line = firstInvalidUtf8Line(bytes);
  return {
    text: iconv.decode(Buffer.from(bytes), 'win1252'),
    encoding: 'windows-1252',
    bom,
    diagnostics: [
      warning(
        file,
        line,
        'the file is not UTF-8; read it as Windows-1252 (the older Excel "CSV" format)',
        'check accented letters in the preview; to avoid this, save from Excel as "CSV UTF-8 (Comma delimited)"',
      ),
    ],
  };
}

/**
 * Whether decodeText reads these bytes as UTF-8 (no UTF-16 BOM, valid UTF-8), and then whether
 * they start with a UTF-8 BOM; without decoding them.
 */
export function readAsUtf8(input: Uint8Array): { bom: boolean } | undefined {
  return !hasUtf16Bom(input) && isUtf8(input) ? { bom: hasUtf8Bom(input) } : undefined;
}

function hasUtf16Bom(input: Uint8Array): boolean {
  return input[0] === 0xff && input[1] === 0xfe;
}

function hasUtf8Bom(input: Uint8Array): boolean {
  return input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf;
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function firstInvalidUtf8Line(bytes: Uint8Array): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) {
      if (decodeUtf8(bytes.subarray(start, i)) === undefined) return line;
      line++;
      start = i + 1;
    }
  }
  return line;
}
