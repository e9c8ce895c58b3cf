import { createHash } from 'node:crypto';

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
}

export type GalleryApproval =
  | { state: 'approved'; by: string; at: string }
  | { state: 'changed'; by: string; at: string; changes: string[] }
  | { state: 'none'; command: string };

export interface GalleryDiagnostic {
  location: string;
  severity: 'error' | 'warning';
  message: string;
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
}

/**
 * The reviewer's gallery: one self-contained page (inline CSS and JS, no external requests)
 * that works from file://. Static parts are rendered here, HTML-escaped; the recipient list
 * is built in the browser from a JSON block, and only ever through textContent.
 */
export function renderGalleryHtml(data: GalleryData): string {
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
  ].join('; ');

  return `<!doctype html>
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
  ${renderDiagnostics(data.diagnostics)}
</header>
<div class="layout">
  <nav class="sidebar" aria-label="Recipients">
    <div class="filters">
      <label for="search" class="label">Search recipients</label>
      <input id="search" type="search" autocomplete="off" spellcheck="false" placeholder="Name, email, line, language&hellip;" aria-controls="recipient-list" aria-describedby="shown-count">
      <div class="filter-row">
        <label class="check"><input type="checkbox" id="only-warnings"> Only with warnings</label>
        <p id="shown-count" class="shown-count" aria-live="polite"></p>
      </div>
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
<script type="application/json" id="gallery-data">${jsonForScript(clientData(data))}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

/** The data the page script needs. Headers shared by many messages (From, List-Id…) are stored once. */
interface ClientData {
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
  }>;
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
    };
  });
  return { headerPool, entries };
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
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
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

function renderDiagnostics(diagnostics: GalleryDiagnostic[]): string {
  if (diagnostics.length === 0) {
    return `<p class="no-problems" id="diagnostics">No problems found.</p>`;
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

const STYLES = `
:root {
  --bg: #f3f4f6; --surface: #ffffff; --text: #1b1f24; --muted: #566170; --line: #d6dae0;
  --accent: #1d4e89; --accent-soft: #e7eef8; --ok: #1e6b34; --ok-soft: #e7f3eb;
  --warn: #8a4b00; --warn-soft: #fff3df; --warn-line: #e0a040; --err: #b42318; --err-soft: #fdecea;
  --focus: #ffbf00;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--text); background: var(--bg); font-size: 15px; line-height: 1.45;
}
* { box-sizing: border-box; }
html, body { margin: 0; }
/* The page fills the window; when the header grows tall (many problems) the page scrolls
   instead of squeezing the preview. */
body { display: flex; flex-direction: column; height: 100vh; }
[hidden] { display: none !important; }
h1, h2, p { margin: 0; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; box-shadow: 0 0 0 5px var(--text); }
.skip-link { position: absolute; left: -9999px; top: 0; background: var(--text); color: #fff; padding: 8px 12px; z-index: 10; }
.skip-link:focus { left: 8px; top: 8px; }
.muted { color: var(--muted); font-weight: 400; }

.page-head { background: var(--surface); border-bottom: 1px solid var(--line); padding: 14px 24px 12px; display: flex; flex-direction: column; gap: 10px; flex: none; }
.title-row { display: flex; align-items: flex-start; justify-content: space-between; gap: 24px; flex-wrap: wrap; }
.eyebrow { font-size: 12px; letter-spacing: 0.06em; text-transform: uppercase; color: var(--muted); font-weight: 600; }
h1 { font-size: 22px; line-height: 1.25; font-weight: 650; margin-top: 2px; }
.generated { color: var(--muted); font-size: 13px; margin-top: 2px; }
.counts { display: flex; gap: 6px; margin: 0; flex-wrap: wrap; }
.count { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; min-width: 92px; }
.count dt { font-size: 12px; color: var(--muted); }
.count dd { margin: 0; font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
.count.has-warnings { background: var(--warn-soft); border-color: var(--warn-line); }
.count.has-warnings dd { color: var(--warn); }
.count.has-errors { background: var(--err-soft); border-color: var(--err); }
.count.has-errors dd { color: var(--err); }

.banner { display: flex; gap: 10px; align-items: flex-start; border-radius: 8px; padding: 8px 12px; border: 1px solid; border-left-width: 5px; }
.banner-icon { flex: none; width: 22px; height: 22px; border-radius: 50%; color: #fff; font-weight: 700; font-size: 13px; display: inline-flex; align-items: center; justify-content: center; margin-top: 1px; }
.banner-approved { background: var(--ok-soft); border-color: var(--ok); }
.banner-approved .banner-icon { background: var(--ok); }
.banner-changed { background: var(--warn-soft); border-color: var(--warn-line); border-left-color: var(--warn); }
.banner-changed .banner-icon { background: var(--warn); }
.banner-none { background: var(--accent-soft); border-color: #a9bedb; border-left-color: var(--accent); }
.banner-none .banner-icon { background: var(--accent); }
.banner code { background: rgba(255,255,255,0.75); border: 1px solid var(--line); border-radius: 4px; padding: 1px 6px; user-select: all; }
.banner-hint { color: var(--muted); font-size: 13px; }
.change { font-weight: 600; }
.notice { display: flex; gap: 10px; align-items: center; background: var(--surface); border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; font-size: 14px; }
.notice-icon { flex: none; width: 20px; height: 20px; border-radius: 50%; border: 2px solid var(--accent); color: var(--accent); font: 700 12px/16px Georgia, serif; text-align: center; }
.no-problems { color: var(--ok); font-size: 14px; }
.diagnostics summary { cursor: pointer; font-weight: 600; font-size: 14px; padding: 2px 0; width: fit-content; }
.diagnostic-list { list-style: none; margin: 6px 0 0; padding: 0; max-height: 136px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; background: var(--surface); }
.diagnostic { display: flex; gap: 10px; align-items: baseline; padding: 4px 10px; border-top: 1px solid #eceef1; font-size: 14px; }
.diagnostic:first-child { border-top: 0; }
.severity { flex: none; font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; border-radius: 4px; padding: 1px 6px; }
.diagnostic-error .severity { background: var(--err-soft); color: var(--err); }
.diagnostic-warning .severity { background: var(--warn-soft); color: var(--warn); }
.location { color: var(--muted); flex: none; }

.layout { flex: 1 0 480px; min-height: 480px; display: grid; grid-template-columns: 340px 1fr; }
.sidebar { display: flex; flex-direction: column; min-height: 0; background: var(--surface); border-right: 1px solid var(--line); }
.filters { padding: 14px 16px 8px; border-bottom: 1px solid var(--line); }
.label { display: block; font-weight: 600; font-size: 14px; margin-bottom: 4px; }
#search { width: 100%; font: inherit; padding: 7px 10px; border: 2px solid #8a94a3; border-radius: 6px; background: #fff; }
#search:focus-visible { border-color: var(--text); }
.filter-row { display: flex; justify-content: space-between; align-items: center; margin-top: 8px; gap: 8px; }
.check { display: inline-flex; gap: 6px; align-items: center; font-size: 14px; cursor: pointer; }
.check input { width: 16px; height: 16px; margin: 0; accent-color: var(--accent); }
.shown-count { font-size: 13px; color: var(--muted); font-variant-numeric: tabular-nums; }
.recipient-list { list-style: none; margin: 0; padding: 4px 0; overflow: auto; flex: 1; min-height: 0; }
.recipient-list:focus-visible { outline-offset: -3px; box-shadow: none; }
.recipient { padding: 8px 16px 8px 13px; border-left: 3px solid transparent; cursor: pointer; border-bottom: 1px solid #eceef1; }
.recipient:hover { background: #f7f8fa; }
.recipient[aria-selected="true"] { background: var(--accent-soft); border-left-color: var(--accent); }
.recipient-list:focus-visible .recipient[aria-selected="true"] { outline: 3px solid var(--focus); outline-offset: -3px; }
.r-top { display: flex; align-items: center; gap: 6px; }
.r-name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; flex: 1; min-width: 0; }
.r-sub { display: flex; gap: 6px; font-size: 13px; color: var(--muted); }
.r-email { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
.r-line { flex: none; margin-left: auto; font-variant-numeric: tabular-nums; }
.badge { flex: none; font-size: 11px; font-weight: 700; border-radius: 999px; padding: 1px 7px; line-height: 16px; border: 1px solid; }
.badge-lang { color: var(--accent); border-color: #a9bedb; background: #fff; text-transform: uppercase; letter-spacing: 0.04em; }
.badge-warn { color: var(--warn); border-color: var(--warn-line); background: var(--warn-soft); }
.badge-unwritten { color: var(--muted); border-color: var(--line); background: var(--bg); font-weight: 600; }
.no-match { padding: 16px; color: var(--muted); }
.key-hint { order: 3; padding: 8px 16px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
kbd { font-family: inherit; font-size: 12px; font-weight: 700; line-height: 1; border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 4px; padding: 1px 4px; background: var(--bg); color: var(--text); }

.main { display: flex; flex-direction: column; min-width: 0; min-height: 0; padding: 14px 24px 16px; gap: 10px; }
.main:focus { outline: none; }
.message-head { display: flex; flex-direction: column; gap: 2px; }
.subject { font-size: 18px; font-weight: 650; line-height: 1.3; }
.to { color: var(--muted); font-size: 14px; }
.entry-warnings { margin: 6px 0 0; padding: 6px 12px 6px 28px; background: var(--warn-soft); border: 1px solid var(--warn-line); border-radius: 6px; font-size: 14px; color: #4d2a00; }
.toolbar { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; }
.tabs, .widths { display: inline-flex; border: 1px solid #8a94a3; border-radius: 7px; overflow: hidden; background: var(--surface); }
.tabs button, .widths button { font: inherit; font-size: 14px; font-weight: 600; border: 0; border-left: 1px solid var(--line); background: transparent; color: var(--text); padding: 6px 14px; cursor: pointer; }
.tabs button:first-child, .widths button:first-child { border-left: 0; }
.tabs button:hover, .widths button:hover { background: var(--accent-soft); }
.tabs button[aria-selected="true"], .widths button[aria-pressed="true"] { background: var(--accent); color: #fff; }
.widths button[aria-pressed="true"] .muted { color: #d5e1f2; }
.tabs button:focus-visible, .widths button:focus-visible { position: relative; z-index: 1; outline-offset: -3px; box-shadow: none; }
.file-links { margin-left: auto; display: inline-flex; gap: 14px; align-items: center; }
.link { color: var(--accent); font-size: 14px; }
.button-link { font-size: 14px; font-weight: 600; color: var(--accent); border: 1px solid var(--accent); border-radius: 7px; padding: 5px 12px; text-decoration: none; background: var(--surface); }
.button-link:hover { background: var(--accent-soft); }
.not-written { background: var(--bg); }

.panel { flex: 1; min-height: 0; }
.stage { display: flex; justify-content: center; background: #e4e7eb; border: 1px solid var(--line); border-radius: 8px; padding: 0; overflow: hidden; }
.stage iframe { display: block; width: 100%; height: 100%; border: 0; background: #fff; }
.stage.is-mobile { padding: 16px 0; }
.stage.is-mobile iframe { width: 375px; flex: none; border-radius: 6px; box-shadow: 0 0 0 1px #b9c0ca, 0 6px 18px rgba(20, 30, 45, 0.18); }
.headers-panel { overflow: auto; background: var(--surface); border: 1px solid var(--line); border-radius: 8px; }
#headers-table { border-collapse: collapse; width: 100%; font-size: 14px; }
#headers-table th, #headers-table td { text-align: left; vertical-align: top; padding: 7px 12px; border-bottom: 1px solid #eceef1; }
#headers-table thead th { position: sticky; top: 0; background: var(--bg); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); }
#headers-table tbody th { white-space: nowrap; font-weight: 600; width: 1%; }
#headers-table td { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 13px; overflow-wrap: anywhere; }
.empty-state { color: var(--muted); }

@media (max-width: 800px) {
  .layout { grid-template-columns: 1fr; grid-template-rows: 40vh 1fr; }
  .sidebar { border-right: 0; border-bottom: 1px solid var(--line); }
  .main { min-height: 70vh; }
}
`;

// Runs in the browser. Plain ES2015, no template literals; every value goes in through textContent.
const CLIENT_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('gallery-data').textContent);
  var entries = data.entries;
  var pool = data.headerPool;
  var $ = function (id) { return document.getElementById(id); };
  var list = $('recipient-list');
  var search = $('search');
  var onlyWarnings = $('only-warnings');
  var frame = $('preview-frame');
  var textFrame = $('text-frame');
  var tabs = Array.prototype.slice.call(document.querySelectorAll('[role="tab"]'));
  var stages = [$('panel-html'), $('panel-text')];
  var items = [];
  var haystacks = [];
  var visible = [];
  var selected = -1;
  var activeTab = 'html';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fold(text) {
    return String(text).toLowerCase().normalize('NFD').replace(/[\\u0300-\\u036f]/g, '');
  }
  function num(n) { return n.toLocaleString('en-GB'); }
  function plural(n, word) { return num(n) + ' ' + word + (n === 1 ? '' : 's'); }

  document.querySelectorAll('time[datetime]').forEach(function (node) {
    var iso = node.getAttribute('datetime');
    var date = new Date(iso);
    if (isNaN(date.getTime())) return;
    node.title = iso;
    node.textContent = date.toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' });
  });

  var fragment = document.createDocumentFragment();
  entries.forEach(function (entry, i) {
    var li = el('li', 'recipient');
    li.id = 'recipient-' + i;
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', 'false');
    li.setAttribute('data-testid', 'recipient');
    li.setAttribute('data-index', String(i));
    var top = el('span', 'r-top');
    top.appendChild(el('span', 'r-name', entry.name || entry.email));
    if (entry.language) {
      var lang = el('span', 'badge badge-lang', entry.language);
      lang.title = 'Language: ' + entry.language;
      top.appendChild(lang);
    }
    if (entry.warnings.length > 0) {
      var warn = el('span', 'badge badge-warn', plural(entry.warnings.length, 'warning'));
      warn.title = entry.warnings.join('\\n');
      top.appendChild(warn);
    }
    if (!entry.files) top.appendChild(el('span', 'badge badge-unwritten', 'not written'));
    var sub = el('span', 'r-sub');
    if (entry.name) sub.appendChild(el('span', 'r-email', entry.email));
    sub.appendChild(el('span', 'r-line', 'line ' + entry.line));
    li.appendChild(top);
    li.appendChild(sub);
    fragment.appendChild(li);
    items.push(li);
    haystacks.push(fold([entry.name || '', entry.email, 'line ' + entry.line, entry.language || '', entry.subject].concat(entry.warnings).join('\\n')));
  });
  list.appendChild(fragment);

  function applyFilter() {
    var terms = fold(search.value).split(/\\s+/).filter(Boolean);
    var warningsOnly = onlyWarnings.checked;
    visible = [];
    for (var i = 0; i < entries.length; i++) {
      var show = (!warningsOnly || entries[i].warnings.length > 0) && terms.every(function (t) { return haystacks[i].indexOf(t) !== -1; });
      if (items[i].hidden === show) items[i].hidden = !show;
      if (show) visible.push(i);
    }
    $('shown-count').textContent = num(visible.length) + ' of ' + num(entries.length) + ' shown';
    $('no-match').hidden = visible.length > 0 || entries.length === 0;
  }

  function loadText() {
    var entry = entries[selected];
    if (activeTab !== 'text' || !entry || !entry.files) return;
    if (textFrame.getAttribute('src') !== entry.files.text) textFrame.setAttribute('src', entry.files.text);
  }

  function select(i) {
    var entry = entries[i];
    if (!entry) return;
    if (selected >= 0) items[selected].setAttribute('aria-selected', 'false');
    selected = i;
    items[i].setAttribute('aria-selected', 'true');
    list.setAttribute('aria-activedescendant', items[i].id);
    items[i].scrollIntoView({ block: 'nearest' });

    $('selected-subject').textContent = entry.subject;
    $('selected-to').textContent = 'To ' + (entry.name ? entry.name + ' <' + entry.email + '>' : entry.email) +
      ' \\u00b7 CSV line ' + entry.line + (entry.language ? ' \\u00b7 language ' + entry.language : '');
    var warnings = $('selected-warnings');
    warnings.replaceChildren();
    entry.warnings.forEach(function (w) { warnings.appendChild(el('li', '', w)); });
    warnings.hidden = entry.warnings.length === 0;

    var body = $('headers-table').tBodies[0];
    body.replaceChildren();
    entry.headers.forEach(function (index) {
      var header = pool[index];
      var row = el('tr');
      var name = el('th', '', header[0]);
      name.scope = 'row';
      row.appendChild(name);
      row.appendChild(el('td', '', header[1]));
      body.appendChild(row);
    });

    var written = !!entry.files;
    $('not-written').hidden = written;
    $('download-eml').hidden = !written;
    $('open-html').hidden = !written;
    stages.forEach(function (stage) { stage.classList.toggle('unwritten', !written); });
    if (written) {
      frame.setAttribute('src', entry.files.html);
      $('open-html').href = entry.files.html;
      $('download-eml').href = entry.files.eml;
      $('download-eml').setAttribute('download', decodeURIComponent(entry.files.eml.split('/').pop()));
      loadText();
    } else {
      frame.removeAttribute('src');
      textFrame.removeAttribute('src');
    }
    showPanels();
  }

  function showPanels() {
    var entry = entries[selected];
    var written = !!(entry && entry.files);
    tabs.forEach(function (tab) {
      var on = tab.getAttribute('data-tab') === activeTab;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      var panel = $(tab.getAttribute('aria-controls'));
      panel.hidden = !on || (!written && panel.classList.contains('stage'));
    });
  }

  function showTab(name, focus) {
    activeTab = name;
    $('widths').hidden = name === 'headers';
    showPanels();
    loadText();
    if (focus) $('tab-' + name).focus();
  }

  function setWidth(mode) {
    var mobile = mode === 'mobile';
    stages.forEach(function (stage) { stage.classList.toggle('is-mobile', mobile); });
    $('toggle-mobile').setAttribute('aria-pressed', mobile ? 'true' : 'false');
    $('toggle-desktop').setAttribute('aria-pressed', mobile ? 'false' : 'true');
  }

  function move(delta) {
    if (visible.length === 0) return;
    var at = visible.indexOf(selected);
    var next;
    if (delta === Infinity) next = visible.length - 1;
    else if (delta === -Infinity) next = 0;
    else if (at === -1) next = delta > 0 ? 0 : visible.length - 1;
    else next = Math.min(visible.length - 1, Math.max(0, at + delta));
    select(visible[next]);
  }

  var keys = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: -Infinity, End: Infinity };
  list.addEventListener('keydown', function (event) {
    if (!(event.key in keys)) return;
    event.preventDefault();
    move(keys[event.key]);
  });
  search.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      move(keys[event.key]);
    } else if (event.key === 'Enter' && visible.length > 0 && visible.indexOf(selected) === -1) {
      select(visible[0]);
    }
  });
  document.addEventListener('keydown', function (event) {
    if (event.target !== document.body || !(event.key === 'ArrowDown' || event.key === 'ArrowUp')) return;
    event.preventDefault();
    move(keys[event.key]);
  });
  list.addEventListener('click', function (event) {
    var item = event.target.closest('[data-testid="recipient"]');
    if (!item) return;
    select(Number(item.getAttribute('data-index')));
  });
  search.addEventListener('input', applyFilter);
  onlyWarnings.addEventListener('change', applyFilter);

  tabs.forEach(function (tab, i) {
    tab.addEventListener('click', function () { showTab(tab.getAttribute('data-tab'), false); });
    tab.addEventListener('keydown', function (event) {
      var step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      event.preventDefault();
      var next = tabs[(i + step + tabs.length) % tabs.length];
      showTab(next.getAttribute('data-tab'), true);
    });
  });
  $('toggle-desktop').addEventListener('click', function () { setWidth('desktop'); });
  $('toggle-mobile').addEventListener('click', function () { setWidth('mobile'); });

  applyFilter();
  if (entries.length > 0) {
    select(0);
  } else {
    $('selected-subject').textContent = 'No recipients to preview';
    $('selected-to').textContent = 'The recipient list is empty, or every row was suppressed.';
    document.querySelector('.toolbar').hidden = true;
    $('key-hint').hidden = true;
    stages.forEach(function (stage) { stage.hidden = true; });
  }
})();
`;
