import type { Config } from './config.js';
import { warning, type Diagnostic } from './diagnostics.js';
import type { RenderedContent } from './template.js';

/** Gmail cuts the HTML of a message after this many bytes and shows "[Message clipped]". */
export const GMAIL_CLIP_BYTES = 102 * 1024;

/**
 * Problems a reviewer should hear about in one rendered message; none stops a send. Alt text and
 * the other accessibility checks are in accessibility.ts: they concern the template, not a row.
 */
export function checkRenderedMessage(content: RenderedContent): string[] {
  const warnings = checkSize(content);
  for (const href of hrefs(content.html)) {
    if (hasBraces(href)) warnings.push(`a link still contains Handlebars braces: ${href}`);
  }
  for (const [part, value] of [['subject', content.subject], ['text part', content.text], ['preheader', content.preheader ?? '']] as const) {
    const leftover = braceContext(value);
    if (leftover !== undefined) warnings.push(`the ${part} still contains Handlebars braces: "${leftover}"`);
  }
  return warnings;
}

/** The one check that depends on every value's length: cheap enough for every message. */
export function checkSize(content: RenderedContent): string[] {
  // UTF-16 length is a lower bound of the UTF-8 size: count bytes only when it could matter.
  if (content.html.length * 3 <= GMAIL_CLIP_BYTES) return [];
  const bytes = Buffer.byteLength(content.html, 'utf8');
  if (bytes <= GMAIL_CLIP_BYTES) return [];
  return [`the HTML is ${Math.ceil(bytes / 1024)} KB: Gmail clips messages over 102 KB, hiding the end of the message (and its unsubscribe link)`];
}

function hrefs(html: string): string[] {
  return [...html.matchAll(/<a\b[^>]*>/gi)].map(([tag]) => attribute(tag, 'href')).filter((href): href is string => href !== undefined);
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

/**
 * The first leftover braces with a little of their line, or undefined. indexOf, not a regular
 * expression: this runs on every message's text part, and a backtracking pattern there cost
 * more than rendering the message.
 */
function braceContext(value: string): string | undefined {
  const candidates = [value.indexOf('{{'), value.indexOf('}}')].filter((i) => i !== -1);
  if (candidates.length === 0) return undefined;
  const at = Math.min(...candidates);
  const lineStart = value.lastIndexOf('\n', at) + 1;
  const lineEnd = value.indexOf('\n', at);
  const line = value.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  const column = at - lineStart;
  return line.slice(Math.max(0, column - 40), column + 42).trim();
}

function hasBraces(value: string): boolean {
  return value.includes('{{') || value.includes('}}');
}

/** From about this many messages a day, Gmail and Yahoo require RFC 8058 one-click unsubscribe. */
export const ONE_CLICK_FROM_RECIPIENTS = 5_000;

/**
 * A long list whose only unsubscribe is a mailto (or a URL that is not https, which cannot be
 * one-click either): a warning at bulletin.json's "unsubscribe" (or its top when unset).
 */
export function checkOneClickUnsubscribe(
  config: Config,
  recipients: number,
  file: string,
  at: { line: number; column: number } | undefined,
): Diagnostic | undefined {
  const { mailto, url } = config.unsubscribe ?? {};
  if (!mailto || url?.startsWith('https://') || recipients < ONE_CLICK_FROM_RECIPIENTS) return undefined;
  const count = String(recipients).replace(/\B(?=(\d{3})+$)/g, ',');
  return warning(
    file,
    at?.line,
    `unsubscribe is only ${url ? `a mailto and a URL that is not https` : 'a mailto'}, and this list has ${count} recipients: Gmail and Yahoo require one-click unsubscribe (RFC 8058, an https URL) from senders of about 5,000 or more messages a day, and may reject or junk the rest`,
    `add "url" to "unsubscribe" in bulletin.json, e.g. "unsubscribe": {"mailto": "${mailto}", "url": "https://example.org/unsubscribe?e={{email}}"}: bulletin then sends List-Unsubscribe-Post for one-click`,
    at?.column,
  );
}
