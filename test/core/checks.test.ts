import { describe, expect, it } from 'vitest';
import { GMAIL_CLIP_BYTES, checkRenderedMessage } from '../../src/core/checks.js';

const content = (html: string, text = 'Hello', subject = 'Subject') => ({ subject, html, text });

describe('checkRenderedMessage', () => {
  it('is quiet for a clean message', () => {
    expect(checkRenderedMessage(content('<p>Hi</p><img src="a.png" alt="Logo"><a href="https://example.org">x</a>'))).toEqual([]);
  });

  it('warns when Gmail would clip the HTML', () => {
    const big = `<p>${'x'.repeat(GMAIL_CLIP_BYTES)}</p>`;
    const warnings = checkRenderedMessage(content(big));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Gmail clips messages over 102 KB');
    expect(checkRenderedMessage(content(`<p>${'x'.repeat(GMAIL_CLIP_BYTES - 10)}</p>`))).toEqual([]);
  });

  it('counts bytes, not characters', () => {
    const warnings = checkRenderedMessage(content('é'.repeat(GMAIL_CLIP_BYTES / 2 + 1)));
    expect(warnings.some((w) => w.includes('Gmail'))).toBe(true);
  });

  it('warns about leftover braces in links, text and subject', () => {
    const warnings = checkRenderedMessage(content('<a href="https://example.org/?e={{email">x</a>', 'Dear {{name}}', 'Hi }}'));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain('link');
    expect(warnings.some((w) => w.includes('text part') && w.includes('{{name}}'))).toBe(true);
    expect(warnings.some((w) => w.includes('subject'))).toBe(true);
  });
});
