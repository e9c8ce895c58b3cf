import { describe, expect, it } from 'vitest';
import { liveRenderUrl, parseLiveRenderPath, renderGalleryHtml, toHref, type GalleryData, type GalleryEntry } from '../../src/core/gallery.js';

function entry(overrides: Partial<GalleryEntry> = {}): GalleryEntry {
  return {
    email: 'head@school.example.org',
    name: 'Alex Morgan',
    line: 2,
    subject: 'A message to headteachers',
    files: { html: 'messages/0002.html', text: 'messages/0002.txt', eml: 'messages/0002.eml' },
    headers: [
      ['From', 'Hartmoor Community Safety <community@example.org>'],
      ['To', 'Alex Morgan <head@school.example.org>'],
      ['Subject', 'A message to headteachers'],
    ],
    warnings: [],
    ...overrides,
  };
}

function gallery(overrides: Partial<GalleryData> = {}): GalleryData {
  return {
    campaign: 'Statement to headteachers',
    generatedAt: '2025-03-03T14:05:00.000Z',
    counts: { recipients: 1, written: 1, warnings: 0, errors: 0, suppressed: 0 },
    diagnostics: [],
    approval: { state: 'none', command: 'bulletin approve --by "Your Name"' },
    entries: [entry()],
    ...overrides,
  };
}

/** The JSON block as the page script reads it. */
function embeddedData(html: string): { entries: Array<{ name: string | null; files: { html: string } | null }>; headerPool: Array<[string, string]> } {
  const match = /<script type="application\/json" id="gallery-data">([\s\S]*?)<\/script>/.exec(html);
  if (!match?.[1]) throw new Error('no gallery-data block');
  return JSON.parse(match[1]) as ReturnType<typeof embeddedData>;
}

/** Text of an element found by id, tags stripped and entities decoded (enough for these checks). */
function textOf(html: string, id: string): string {
  const match = new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  if (!match?.[2]) throw new Error(`no element #${id}`);
  return match[2]
    .replace(/<span[^>]*aria-hidden="true"[^>]*>[^<]*<\/span>/g, '')
    .replace(/<\/(dt|dd|p|li|div|summary)>/g, ' ')
    .replace(/<[^>]+>/g, '')
    .replace(/&mdash;/g, '—')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('renderGalleryHtml', () => {
  it('is one self-contained page: no external scripts, styles or fetches', () => {
    const html = renderGalleryHtml(gallery());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link\b/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain("default-src 'none'");
  });

  it('keeps a hostile recipient name inside its JSON block', () => {
    const evil = '</script><script>alert(1)</script><!--';
    const html = renderGalleryHtml(
      gallery({ campaign: evil, entries: [entry({ name: evil, subject: evil, warnings: [evil], headers: [['To', evil]] })] }),
    );
    // Exactly the two scripts the page ships with, and the payload never appears raw.
    expect(html.match(/<script\b/g)).toHaveLength(2);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<!--');
    // …and the data still round-trips exactly.
    const data = embeddedData(html);
    expect(data.entries[0]?.name).toBe(evil);
    expect(data.headerPool).toContainEqual(['To', evil]);
    expect(textOf(html, 'campaign')).toBe(evil);
  });

  it('escapes values in attributes and text of the static header', () => {
    const html = renderGalleryHtml(
      gallery({ approval: { state: 'approved', by: 'Sam "><img src=x onerror=alert(1)>', at: '2025-03-03T14:05:00Z' } }),
    );
    expect(html).not.toContain('<img');
    expect(textOf(html, 'approval')).toContain('Approved by Sam "><img src=x onerror=alert(1)>');
  });

  it('makes file paths safe relative URLs', () => {
    expect(toHref('messages/a b#1%.html')).toBe('messages/a%20b%231%25.html');
    expect(toHref('javascript:alert(1)')).toBe('javascript%3Aalert(1)');
    expect(toHref('messages\\0002.html')).toBe('messages/0002.html');
    const html = renderGalleryHtml(gallery({ entries: [entry({ files: { html: 'x/javascript:1.html', text: 't.txt', eml: 'e.eml' } })] }));
    expect(embeddedData(html).entries[0]?.files?.html).toBe('x/javascript%3A1.html');
  });

  describe('approval banner', () => {
    it('approved: by whom and when', () => {
      const html = renderGalleryHtml(gallery({ approval: { state: 'approved', by: 'Priya Shah', at: '2025-03-03T14:05:00Z' } }));
      expect(textOf(html, 'approval')).toBe('Approved by Priya Shah on 3 March 2025, 14:05 UTC');
      expect(html).toContain('data-state="approved"');
    });

    it('changed: by whom, when, and what changed', () => {
      const html = renderGalleryHtml(
        gallery({
          approval: {
            state: 'changed',
            by: 'Priya Shah',
            at: '2025-03-03T14:05:00Z',
            changes: ['message.mjml', 'recipients.csv: 2 rows added, 1 changed'],
          },
        }),
      );
      const text = textOf(html, 'approval');
      expect(text).toContain(
        'Changed since approval by Priya Shah on 3 March 2025, 14:05 UTC: message.mjml; recipients.csv: 2 rows added, 1 changed',
      );
      expect(html).toContain('data-state="changed"');
    });

    it('none: the command to approve', () => {
      const html = renderGalleryHtml(gallery());
      expect(textOf(html, 'approval')).toBe('Not approved yet — run bulletin approve --by "Your Name"');
      expect(html).toContain('<code>bulletin approve --by &quot;Your Name&quot;</code>');
    });

    it('shows an unparseable time as given', () => {
      const html = renderGalleryHtml(gallery({ approval: { state: 'approved', by: 'Priya Shah', at: 'yesterday' } }));
      expect(textOf(html, 'approval')).toBe('Approved by Priya Shah on yesterday');
    });
  });

  it('shows the counts', () => {
    const html = renderGalleryHtml(
      gallery({ counts: { recipients: 12000, written: 1000, warnings: 3, errors: 1, suppressed: 7 } }),
    );
    expect(textOf(html, 'counts')).toBe('Recipients 12,000 Files written 1,000 Warnings 3 Errors 1 Suppressed 7');
    expect(html).toMatch(/count-errors has-errors/);
  });

  it('shows the truncated note only when there is one', () => {
    expect(renderGalleryHtml(gallery())).not.toContain('id="truncated-note"');
    const note = 'files written for the first 1,000 of 12,000 recipients (use --all)';
    const html = renderGalleryHtml(gallery({ truncatedNote: note }));
    expect(textOf(html, 'truncated-note')).toBe(note);
  });

  it('lists diagnostics, open when there are errors', () => {
    expect(textOf(renderGalleryHtml(gallery()), 'diagnostics')).toBe('No problems found.');
    const html = renderGalleryHtml(
      gallery({
        diagnostics: [
          { location: 'recipients.csv:14', severity: 'error', message: 'invalid address "a@"' },
          { location: 'recipients.csv:20', severity: 'warning', message: 'blank value for <school>' },
          { location: 'message.mjml:3:7', severity: 'warning', message: 'image without alt text' },
        ],
      }),
    );
    expect(html).toMatch(/<details id="diagnostics" class="diagnostics" open>/);
    const text = textOf(html, 'diagnostics');
    expect(text).toContain('Problems found: 1 error, 2 warnings');
    expect(text).toContain('recipients.csv:20');
    expect(text).toContain('blank value for <school>');
    expect(html).toContain('blank value for &lt;school&gt;');
  });

  it('lists accessibility findings in their own panel, each with its line and fix; not among the other problems', () => {
    const html = renderGalleryHtml(
      gallery({
        accessibilityChecked: true,
        diagnostics: [
          { location: 'recipients.csv:20', severity: 'warning', message: 'blank value for school' },
          {
            location: 'partials/footer.mjml:3:9',
            severity: 'warning',
            message: 'accessibility: text "You received <this>" is set in 13px, smaller than 14px',
            hint: 'use font-size="14px" or more',
            check: 'accessibility/font-size',
          },
          { location: 'message.mjml:41:11', severity: 'warning', message: 'accessibility: link text "click here" says nothing out of context', check: 'accessibility/link-text' },
        ],
      }),
    );
    const panel = textOf(html, 'accessibility');
    expect(panel).toContain('Accessibility: 2 warnings');
    expect(panel).toContain('Font size');
    expect(panel).toContain('partials/footer.mjml:3:9');
    expect(panel).toContain('text "You received <this>" is set in 13px, smaller than 14px');
    expect(panel).toContain('use font-size="14px" or more');
    expect(panel).toContain('Link text');
    expect(panel).toContain('message.mjml:41:11');
    expect(html).toContain('You received &lt;this&gt;');
    expect(html).toMatch(/<details id="accessibility" class="diagnostics accessibility" open>/);
    const problems = textOf(html, 'diagnostics');
    expect(problems).toContain('Problems found: 1 warning');
    expect(problems).not.toContain('click here');
    const onlyAccessibility = renderGalleryHtml(gallery({ accessibilityChecked: true, diagnostics: [{ location: 'message.mjml:4', severity: 'warning', message: 'accessibility: no lang', check: 'accessibility/language' }] }));
    expect(textOf(onlyAccessibility, 'diagnostics')).toBe('No other problems found.');
  });

  it('says the accessibility checks found nothing only when they ran', () => {
    expect(textOf(renderGalleryHtml(gallery({ accessibilityChecked: true })), 'accessibility')).toBe('Accessibility: the checks found no problems.');
    expect(renderGalleryHtml(gallery())).not.toContain('id="accessibility"');
  });

  it('stores headers shared by many messages once, so a 1,000-recipient page stays small', () => {
    const entries = Array.from({ length: 1000 }, (_, i) =>
      entry({
        email: `head${i}@school${i % 40}.example.org`,
        name: `Headteacher ${i}`,
        line: i + 2,
        language: i % 10 === 0 ? 'cy' : 'en',
        files: { html: `messages/${i}.html`, text: `messages/${i}.txt`, eml: `messages/${i}.eml` },
        headers: [
          ['From', 'Hartmoor Community Safety <community@example.org>'],
          ['Reply-To', 'partnerships@example.org'],
          ['To', `Headteacher ${i} <head${i}@school${i % 40}.example.org>`],
          ['Subject', 'A message to headteachers after the events of this week'],
          ['List-Id', 'Hartmoor statements <statements.example.org>'],
          ['List-Unsubscribe', '<mailto:unsubscribe@example.org?subject=unsubscribe>, <https://example.org/unsubscribe/abcdef0123456789>'],
          ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
          ['Auto-Submitted', 'auto-generated'],
          ['X-Auto-Response-Suppress', 'OOF, AutoReply'],
        ],
      }),
    );
    const html = renderGalleryHtml(gallery({ entries }));
    expect(embeddedData(html).headerPool.length).toBeLessThan(1000 + 10);
    expect(html.length).toBeLessThan(450_000);
  });
});

describe('live render paths', () => {
  it('reads back what liveRenderUrl makes, for each extension the server answers', () => {
    for (const ext of ['html', 'txt', 'eml', 'json'] as const) {
      expect(parseLiveRenderPath(liveRenderUrl(7).slice(1).replace('{seq}', '1233').replace('{ext}', ext))).toEqual({ version: 7, seq: 1233, ext });
    }
  });

  it('names nothing else: other paths, other extensions, traversal, signs and fractions', () => {
    for (const p of ['index.html', '__bulletin/events', '__bulletin/render/7/12.exe', '__bulletin/render/7/../12.html', '__bulletin/render/7/-1.html', '__bulletin/render/7/1.5.html', '__bulletin/render//1.html', '__bulletin/render/7/1.html/x', '/__bulletin/render/7/1.html']) {
      expect(parseLiveRenderPath(p)).toBeUndefined();
    }
  });
});
