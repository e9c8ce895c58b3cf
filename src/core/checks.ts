import type { RenderedContent } from './template.js';

/** Gmail cuts the HTML of a message after this many bytes and shows "[Message clipped]". */
export const GMAIL_CLIP_BYTES = 102 * 1024;

/** Problems a reviewer should hear about in one rendered message; none stops a send. */
export function checkRenderedMessage(content: RenderedContent): string[] {
  const warnings: string[] = [];
  const bytes = Buffer.byteLength(content.html, 'utf8');
  if (bytes > GMAIL_CLIP_BYTES) {
    warnings.push(`the HTML is ${Math.ceil(bytes / 1024)} KB: Gmail clips messages over 102 KB, hiding the end of the message (and its unsubscribe link)`);
  }
  for (const src of imagesWithoutAlt(content.html)) {
    warnings.push(`an image has no alt text (${src}): screen readers and clients that block images show nothing; add alt="…" to its <mj-image>`);
  }
  for (const href of hrefs(content.html)) {
    if (hasBraces(href)) warnings.push(`a link still contains Handlebars braces: ${href}`);
  }
  for (const [part, value] of [['subject', content.subject], ['text part', content.text], ['preheader', content.preheader ?? '']] as const) {
    const leftover = /\{\{[^\n]{0,40}|[^\n]{0,40}\}\}/.exec(value);
    if (leftover) warnings.push(`the ${part} still contains Handlebars braces: "${leftover[0].trim()}"`);
  }
  return warnings;
}

function imagesWithoutAlt(html: string): string[] {
  const found: string[] = [];
  for (const [tag] of html.matchAll(/<img\b[^>]*>/gi)) {
    const alt = attribute(tag, 'alt');
    if (alt === undefined || alt.trim() === '') found.push(attribute(tag, 'src') ?? 'no src');
  }
  return found;
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/<a\b[^>]*>/gi)].map(([tag]) => attribute(tag, 'href')).filter((href): href is string => href !== undefined);
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

function hasBraces(value: string): boolean {
  return value.includes('{{') || value.includes('}}');
}
