import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeText } from '../../src/core/encoding.js';

const TEXT = 'email,name\nmaya.oduya@example.org,Maya Oduya\nrenee.obrien@example.com,Renée O’Brien — “Chair”\n';
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

describe('decodeText', () => {
  it('reads plain UTF-8 without a warning', () => {
    expect(decodeText(utf8(TEXT), 'recipients.csv')).toEqual({ text: TEXT, encoding: 'utf-8', bom: false, diagnostics: [] });
  });

  it('drops a UTF-8 BOM', () => {
    const result = decodeText(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(TEXT)]), 'recipients.csv');
    expect(result).toEqual({ text: TEXT, encoding: 'utf-8', bom: true, diagnostics: [] });
  });

  it('reads UTF-16LE with a BOM (Excel "Unicode text")', () => {
    const bytes = new Uint8Array([0xff, 0xfe, ...Buffer.from(TEXT, 'utf16le')]);
    expect(decodeText(bytes, 'recipients.csv')).toEqual({ text: TEXT, encoding: 'utf-16le', bom: true, diagnostics: [] });
  });

  it('reads Windows-1252, ’ and “” (0x80–0x9F) included, and warns at the first line that is not UTF-8', () => {
    const bytes = new Uint8Array(iconv.encode(TEXT, 'win1252'));
    expect(bytes.includes(0x92)).toBe(true);
    const result = decodeText(bytes, 'recipients.csv');
    expect(result.text).toBe(TEXT);
    expect(result.encoding).toBe('windows-1252');
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ file: 'recipients.csv', line: 3, severity: 'warning', message: expect.stringContaining('not UTF-8; read it as Windows-1252') as string }),
    ]);
    expect(result.diagnostics[0]?.hint).toContain('CSV UTF-8');
  });

  it('finds the non-UTF-8 line when it is the last one, without a final newline', () => {
    const bytes = new Uint8Array(iconv.encode('email,name\na@example.org,A\nb@example.org,Zoë', 'win1252'));
    expect(decodeText(bytes, 'r.csv').diagnostics[0]?.line).toBe(3);
  });

  it('warns too when a UTF-8 BOM is followed by bytes that are not UTF-8', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...iconv.encode(TEXT, 'win1252')]);
    const result = decodeText(bytes, 'recipients.csv');
    expect(result.text).toBe(TEXT);
    expect(result).toMatchObject({ encoding: 'windows-1252', bom: true });
    expect(result.diagnostics.map((d) => [d.line, d.severity])).toEqual([[3, 'warning']]);
  });

  it('reads an empty file as empty text', () => {
    expect(decodeText(new Uint8Array(), 'recipients.csv')).toEqual({ text: '', encoding: 'utf-8', bom: false, diagnostics: [] });
  });
});
