/**
 * preview/index.html: one self-contained page (inline CSS and JS, no requests beyond the
 * preview's own files) that a reviewer opens from disk to browse every message.
 */

export interface GalleryEntry {
  email: string;
  name?: string;
  line: number;
  language?: string;
  subject: string;
  /** Paths relative to index.html; absent when the message was rendered but its files not written. */
  files?: { html: string; text: string; eml: string };
  /** The message headers exactly as they will be sent. */
  headers: Array<[string, string]>;
  warnings: string[];
}

export type GalleryApproval =
  | { state: 'approved'; by: string; at: string }
  | { state: 'changed'; by: string; at: string; changes: string[] }
  | { state: 'none'; command: string };

export interface GalleryData {
  campaign: string;
  /** ISO time, passed in (no clock here). */
  generatedAt: string;
  counts: { recipients: number; written: number; warnings: number; errors: number; suppressed: number };
  diagnostics: Array<{ location: string; severity: 'error' | 'warning'; message: string }>;
  approval: GalleryApproval;
  entries: GalleryEntry[];
  truncatedNote?: string;
}

/** JSON that is safe inside a <script> element: no `<` can close it. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderGalleryHtml(data: GalleryData): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview: ${escapeHtml(data.campaign)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
  <div class="title">
    <h1>${escapeHtml(data.campaign)}</h1>
    <p class="meta">Preview made ${escapeHtml(data.generatedAt)} · nothing has been sent</p>
  </div>
  <dl class="counts">
    <div><dt>Recipients</dt><dd>${data.counts.recipients}</dd></div>
    <div><dt>Previewed</dt><dd>${data.counts.written}</dd></div>
    <div><dt>Suppressed</dt><dd>${data.counts.suppressed}</dd></div>
    <div class="${data.counts.warnings > 0 ? 'warn' : ''}"><dt>Warnings</dt><dd>${data.counts.warnings}</dd></div>
    <div class="${data.counts.errors > 0 ? 'err' : ''}"><dt>Errors</dt><dd>${data.counts.errors}</dd></div>
  </dl>
</header>
<div id="approval" class="banner" role="status"></div>
${data.truncatedNote ? `<p class="banner note">${escapeHtml(data.truncatedNote)}</p>` : ''}
<details id="diagnostics" class="diagnostics"${data.counts.errors > 0 ? ' open' : ''}>
  <summary>${data.diagnostics.length === 0 ? 'No problems found' : `${data.diagnostics.length} problem${data.diagnostics.length === 1 ? '' : 's'} found`}</summary>
  <ul id="diagnostic-list"></ul>
</details>
<main class="layout">
  <nav class="sidebar" aria-label="Recipients">
    <label for="search" class="search-label">Find a recipient</label>
    <input id="search" type="search" placeholder="Name, address, school…" autocomplete="off">
    <p id="shown" class="shown" aria-live="polite"></p>
    <ul id="recipients" class="recipients" role="listbox" aria-label="Recipients"></ul>
  </nav>
  <section class="viewer" aria-label="Message">
    <div id="message-head" class="message-head"></div>
    <div class="toolbar">
      <div class="tabs" role="tablist">
        <button type="button" role="tab" data-tab="html" aria-selected="true">Message</button>
        <button type="button" role="tab" data-tab="text" aria-selected="false">Plain text</button>
        <button type="button" role="tab" data-tab="headers" aria-selected="false">Headers</button>
      </div>
      <div class="widths" role="group" aria-label="Screen width">
        <button type="button" id="toggle-desktop" aria-pressed="true">Desktop</button>
        <button type="button" id="toggle-mobile" aria-pressed="false">Mobile (375 px)</button>
      </div>
      <a id="download-eml" class="download" href="#" download>Download .eml</a>
    </div>
    <div class="stage" id="stage">
      <iframe id="preview-frame" title="Rendered message" sandbox="allow-same-origin allow-popups"></iframe>
      <iframe id="text-frame" title="Plain-text part" sandbox="allow-same-origin" hidden></iframe>
      <table id="headers-table" class="headers" hidden><tbody></tbody></table>
      <p id="no-files" class="no-files" hidden>This message was rendered and checked, but its files were not written (see the note above). Run <code>bulletin preview --only ADDRESS</code> to see it.</p>
    </div>
  </section>
</main>
<script type="application/json" id="gallery-data">${scriptJson({ approval: data.approval, diagnostics: data.diagnostics, entries: data.entries })}</script>
<script src="approval.js"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/**
 * preview/approval.js: the approval banner's data, kept in its own file so that `approve` can
 * update what an already-written gallery shows without rendering it again.
 */
export function renderApprovalScript(approval: GalleryApproval): string {
  return `window.bulletinApproval = ${scriptJson(approval)};\n`;
}

const STYLE = `
:root { --ink:#1f2933; --muted:#52606d; --line:#d9e2ec; --bg:#f5f7fa; --accent:#1b3a5c; --ok:#1e6b3a; --okbg:#e3f4e8; --warn:#8a5a00; --warnbg:#fff4d6; --err:#a61b1b; --errbg:#fde8e8; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color:var(--ink); background:var(--bg); }
button, input { font:inherit; }
:focus-visible { outline:3px solid #4c9aff; outline-offset:2px; }
.top { display:flex; flex-wrap:wrap; gap:16px; align-items:center; justify-content:space-between; padding:14px 20px; background:#fff; border-bottom:1px solid var(--line); }
h1 { margin:0; font-size:20px; }
.meta { margin:2px 0 0; color:var(--muted); font-size:13px; }
.counts { display:flex; gap:18px; margin:0; }
.counts div { text-align:center; }
.counts dt { font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
.counts dd { margin:0; font-size:20px; font-weight:600; }
.counts .warn dd { color:var(--warn); } .counts .err dd { color:var(--err); }
.banner { margin:12px 20px 0; padding:10px 14px; border-radius:6px; border:1px solid var(--line); background:#fff; }
.banner.approved { background:var(--okbg); border-color:#9bd3ad; color:var(--ok); }
.banner.changed { background:var(--warnbg); border-color:#f0cf7a; color:var(--warn); }
.banner.none { background:#eef2f7; }
.banner code, .no-files code { background:rgba(0,0,0,.06); padding:1px 5px; border-radius:4px; }
.banner ul { margin:6px 0 0; padding-left:20px; }
.banner.note { background:#eef2f7; }
.diagnostics { margin:12px 20px 0; background:#fff; border:1px solid var(--line); border-radius:6px; padding:8px 14px; }
.diagnostics summary { cursor:pointer; font-weight:600; }
.diagnostics ul { margin:8px 0 4px; padding-left:0; list-style:none; font-family:ui-monospace, Menlo, Consolas, monospace; font-size:13px; }
.diagnostics li { padding:2px 0; } .diagnostics .error { color:var(--err); } .diagnostics .warning { color:var(--warn); }
.layout { display:grid; grid-template-columns:300px 1fr; gap:16px; padding:16px 20px 20px; height:calc(100vh - 150px); min-height:480px; }
.sidebar { display:flex; flex-direction:column; background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px; min-height:0; }
.search-label { font-size:13px; font-weight:600; margin-bottom:4px; }
#search { width:100%; padding:8px 10px; border:1px solid #9aa5b1; border-radius:6px; }
.shown { margin:6px 0; font-size:13px; color:var(--muted); }
.recipients { list-style:none; margin:0; padding:0; overflow:auto; flex:1; }
.recipients li { padding:8px 10px; border-radius:6px; cursor:pointer; border:1px solid transparent; }
.recipients li:hover { background:#f0f4f8; }
.recipients li[aria-selected="true"] { background:#e6eef7; border-color:#9fb3c8; }
.recipients .who { font-weight:600; display:block; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.recipients .addr { font-size:13px; color:var(--muted); display:block; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.badge { display:inline-block; font-size:11px; padding:0 6px; border-radius:10px; margin-left:4px; vertical-align:1px; background:#e4e7eb; color:var(--ink); font-weight:600; }
.badge.warn { background:var(--warnbg); color:var(--warn); }
.viewer { display:flex; flex-direction:column; background:#fff; border:1px solid var(--line); border-radius:8px; min-height:0; }
.message-head { padding:12px 16px 8px; border-bottom:1px solid var(--line); }
.message-head .subject { font-weight:600; font-size:16px; }
.message-head .to { color:var(--muted); font-size:13px; }
.message-head .warnings { margin:6px 0 0; padding-left:18px; color:var(--warn); font-size:13px; }
.toolbar { display:flex; flex-wrap:wrap; gap:12px; align-items:center; padding:8px 16px; border-bottom:1px solid var(--line); }
.tabs, .widths { display:flex; gap:4px; }
.toolbar button { border:1px solid #9aa5b1; background:#fff; border-radius:6px; padding:5px 12px; cursor:pointer; }
.toolbar button[aria-selected="true"], .toolbar button[aria-pressed="true"] { background:var(--accent); color:#fff; border-color:var(--accent); }
.download { margin-left:auto; color:var(--accent); }
.stage { flex:1; overflow:auto; background:#e9edf2; padding:16px; display:flex; justify-content:center; min-height:0; }
.stage iframe { border:0; background:#fff; width:100%; height:100%; min-height:400px; box-shadow:0 1px 4px rgba(0,0,0,.15); }
.stage.mobile #preview-frame { width:375px; flex:none; }
.headers { border-collapse:collapse; background:#fff; width:100%; align-self:flex-start; font-size:13px; }
.headers th, .headers td { text-align:left; vertical-align:top; padding:6px 10px; border-bottom:1px solid var(--line); }
.headers th { white-space:nowrap; color:var(--muted); font-weight:600; width:1%; }
.headers td { font-family:ui-monospace, Menlo, Consolas, monospace; word-break:break-all; }
.no-files { align-self:flex-start; background:#fff; padding:16px; border-radius:6px; }
@media (max-width: 800px) { .layout { grid-template-columns:1fr; height:auto; } .sidebar { max-height:40vh; } .stage { min-height:70vh; } }
`;

// The page script: plain ES2017, no libraries; every value reaches the page through textContent.
const SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('gallery-data').textContent);
  var entries = data.entries;
  var approval = window.bulletinApproval || data.approval;
  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  var selected = -1, tab = 'html', visible = [];

  function showApproval() {
    var box = $('approval'); box.textContent = ''; box.className = 'banner ' + approval.state;
    if (approval.state === 'approved') {
      box.appendChild(el('strong', '', 'Approved')); box.appendChild(document.createTextNode(' by ' + approval.by + ' on ' + approval.at + '. This is the content that will be sent.'));
    } else if (approval.state === 'changed') {
      box.appendChild(el('strong', '', 'Changed since approval')); box.appendChild(document.createTextNode(' (approved by ' + approval.by + ' on ' + approval.at + '). What changed:'));
      var ul = el('ul'); approval.changes.forEach(function (c) { ul.appendChild(el('li', '', c)); }); box.appendChild(ul);
    } else {
      box.appendChild(el('strong', '', 'Not approved yet.')); box.appendChild(document.createTextNode(' After reviewing, approve it with: '));
      box.appendChild(el('code', '', approval.command));
    }
  }

  function showDiagnostics() {
    var list = $('diagnostic-list');
    data.diagnostics.forEach(function (d) { list.appendChild(el('li', d.severity, d.location + ': ' + d.severity + ': ' + d.message)); });
  }

  function label(e) { return e.name || e.email; }

  function renderList() {
    var q = $('search').value.trim().toLowerCase();
    var list = $('recipients'); list.textContent = ''; visible = [];
    entries.forEach(function (e, i) {
      var hay = [e.name || '', e.email, e.subject, e.language || '', String(e.line)].join(' ').toLowerCase();
      if (q && hay.indexOf(q) === -1) return;
      visible.push(i);
      var li = el('li'); li.setAttribute('role', 'option'); li.setAttribute('data-testid', 'recipient'); li.setAttribute('data-index', String(i));
      li.setAttribute('aria-selected', i === selected ? 'true' : 'false'); li.tabIndex = -1;
      var who = el('span', 'who', label(e));
      if (e.language) who.appendChild(el('span', 'badge', e.language));
      if (e.warnings.length) who.appendChild(el('span', 'badge warn', e.warnings.length + ' warning' + (e.warnings.length === 1 ? '' : 's')));
      li.appendChild(who); li.appendChild(el('span', 'addr', e.email + ' · line ' + e.line));
      li.addEventListener('click', function () { select(i); });
      list.appendChild(li);
    });
    $('shown').textContent = visible.length + ' of ' + entries.length + ' shown';
  }

  function select(i) {
    selected = i; var e = entries[i];
    Array.prototype.forEach.call(document.querySelectorAll('[data-testid=recipient]'), function (li) {
      var on = Number(li.getAttribute('data-index')) === i; li.setAttribute('aria-selected', on ? 'true' : 'false'); if (on) li.scrollIntoView({ block: 'nearest' });
    });
    var head = $('message-head'); head.textContent = '';
    head.appendChild(el('div', 'subject', e.subject));
    head.appendChild(el('div', 'to', 'To: ' + (e.name ? e.name + ' <' + e.email + '>' : e.email) + ' · recipients.csv line ' + e.line + (e.language ? ' · ' + e.language : '')));
    if (e.warnings.length) { var ul = el('ul', 'warnings'); e.warnings.forEach(function (w) { ul.appendChild(el('li', '', w)); }); head.appendChild(ul); }
    var body = $('headers-table').tBodies[0]; body.textContent = '';
    e.headers.forEach(function (h) { var tr = el('tr'); tr.appendChild(el('th', '', h[0])); tr.appendChild(el('td', '', h[1])); body.appendChild(tr); });
    if (e.files) {
      $('preview-frame').src = e.files.html; $('text-frame').src = e.files.text;
      $('download-eml').href = e.files.eml; $('download-eml').hidden = false;
    } else { $('preview-frame').removeAttribute('src'); $('text-frame').removeAttribute('src'); $('download-eml').hidden = true; }
    showTab(tab);
  }

  function showTab(name) {
    tab = name; var e = entries[selected]; var hasFiles = !!(e && e.files);
    Array.prototype.forEach.call(document.querySelectorAll('[data-tab]'), function (b) { b.setAttribute('aria-selected', b.getAttribute('data-tab') === name ? 'true' : 'false'); });
    $('preview-frame').hidden = !(name === 'html' && hasFiles);
    $('text-frame').hidden = !(name === 'text' && hasFiles);
    $('headers-table').hidden = name !== 'headers';
    $('no-files').hidden = hasFiles || name === 'headers';
  }

  function setWidth(mobile) {
    $('stage').classList.toggle('mobile', mobile);
    $('toggle-mobile').setAttribute('aria-pressed', mobile ? 'true' : 'false');
    $('toggle-desktop').setAttribute('aria-pressed', mobile ? 'false' : 'true');
  }

  $('search').addEventListener('input', function () { renderList(); if (visible.length && visible.indexOf(selected) === -1) select(visible[0]); });
  Array.prototype.forEach.call(document.querySelectorAll('[data-tab]'), function (b) { b.addEventListener('click', function () { showTab(b.getAttribute('data-tab')); }); });
  $('toggle-mobile').addEventListener('click', function () { setWidth(true); });
  $('toggle-desktop').addEventListener('click', function () { setWidth(false); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    if (ev.target && ev.target.tagName === 'INPUT' && ev.target.type !== 'search') return;
    var pos = visible.indexOf(selected); if (!visible.length) return;
    var next = ev.key === 'ArrowDown' ? Math.min(visible.length - 1, pos + 1) : Math.max(0, pos - 1);
    ev.preventDefault(); select(visible[next]);
  });

  showApproval(); showDiagnostics(); renderList(); if (entries.length) select(0);
})();
`;
