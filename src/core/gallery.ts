import { createHash } from 'node:crypto';
import { CLIENT_SCRIPT, STYLES } from './gallery-assets.js';
import { INDEX_HEAD, pageIndex, pageIndexJson, type PageIndex } from './gallery-index.js';
import { renderVersions, type GalleryIndex, type GalleryVersion } from './gallery-versions.js';

/** One recipient as the reviewer sees it in `preview/index.html`. */
export interface GalleryEntry {
  email: string;
  name?: string;
  /** Line of the recipients CSV this message came from. */
  line: number;
  language?: string;
  subject: string;
  /** Paths relative to index.html; absent when the entry was rendered but not written (over the file limit). */
  files?: { html: string; text: string; eml: string };
  /** The message headers as they will be sent. */
  headers: Array<[string, string]>;
  warnings: string[];
  /** Position among the previewed recipients: the entry's row in `GalleryData.index`. */
  seq?: number;
}

export type GalleryApproval =
  | { state: 'approved'; by: string; at: string }
  | { state: 'changed'; by: string; at: string; changes: string[] }
  | { state: 'none'; command: string };

export interface GalleryDiagnostic {
  location: string;
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
  /** `accessibility/contrast`…: such diagnostics are listed in the Accessibility panel. */
  check?: string;
}

export interface GalleryData {
  campaign: string;
  /** ISO 8601, passed in: core has no clock. */
  generatedAt: string;
  counts: { recipients: number; written: number; warnings: number; errors: number; suppressed: number };
  diagnostics: GalleryDiagnostic[];
  approval: GalleryApproval;
  entries: GalleryEntry[];
  /** e.g. "files written for the first 1,000 of 12,000 recipients (use --all)". */
  truncatedNote?: string;
  /** The distinct versions of the message, most common first. */
  versions?: GalleryVersion[];
  /** Every previewed recipient, written or not. */
  index?: GalleryIndex;
  /**
   * A live gallery's address for any recipient's files, `{seq}` and `{ext}` (html, txt, eml,
   * json) filled in: an unwritten recipient is then rendered on demand instead of shown by example.
   */
  renderUrl?: string;
  /**
   * Served by `preview --watch`: the page listens to the server's events (same origin only),
   * takes a newer rendering than `version` in place (reloads when the recipients changed), and
   * shows the latest problems.
   */
  live?: { version: number };
  /** The accessibility checks ran: the panel then says so even when they found nothing. */
  accessibilityChecked?: boolean;
}

/**
 * The reviewer's gallery: one self-contained page (inline CSS and JS, no external requests)
 * that works from file://. Static parts are rendered here, HTML-escaped; the recipient list
 * is built in the browser from JSON blocks, and only ever through textContent.
 */
export function renderGalleryHtml(data: GalleryData): string {
  return [...galleryHtmlChunks(data)].join('');
}

/**
 * The same page in pieces, to be written one after the other: with 100,000 recipients the
 * index is megabytes of JSON, never held as one string. The index of every recipient comes
 * last, after the page script, so the browser draws the first rows before it has read it all.
 */
export function* galleryHtmlChunks(data: GalleryData): Generator<string> {
  const client = clientData(data);
  const index = data.index;
  const long = index !== undefined && index.email.length > INDEX_HEAD;
  const scriptHash = createHash('sha256').update(CLIENT_SCRIPT).digest('base64');
  // Defence in depth: even if a value escaped its context, no other script could run and
  // the page could not reach the network. Frames may load the local preview files only.
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}'`,
    "style-src 'unsafe-inline'",
    "frame-src 'self' file:",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    ...(data.live ? ["connect-src 'self'"] : []),
  ].join('; ');

  yield `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light">
<title>Preview: ${escapeHtml(data.campaign)}</title>
<style>${STYLES}</style>
</head>
<body>
<a class="skip-link" href="#message">Skip to the message</a>
<header class="page-head">
  <div class="title-row">
    <div class="title">
      <p class="eyebrow">Preview gallery &middot; nothing has been sent</p>
      <h1 id="campaign">${escapeHtml(data.campaign)}</h1>
      <p class="generated">Generated ${renderTime(data.generatedAt)}</p>
    </div>
    ${renderCounts(data.counts)}
  </div>
  <section id="approval-banner" aria-label="Approval">${renderApproval(data.approval)}</section>
  ${data.truncatedNote === undefined ? '' : `<p class="notice" id="truncated-note"><span class="notice-icon" aria-hidden="true">i</span>${escapeHtml(data.truncatedNote)}</p>`}
  ${renderDiagnostics(data.diagnostics.filter((d) => !isAccessibility(d)), data.diagnostics.some(isAccessibility))}
  ${renderAccessibility(data.diagnostics.filter(isAccessibility), data.accessibilityChecked ?? false)}
</header>
${renderVersions(data.versions ?? [], data.index, data.counts.recipients)}
<div class="layout">
  <nav class="sidebar" aria-label="Recipients">
    <div class="filters">
      <label for="search" class="label">Search recipients</label>
      <input id="search" type="search" autocomplete="off" spellcheck="false" placeholder="Name, email, line, language&hellip;" aria-controls="recipient-list" aria-describedby="shown-count">
      <div class="filter-row">
        <label class="check"><input type="checkbox" id="only-warnings"> Only with warnings</label>
        <p id="shown-count" class="shown-count" aria-live="polite"></p>
      </div>
      <p id="version-filter" class="version-filter" hidden><span id="version-filter-label"></span> <button type="button" id="version-filter-clear" class="linkish">Show every version</button></p>
    </div>
    <p class="key-hint" id="key-hint" aria-hidden="true">Use <kbd>&uarr;</kbd> <kbd>&darr;</kbd> to move between recipients</p>
    <ul id="recipient-list" class="recipient-list" role="listbox" aria-label="Recipients" tabindex="0"></ul>
    <p id="no-match" class="no-match" hidden>No recipients match your search.</p>
  </nav>
  <main id="message" class="main" tabindex="-1">
    <div class="message-head">
      <h2 id="selected-subject" class="subject"></h2>
      <p id="selected-to" class="to"></p>
      <ul id="selected-warnings" class="entry-warnings" aria-label="Warnings for this recipient" hidden></ul>
    </div>
    <div class="toolbar">
      <div class="tabs" role="tablist" aria-label="Part of the message">
        <button type="button" role="tab" id="tab-html" data-tab="html" aria-controls="panel-html" aria-selected="true">HTML</button>
        <button type="button" role="tab" id="tab-text" data-tab="text" aria-controls="panel-text" aria-selected="false" tabindex="-1">Text</button>
        <button type="button" role="tab" id="tab-headers" data-tab="headers" aria-controls="panel-headers" aria-selected="false" tabindex="-1">Headers</button>
      </div>
      <div class="widths" id="widths" role="group" aria-label="Preview width">
        <button type="button" id="toggle-desktop" aria-pressed="true">Desktop</button>
        <button type="button" id="toggle-mobile" aria-pressed="false">Mobile <span class="muted">375&nbsp;px</span></button>
      </div>
      <div class="file-links">
        <a id="open-html" class="link" target="_blank" rel="noopener">Open in new tab</a>
        <a id="download-eml" class="button-link" download>Download .eml</a>
      </div>
    </div>
    <p id="not-written" class="notice not-written" hidden>This message was rendered and checked, but its files were not written (over the file limit). Its headers are shown under Headers.</p>
    <section id="own-values" class="own-values" aria-label="This recipient's values" aria-live="polite" hidden></section>
    <section id="panel-html" class="panel stage" role="tabpanel" aria-labelledby="tab-html">
      <iframe id="preview-frame" title="The message as HTML" sandbox="allow-popups allow-popups-to-escape-sandbox"></iframe>
    </section>
    <section id="panel-text" class="panel stage" role="tabpanel" aria-labelledby="tab-text" hidden>
      <iframe id="text-frame" title="The message as plain text" sandbox></iframe>
    </section>
    <section id="panel-headers" class="panel headers-panel" role="tabpanel" aria-labelledby="tab-headers" hidden>
      <table id="headers-table">
        <thead><tr><th scope="col">Header</th><th scope="col">Value</th></tr></thead>
        <tbody></tbody>
      </table>
    </section>
  </main>
</div>
<script type="application/json" id="gallery-data">${jsonForScript(long ? headOf(client) : client)}</script>
<script>${CLIENT_SCRIPT}</script>
`;
  if (long) {
    // Every entry and every recipient's index: { entries, headerPool, index } (see ClientData).
    yield `<script type="application/json" id="gallery-index">{"entries":${jsonForScript(client.entries)},"headerPool":${jsonForScript(client.headerPool)},"index":`;
    for (const piece of pageIndexJson(pageIndex(index))) yield escapeForScript(piece);
    yield '}</script>\n';
  }
  yield '</body>\n</html>\n';
}

/** The data the page script needs. Headers shared by many messages (From, List-Id…) are stored once. */
interface ClientData {
  live?: { version: number; events: string };
  headerPool: Array<[string, string]>;
  entries: Array<{
    email: string;
    name: string | null;
    line: number;
    language: string | null;
    subject: string;
    files: { html: string; text: string; eml: string } | null;
    headers: number[];
    warnings: string[];
    seq: number | null;
  }>;
  versions: Array<{ number: number; count: number; language: string; example: number }>;
  /** The first INDEX_HEAD recipients' index (every recipient's when there are no more). */
  index: PageIndex | null;
  /**
   * Recipients in the whole index. When there are more than `index` holds, the page's
   * `gallery-index` block, after its script, holds {entries, headerPool, index} for all of them
   * (this block then has the first HEAD_ENTRIES entries only).
   */
  recipients: number;
  renderUrl: string | null;
}

/** Entries in a long list's first block: the first screen's, and the recipient shown first. */
export const HEAD_ENTRIES = 50;

/**
 * A long list's first block: the first HEAD_ENTRIES entries and the headers they use (the pool
 * is numbered in entry order, so a prefix), and the first INDEX_HEAD recipients' index. The
 * `gallery-index` block after the page script holds every entry, header and recipient.
 */
function headOf(client: ClientData): ClientData {
  const entries = client.entries.slice(0, HEAD_ENTRIES);
  const pooled = Math.max(-1, ...entries.flatMap((e) => e.headers)) + 1;
  return { ...client, entries, headerPool: client.headerPool.slice(0, pooled) };
}

function clientData(data: GalleryData): ClientData {
  const headerPool: Array<[string, string]> = [];
  const poolIndex = new Map<string, number>();
  const entries = data.entries.map((entry) => {
    const headers = entry.headers.map(([name, value]) => {
      const key = `${name}\u0000${value}`;
      let index = poolIndex.get(key);
      if (index === undefined) {
        index = headerPool.length;
        headerPool.push([name, value]);
        poolIndex.set(key, index);
      }
      return index;
    });
    return {
      email: entry.email,
      name: entry.name ?? null,
      line: entry.line,
      language: entry.language ?? null,
      subject: entry.subject,
      files: entry.files
        ? { html: toHref(entry.files.html), text: toHref(entry.files.text), eml: toHref(entry.files.eml) }
        : null,
      headers,
      warnings: entry.warnings,
      seq: entry.seq ?? null,
    };
  });
  const versions = (data.versions ?? []).map((v) => ({ number: v.number, count: v.count, language: v.language, example: v.example.seq }));
  const index = data.index;
  const head = index ? pageIndex(index, 0, Math.min(index.email.length, INDEX_HEAD)) : null;
  const client: ClientData = { headerPool, entries, versions, index: head, recipients: index ? index.email.length : entries.length, renderUrl: data.renderUrl ?? null };
  if (data.live) client.live = { version: data.live.version, events: LIVE_EVENTS_PATH };
  return client;
}

/** Where `preview --watch` serves its server-sent events. */
export const LIVE_EVENTS_PATH = '/__bulletin/events';

/** Where `preview --watch` renders any recipient on demand: `<prefix><version>/<seq>.<ext>`. */
export const LIVE_RENDER_PREFIX = '/__bulletin/render/';

/** The extensions a live render answers: the three files, and `json` for the subject, headers and warnings. */
export const LIVE_RENDER_EXTENSIONS = ['html', 'txt', 'eml', 'json'] as const;
export type LiveRenderExtension = (typeof LIVE_RENDER_EXTENSIONS)[number];

/** The page's template for a recipient's on-demand files; the version makes a stale page's request fail, not show old content. */
export function liveRenderUrl(version: number): string {
  return `${LIVE_RENDER_PREFIX}${version}/{seq}.{ext}`;
}

/**
 * The version, seq and extension a live render path names, the path as the preview server hands
 * it over (inside the preview, without the leading '/'); undefined for any other path.
 */
export function parseLiveRenderPath(relative: string): { version: number; seq: number; ext: LiveRenderExtension } | undefined {
  const prefix = LIVE_RENDER_PREFIX.slice(1);
  if (!relative.startsWith(prefix)) return undefined;
  const match = /^(\d{1,9})\/(\d{1,9})\.([a-z]+)$/.exec(relative.slice(prefix.length));
  const ext = match?.[3] as LiveRenderExtension | undefined;
  if (!match || !ext || !LIVE_RENDER_EXTENSIONS.includes(ext)) return undefined;
  return { version: Number(match[1]), seq: Number(match[2]), ext };
}

/** One problem as the live page and the terminal show it: where, what, the source line and the hint. */
export interface LiveProblem {
  location: string;
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
  /** The line of the file the location names, as written. */
  source?: string;
}

/** What the watch server sends: the rendering the page should show, and the problems of the latest round. */
export interface LiveState {
  version: number;
  /** Errors of the latest round; when the template did not compile, the page keeps the last good rendering. */
  problems: LiveProblem[];
  /** ISO time of the latest round. */
  at: string;
}

/**
 * Sent by the watch server before the rest of a round: these message files (as the page links
 * them) are already rendered for `version`, so a page showing one loads it now.
 */
export interface LiveMessages {
  version: number;
  files: string[];
}

/**
 * A relative file path as a URL the page can use: each segment percent-encoded, so `#`, `?`
 * or `%` in a file name still work and a `javascript:` "path" stays a harmless relative one.
 */
export function toHref(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/** JSON that cannot end its <script> element or open a comment: every <, > and & is escaped. */
export function jsonForScript(value: unknown): string {
  return escapeForScript(JSON.stringify(value));
}

/** JSON text made safe inside a <script> element, as jsonForScript. */
function escapeForScript(json: string): string {
  // One pass: the page's data can be megabytes.
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function renderCounts(counts: GalleryData['counts']): string {
  const items: Array<[string, number, string]> = [
    ['Recipients', counts.recipients, 'recipients'],
    ['Files written', counts.written, 'written'],
    ['Warnings', counts.warnings, counts.warnings > 0 ? 'warnings has-warnings' : 'warnings'],
    ['Errors', counts.errors, counts.errors > 0 ? 'errors has-errors' : 'errors'],
    ['Suppressed', counts.suppressed, 'suppressed'],
  ];
  const cells = items
    .map(
      ([label, n, cls]) =>
        `<div class="count count-${cls}" data-count="${cls.split(' ')[0] ?? ''}"><dt>${label}</dt><dd>${formatNumber(n)}</dd></div>`,
    )
    .join('');
  return `<dl class="counts" id="counts">${cells}</dl>`;
}

/**
 * The same page with another approval banner: `approve` updates the gallery a reviewer has
 * open, so a reload shows the sign-off without rendering every message again.
 */
export function replaceApprovalBanner(html: string, approval: GalleryApproval): string {
  return html.replace(/<section id="approval-banner" aria-label="Approval">[\s\S]*?<\/section>/, () => `<section id="approval-banner" aria-label="Approval">${renderApproval(approval)}</section>`);
}

function renderApproval(approval: GalleryApproval): string {
  switch (approval.state) {
    case 'approved':
      return `<div id="approval" class="banner banner-approved" data-state="approved" role="status">
    <span class="banner-icon" aria-hidden="true">&#10003;</span>
    <p>Approved by <strong>${escapeHtml(approval.by)}</strong> on ${renderTime(approval.at)}</p>
  </div>`;
    case 'changed':
      return `<div id="approval" class="banner banner-changed" data-state="changed" role="status">
    <span class="banner-icon" aria-hidden="true">!</span>
    <div>
      <p>Changed since approval by <strong>${escapeHtml(approval.by)}</strong> on ${renderTime(approval.at)}: ${approval.changes.map((c) => `<span class="change">${escapeHtml(c)}</span>`).join('<span class="sep">; </span>')}</p>
      <p class="banner-hint">Review the messages again and approve them before sending.</p>
    </div>
  </div>`;
    case 'none':
      return `<div id="approval" class="banner banner-none" data-state="none" role="status">
    <span class="banner-icon" aria-hidden="true">?</span>
    <p>Not approved yet &mdash; run <code>${escapeHtml(approval.command)}</code></p>
  </div>`;
  }
}

function renderDiagnostics(diagnostics: GalleryDiagnostic[], accessibilityFindings: boolean): string {
  if (diagnostics.length === 0) {
    return `<p class="no-problems" id="diagnostics">No ${accessibilityFindings ? 'other ' : ''}problems found.</p>`;
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const parts: string[] = [];
  if (errors > 0) parts.push(plural(errors, 'error'));
  if (warnings > 0) parts.push(plural(warnings, 'warning'));
  const rows = diagnostics
    .map(
      (d) =>
        `<li class="diagnostic diagnostic-${d.severity}"><span class="severity">${d.severity}</span><code class="location">${escapeHtml(d.location)}</code><span class="diagnostic-message">${escapeHtml(d.message)}</span></li>`,
    )
    .join('\n');
  // Open when there are errors: those stop a send, so the reviewer should not miss them.
  return `<details id="diagnostics" class="diagnostics"${errors > 0 ? ' open' : ''}>
    <summary>Problems found: ${parts.join(', ')}</summary>
    <ul class="diagnostic-list">
${rows}
    </ul>
  </details>`;
}

const ACCESSIBILITY_PREFIX = 'accessibility/';

function isAccessibility(d: GalleryDiagnostic): boolean {
  return d.check?.startsWith(ACCESSIBILITY_PREFIX) ?? false;
}

const CHECK_NAMES: Record<string, string> = {
  contrast: 'Contrast',
  'alt-text': 'Alt text',
  'link-text': 'Link text',
  'heading-order': 'Headings',
  language: 'Language',
  'text-in-images': 'Text in images',
  'font-size': 'Font size',
};

/**
 * The accessibility findings concern the template, not a recipient: one server-rendered panel,
 * open when there is anything to read, each finding with its line, what is wrong and the fix.
 */
function renderAccessibility(findings: GalleryDiagnostic[], checked: boolean): string {
  if (findings.length === 0) {
    return checked ? `<p class="no-problems" id="accessibility">Accessibility: the checks found no problems.</p>` : '';
  }
  const errors = findings.filter((d) => d.severity === 'error').length;
  const counted = errors > 0 ? plural(errors, 'error') : plural(findings.length, 'warning');
  const rows = findings
    .map((d) => {
      const check = d.check!.slice(ACCESSIBILITY_PREFIX.length);
      const message = d.message.replace(/^accessibility: /, '');
      const hint = d.hint === undefined ? '' : `<span class="diagnostic-hint">${escapeHtml(d.hint)}</span>`;
      return `<li class="diagnostic diagnostic-${d.severity}" data-check="${escapeHtml(check)}"><span class="severity">${escapeHtml(CHECK_NAMES[check] ?? check)}</span><code class="location">${escapeHtml(d.location)}</code><span class="diagnostic-text"><span class="diagnostic-message">${escapeHtml(message)}</span>${hint}</span></li>`;
    })
    .join('\n');
  return `<details id="accessibility" class="diagnostics accessibility" open>
    <summary>Accessibility: ${counted}</summary>
    <ul class="diagnostic-list">
${rows}
    </ul>
  </details>`;
}

function plural(n: number, word: string): string {
  return `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;
}

function formatNumber(n: number): string {
  return n.toLocaleString('en-GB');
}

/** A <time> with a fixed UTC rendering; the page script shows it in the reader's own time zone. */
function renderTime(iso: string): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(formatUtc(iso))}</time>`;
}

export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')} UTC`;
}
