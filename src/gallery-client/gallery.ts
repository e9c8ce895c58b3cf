// The gallery's page script. Runs in the browser as a classic script (no imports or exports:
// the page allows this one script by its hash and nothing else), compiled by
// scripts/gallery-assets.js into src/core/gallery-assets.ts. Every value goes in through
// textContent, never as HTML.

interface ClientEntry {
  email: string;
  name: string | null;
  line: number;
  language: string | null;
  subject: string;
  files: { html: string; text: string; eml: string } | null;
  headers: number[];
  warnings: string[];
  /** The entry's row in the index (null in a page made without one). */
  seq?: number | null;
}

interface ClientData {
  /** Present when `preview --watch` serves the page. */
  live?: { version: number; events: string };
  headerPool: Array<[string, string]>;
  entries: ClientEntry[];
  versions?: VersionSummary[];
  /** The first recipients' index (core/gallery-index.ts); the rest, if any, is in #gallery-index. */
  index?: PageIndex | null;
  /** Recipients in the whole index. */
  recipients?: number;
  /** A live gallery's URL for any recipient's files: `{seq}` and `{ext}` filled in. */
  renderUrl?: string | null;
}

/** What the live server answers for a recipient rendered on demand (GalleryEntry in src/core/gallery.ts). */
interface RenderedEntry {
  email: string;
  name?: string;
  line: number;
  language?: string;
  subject: string;
  headers: Array<[string, string]>;
  warnings: string[];
}

type Tab = 'html' | 'text' | 'headers';
type Width = 'desktop' | 'mobile';

/** Mirrors LiveProblem, LiveState and LiveMessages in src/core/gallery.ts. */
interface LiveProblem {
  location: string;
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
  source?: string;
}
interface LiveState {
  version: number;
  problems: LiveProblem[];
  at: string;
}
interface LiveMessages {
  version: number;
  files: string[];
}

/** What the reviewer was looking at, kept across the reloads `preview --watch` makes when the recipients change. */
interface ViewState {
  email: string | null;
  line: number | null;
  tab: Tab;
  width: Width;
  search: string;
  onlyWarnings: boolean;
  pageScroll: number;
  listScroll: number;
  frameScroll: number;
  textScroll: number;
}

(function () {
  /** An element the page is known to contain; a missing one is a bug in the page, not data. */
  function $<T extends HTMLElement = HTMLElement>(id: string): T {
    const node = document.getElementById(id);
    if (!node) throw new Error(`gallery: no #${id}`);
    return node as T;
  }

  const data = JSON.parse($('gallery-data').textContent ?? '') as ClientData;
  // Replaced in place when `preview --watch` renders again (see update()).
  let entries = data.entries;
  let pool = data.headerPool;
  const list = $<HTMLUListElement>('recipient-list');
  const search = $<HTMLInputElement>('search');
  const onlyWarnings = $<HTMLInputElement>('only-warnings');
  const frame = $<HTMLIFrameElement>('preview-frame');
  const textFrame = $<HTMLIFrameElement>('text-frame');
  const tabs = Array.from(document.querySelectorAll<HTMLElement>('[role="tab"]'));
  const stages = [$('panel-html'), $('panel-text')];
  let versions = data.versions ?? [];
  // Every recipient (written or not) by seq; a page without an index lists its entries. A long
  // list's index arrives in two parts: the first rows now, every row once the page has loaded.
  let index: RecipientIndex = data.index ? unpackIndex(data.index) : {
    email: entries.map(function (e) { return e.email; }),
    name: entries.map(function (e) { return e.name ?? ''; }),
    line: entries.map(function (e) { return e.line; }),
    version: entries.map(function () { return 0; }),
    columns: [],
    values: [],
    warnings: entries.map(function (e, i): [number, string[]] { return [i, e.warnings]; }).filter(function (w) { return w[1].length > 0; }),
  };
  const total = data.recipients ?? index.email.length;
  let loaded = index.email.length;
  let filterPending = false;
  const entryOf = new Map<number, number>();
  entries.forEach(function (entry, i) { entryOf.set(entry.seq ?? i, i); });
  let warningsOf = new Map<number, string[]>(index.warnings);
  /** The rendering shown: a live page asks for `file?v=N`, so a file rendered again is loaded again. */
  let shownVersion = data.live ? data.live.version : 0;
  // A live gallery's address for any recipient's files; it names the rendering, so it changes with it.
  let renderUrl = data.renderUrl ?? null;
  function fileUrl(href: string): string {
    return data.live ? href + '?v=' + shownVersion : href;
  }
  let versionFilter = 0;
  let selected = -1;
  let activeTab: Tab = 'html';
  let width: Width = 'desktop';

  function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string | number | null): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function num(n: number): string {
    return n.toLocaleString('en-GB');
  }
  function plural(n: number, word: string): string {
    return num(n) + ' ' + word + (n === 1 ? '' : 's');
  }

  function showTimes(root: ParentNode): void {
    root.querySelectorAll('time[datetime]').forEach(function (node) {
      const iso = node.getAttribute('datetime') ?? '';
      const date = new Date(iso);
      if (isNaN(date.getTime())) return;
      (node as HTMLElement).title = iso;
      node.textContent = date.toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' });
    });
  }
  showTimes(document);

  const recipients = createRecipientList({
    list: list,
    count: total,
    renderRow: function (seq, li) {
      if (seq >= loaded) {
        li.setAttribute('aria-busy', 'true');
        li.appendChild(el('span', 'r-top', '\u2026'));
        li.appendChild(el('span', 'r-sub', 'loading'));
        return;
      }
      const name = valueAt(index.name, seq);
      const email = index.email[seq] ?? '';
      const warnings = warningsOf.get(seq) ?? [];
      const version = index.version[seq] ?? 0;
      const top = el('span', 'r-top');
      top.appendChild(el('span', 'r-name', name || email));
      if (versions.length > 1 && version > 0) {
        const badge = el('span', 'badge badge-version', 'v' + version);
        badge.title = 'Version ' + version + ' of the message';
        top.appendChild(badge);
      }
      if (warnings.length > 0) {
        const warn = el('span', 'badge badge-warn', plural(warnings.length, 'warning'));
        warn.title = warnings.join('\n');
        top.appendChild(warn);
      }
      if (!entryOf.has(seq)) {
        const badge = el('span', 'badge badge-unwritten', renderUrl ? 'not yet rendered' : 'by example');
        badge.title = renderUrl ? 'No files were written for this recipient: pick them and the live preview renders their message' : 'No files were written for this recipient: picking them shows their version\u2019s example beside their own values';
        top.appendChild(badge);
      }
      const sub = el('span', 'r-sub');
      if (name) sub.appendChild(el('span', 'r-email', email));
      sub.appendChild(el('span', 'r-line', 'line ' + (index.line[seq] ?? '')));
      li.appendChild(top);
      li.appendChild(sub);
    },
    searchText: function (seq) {
      const parts = [valueAt(index.name, seq), index.email[seq] ?? '', 'line ' + (index.line[seq] ?? '')];
      for (const column of index.values) parts.push(valueAt(column, seq));
      const entry = entries[entryOf.get(seq) ?? -1];
      if (entry) parts.push(entry.language ?? '', entry.subject);
      return parts.concat(warningsOf.get(seq) ?? []).join('\t');
    },
    onSelect: showRecipient,
  });

  function applyFilter(): void {
    const warningsOnly = onlyWarnings.checked;
    if (loaded < total && (warningsOnly || versionFilter > 0 || search.value.trim() !== '')) {
      // Searched before every recipient is read: the search runs once they are.
      filterPending = true;
      $('shown-count').textContent = 'Reading all ' + num(total) + ' recipients\u2026';
      return;
    }
    const keep = warningsOnly || versionFilter > 0
      ? function (seq: number): boolean { return (!warningsOnly || warningsOf.has(seq)) && (versionFilter === 0 || index.version[seq] === versionFilter); }
      : null;
    const shown = recipients.filter(search.value, keep);
    $('shown-count').textContent = num(shown) + ' of ' + num(total) + ' shown' + (versionFilter > 0 ? ' (version ' + versionFilter + ')' : '');
    $('no-match').hidden = shown > 0 || total === 0;
    $('version-filter').hidden = versionFilter === 0;
    $('version-filter-label').textContent = 'Version ' + versionFilter + ' only';
  }

  /** A recipient picked before every entry was read (see readWholeIndex). */
  let waitingFor = -1;

  /** Show a recipient: their own files, else their version's example beside their values. */
  function showRecipient(seq: number): void {
    const own = entryOf.get(seq);
    // Until every entry is read, a recipient without one may yet have one: shown once it is read.
    if (own === undefined && loaded < total) {
      waitingFor = seq;
      $('selected-subject').textContent = 'Reading the list\u2026';
      $('selected-to').textContent = 'To ' + (index.email[seq] ?? '') + ' \u00b7 CSV line ' + (index.line[seq] ?? '');
      return;
    }
    waitingFor = -1;
    const panel = $('own-values');
    if (own !== undefined) {
      panel.hidden = true;
      select(own);
      return;
    }
    if (renderUrl) {
      renderOnDemand(seq, renderUrl);
      return;
    }
    const version = versions[(index.version[seq] ?? 0) - 1];
    const exampleSeq = version ? version.example : -1;
    const example = entryOf.get(exampleSeq);
    if (example !== undefined) select(example);
    showOwnValues(panel, index, seq, version, exampleSeq);
    panel.hidden = false;
    const name = valueAt(index.name, seq);
    const email = index.email[seq] ?? '';
    $('selected-to').textContent = 'To ' + (name ? name + ' <' + email + '>' : email) + ' \u00b7 CSV line ' + (index.line[seq] ?? '') +
      (version ? ' \u00b7 version ' + version.number + ', shown by its example' : '');
    const warnings = $('selected-warnings');
    warnings.replaceChildren();
    (warningsOf.get(seq) ?? []).forEach(function (w) { warnings.appendChild(el('li', '', w)); });
    warnings.hidden = !warningsOf.has(seq);
  }

  /** A live gallery renders a recipient it wrote no files for the moment they are picked. */
  function renderOnDemand(seq: number, template: string): void {
    const url = function (ext: string): string { return template.replace('{seq}', String(seq)).replace('{ext}', ext); };
    const panel = $('own-values');
    panel.hidden = true;
    $('selected-subject').textContent = 'Rendering\u2026';
    $('selected-to').textContent = 'To ' + (index.email[seq] ?? '') + ' \u00b7 CSV line ' + (index.line[seq] ?? '');
    fetch(url('json'), { cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status === 410 ? 'stale' : 'failed');
        return response.json() as Promise<RenderedEntry>;
      })
      .then(function (rendered) {
        // The entry joins those with files, so picking them again shows it at once.
        const headers = rendered.headers.map(function (pair) { return pool.push(pair) - 1; });
        entries.push({
          email: rendered.email,
          name: rendered.name ?? null,
          line: rendered.line,
          language: rendered.language ?? null,
          subject: rendered.subject,
          files: { html: url('html'), text: url('txt'), eml: url('eml') },
          headers: headers,
          warnings: rendered.warnings,
          seq: seq,
        });
        entryOf.set(seq, entries.length - 1);
        recipients.redraw();
        if (recipients.selected() === seq) select(entries.length - 1);
      })
      .catch(function (err: unknown) {
        if (recipients.selected() !== seq) return;
        $('selected-subject').textContent = err instanceof Error && err.message === 'stale'
          ? 'A newer preview was written: it shows in a moment'
          : 'This recipient could not be rendered: see the terminal running preview --watch';
      });
  }

  wireVersions({
    selectSeq: function (seq) {
      if (!recipients.isShown(seq)) {
        search.value = '';
        versionFilter = 0;
        applyFilter();
      }
      recipients.select(seq);
    },
    filterVersion: function (version) {
      versionFilter = version;
      applyFilter();
      const first = recipients.first();
      if (first !== undefined) recipients.select(first);
    },
  });
  $('version-filter-clear').addEventListener('click', function () {
    versionFilter = 0;
    applyFilter();
  });

  function loadText(): void {
    const entry = entries[selected];
    if (activeTab !== 'text' || !entry || !entry.files) return;
    const url = fileUrl(entry.files.text);
    if (textFrame.getAttribute('src') !== url) textFrame.setAttribute('src', url);
  }

  function select(i: number): void {
    const entry = entries[i];
    if (!entry) return;
    selected = i;

    $('selected-subject').textContent = entry.subject;
    $('selected-to').textContent = 'To ' + (entry.name ? entry.name + ' <' + entry.email + '>' : entry.email) +
      ' \u00b7 CSV line ' + entry.line + (entry.language ? ' \u00b7 language ' + entry.language : '');
    const warnings = $('selected-warnings');
    warnings.replaceChildren();
    entry.warnings.forEach(function (w) { warnings.appendChild(el('li', '', w)); });
    warnings.hidden = entry.warnings.length === 0;

    const body = $<HTMLTableElement>('headers-table').tBodies[0];
    if (body) {
      body.replaceChildren();
      entry.headers.forEach(function (index) {
        const header = pool[index];
        if (!header) return;
        const row = el('tr');
        const name = el('th', '', header[0]);
        name.scope = 'row';
        row.appendChild(name);
        row.appendChild(el('td', '', header[1]));
        body.appendChild(row);
      });
    }

    const files = entry.files;
    const written = !!files;
    const openHtml = $<HTMLAnchorElement>('open-html');
    const downloadEml = $<HTMLAnchorElement>('download-eml');
    $('not-written').hidden = written;
    downloadEml.hidden = !written;
    openHtml.hidden = !written;
    stages.forEach(function (stage) { stage.classList.toggle('unwritten', !written); });
    if (files) {
      // Setting src again would load the frame again even when it is the same.
      const url = fileUrl(files.html);
      if (frame.getAttribute('src') !== url) frame.setAttribute('src', url);
      openHtml.href = files.html;
      downloadEml.href = files.eml;
      downloadEml.setAttribute('download', decodeURIComponent(files.eml.split('/').pop() ?? ''));
      loadText();
    } else {
      frame.removeAttribute('src');
      textFrame.removeAttribute('src');
    }
    showPanels();
  }

  function showPanels(): void {
    const entry = entries[selected];
    const written = !!(entry && entry.files);
    tabs.forEach(function (tab) {
      const on = tab.getAttribute('data-tab') === activeTab;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      const panel = $(tab.getAttribute('aria-controls') ?? '');
      panel.hidden = !on || (!written && panel.classList.contains('stage'));
    });
  }

  function tabOf(tab: Element): Tab {
    const name = tab.getAttribute('data-tab');
    return name === 'text' || name === 'headers' ? name : 'html';
  }

  function showTab(name: Tab, focus: boolean): void {
    activeTab = name;
    $('widths').hidden = name === 'headers';
    showPanels();
    loadText();
    if (focus) $('tab-' + name).focus();
  }

  function setWidth(mode: Width): void {
    width = mode;
    const mobile = mode === 'mobile';
    stages.forEach(function (stage) { stage.classList.toggle('is-mobile', mobile); });
    $('toggle-mobile').setAttribute('aria-pressed', mobile ? 'true' : 'false');
    $('toggle-desktop').setAttribute('aria-pressed', mobile ? 'false' : 'true');
  }

  const keys = new Map<string, number>([['ArrowDown', 1], ['ArrowUp', -1], ['PageDown', 10], ['PageUp', -10], ['Home', -Infinity], ['End', Infinity]]);
  list.addEventListener('keydown', function (event) {
    const delta = keys.get(event.key);
    if (delta === undefined) return;
    event.preventDefault();
    recipients.move(delta);
  });
  search.addEventListener('keydown', function (event) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      recipients.move(event.key === 'ArrowDown' ? 1 : -1);
    } else if (event.key === 'Enter' && !recipients.isShown(recipients.selected())) {
      const first = recipients.first();
      if (first !== undefined) recipients.select(first);
    }
  });
  document.addEventListener('keydown', function (event) {
    if (event.target !== document.body || !(event.key === 'ArrowDown' || event.key === 'ArrowUp')) return;
    event.preventDefault();
    recipients.move(event.key === 'ArrowDown' ? 1 : -1);
  });
  search.addEventListener('input', applyFilter);
  onlyWarnings.addEventListener('change', applyFilter);

  tabs.forEach(function (tab, i) {
    tab.addEventListener('click', function () { showTab(tabOf(tab), false); });
    tab.addEventListener('keydown', function (event) {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      event.preventDefault();
      const next = tabs[(i + step + tabs.length) % tabs.length];
      if (next) showTab(tabOf(next), true);
    });
  });
  $('toggle-desktop').addEventListener('click', function () { setWidth('desktop'); });
  $('toggle-mobile').addEventListener('click', function () { setWidth('mobile'); });

  const live = data.live;
  const STATE_KEY = 'bulletin-gallery-view';

  function scrollOf(target: HTMLIFrameElement): number {
    try {
      return target.contentWindow?.scrollY ?? 0;
    } catch {
      return 0;
    }
  }

  function saveState(): void {
    // The recipient picked in the list (an unwritten one is shown by its version's example).
    const seq = recipients.selected();
    const state: ViewState = {
      email: seq >= 0 ? index.email[seq] ?? null : null,
      line: seq >= 0 ? index.line[seq] ?? null : null,
      tab: activeTab,
      width: width,
      search: search.value,
      onlyWarnings: onlyWarnings.checked,
      pageScroll: window.scrollY,
      listScroll: list.scrollTop,
      frameScroll: scrollOf(frame),
      textScroll: scrollOf(textFrame),
    };
    try {
      sessionStorage.setItem(STATE_KEY, JSON.stringify(state));
    } catch {
      // Storage refused (private mode): the reload starts from the first recipient.
    }
  }

  function savedState(): ViewState | undefined {
    try {
      const text = sessionStorage.getItem(STATE_KEY);
      return text ? (JSON.parse(text) as ViewState) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Scrolls a frame once its next document has loaded. */
  function scrollFrameOnLoad(target: HTMLIFrameElement, y: number): void {
    if (y <= 0) return;
    target.addEventListener('load', function () {
      try {
        target.contentWindow?.scrollTo(0, y);
      } catch {
        // Not readable: the frame starts at the top.
      }
    }, { once: true });
  }

  function renderProblems(state: LiveState): void {
    let panel = document.getElementById('live-problems');
    const errors = state.problems.filter(function (p) { return p.severity === 'error'; });
    if (errors.length === 0) {
      if (panel) panel.remove();
      return;
    }
    if (!panel) {
      panel = el('section', 'live-problems');
      panel.id = 'live-problems';
      panel.setAttribute('role', 'alert');
      const head = document.querySelector('.page-head');
      if (head) head.insertBefore(panel, head.children[1] ?? null);
    }
    panel.replaceChildren();
    panel.appendChild(el('h2', 'live-problems-title', plural(errors.length, 'error') + ' in the last save: the preview below is the last one without errors'));
    const items = el('ul', 'live-problem-list');
    errors.forEach(function (problem) {
      const li = el('li', 'live-problem');
      li.setAttribute('data-testid', 'live-problem');
      const first = el('p', 'live-problem-head');
      first.appendChild(el('code', 'location', problem.location));
      first.appendChild(el('span', 'severity', problem.severity));
      first.appendChild(el('span', 'live-problem-message', problem.message));
      li.appendChild(first);
      if (problem.source !== undefined) li.appendChild(el('pre', 'live-problem-source', problem.source));
      if (problem.hint) li.appendChild(el('p', 'live-problem-hint', 'hint: ' + problem.hint));
      items.appendChild(li);
    });
    panel.appendChild(items);
  }

  /** Same recipients in the same order: the page can take a new rendering in place. */
  function sameRecipients(next: RecipientIndex): boolean {
    if (next.email.length !== index.email.length) return false;
    for (let i = 0; i < next.email.length; i++) {
      if (next.email[i] !== index.email[i] || next.line[i] !== index.line[i]) return false;
    }
    return true;
  }

  /** Sections the reviewer opened or closed stay so in the new rendering. */
  function keepOpen(from: Element, to: Element): void {
    from.querySelectorAll<HTMLDetailsElement>('details[id]').forEach(function (old) {
      const same = to.querySelector<HTMLDetailsElement>('details[id="' + old.id + '"]');
      if (same) same.open = old.open;
    });
  }

  /** The page head (counts, approval, problems, accessibility) and the versions, from the new page; false when the page's shape changed. */
  function swapHead(doc: Document): boolean {
    const head = document.querySelector('.page-head');
    const nextHead = doc.querySelector('.page-head');
    const oldVersions = document.getElementById('versions');
    const nextVersions = doc.getElementById('versions');
    if (!head || !nextHead || !oldVersions !== !nextVersions) return false;
    keepOpen(head, nextHead);
    const status = document.getElementById('live-status');
    const adopted = document.adoptNode(nextHead);
    if (status) adopted.querySelector('.title')?.appendChild(status);
    head.replaceWith(adopted);
    showTimes(adopted);
    if (oldVersions && nextVersions) {
      keepOpen(oldVersions, nextVersions);
      // The section itself stays: its click handler is on it.
      oldVersions.replaceChildren(...Array.from(nextVersions.childNodes).map(function (node) { return document.adoptNode(node); }));
    }
    return true;
  }

  /** A new rendering of the same recipients, taken in place: selection, tab, width, filters and scroll positions stay as they are. */
  function take(next: ClientData, nextIndex: RecipientIndex, version: number): void {
    const frameY = scrollOf(frame);
    const textY = scrollOf(textFrame);
    const frameBefore = frame.getAttribute('src');
    const textBefore = textFrame.getAttribute('src');
    const listY = list.scrollTop;
    const seq = recipients.selected();
    entries = next.entries;
    pool = next.headerPool;
    versions = next.versions ?? [];
    index = nextIndex;
    entryOf.clear();
    entries.forEach(function (entry, i) { entryOf.set(entry.seq ?? i, i); });
    warningsOf = new Map<number, string[]>(index.warnings);
    shownVersion = version;
    renderUrl = next.renderUrl ?? null;
    recipients.refresh();
    applyFilter();
    list.scrollTop = listY;
    if (seq >= 0) recipients.select(seq);
    if (frame.getAttribute('src') !== frameBefore) scrollFrameOnLoad(frame, frameY);
    if (textFrame.getAttribute('src') !== textBefore) scrollFrameOnLoad(textFrame, textY);
  }

  function connect(events: string, first: number): void {
    let version = first;
    const status = el('p', 'live-status');
    status.id = 'live-status';
    status.setAttribute('aria-live', 'polite');
    status.textContent = 'Live: connecting\u2026';
    const eyebrow = document.querySelector('.title');
    if (eyebrow) eyebrow.appendChild(status);
    const source = new EventSource(events);
    let pending: LiveState | null = null;
    let fetching = false;

    function reload(): void {
      saveState();
      source.close();
      location.reload();
    }
    function show(state: LiveState): void {
      status.setAttribute('data-version', String(version));
      status.textContent = 'Live: watching for saves (last checked ' + new Date(state.at).toLocaleTimeString() + ')';
      renderProblems(state);
    }
    function onState(state: LiveState): void {
      if (state.version === version) {
        show(state);
        return;
      }
      // An older version: the server started again.
      if (state.version < version) {
        reload();
        return;
      }
      pending = state;
      if (!fetching) pull();
    }
    /** Fetch the new page and take it in place; a page whose recipients changed is loaded afresh. */
    function pull(): void {
      const state = pending;
      if (!state) return;
      pending = null;
      fetching = true;
      fetch(location.pathname, { cache: 'no-store' })
        .then(function (res) {
          if (!res.ok) throw new Error('HTTP ' + res.status);
          return res.text();
        })
        .then(function (html) {
          const doc = new DOMParser().parseFromString(html, 'text/html');
          const next = JSON.parse(doc.getElementById('gallery-data')?.textContent ?? '') as ClientData;
          // A long list's page holds every recipient in a second block (see readWholeIndex).
          const restNode = doc.getElementById('gallery-index');
          if (restNode) {
            const rest = JSON.parse(restNode.textContent ?? '') as { entries: ClientEntry[]; headerPool: Array<[string, string]>; index: PageIndex };
            next.entries = rest.entries;
            next.headerPool = rest.headerPool;
            next.index = rest.index;
          }
          const nextIndex = next.index ? unpackIndex(next.index) : null;
          // Not in place: a new list of recipients, or this page has not read its own whole list yet.
          if (!next.live || !nextIndex || loaded < total || !sameRecipients(nextIndex) || !swapHead(doc)) {
            reload();
            return;
          }
          version = next.live.version;
          take(next, nextIndex, version);
          fetching = false;
          const later = pending;
          pending = null;
          if (later && later.version !== version) onState(later);
          else show(later ?? state);
        })
        .catch(reload);
    }

    source.addEventListener('state', function (event) {
      onState(JSON.parse((event as MessageEvent<string>).data) as LiveState);
    });
    // The message on screen, rendered again before the rest of the page: show it now.
    source.addEventListener('messages', function (event) {
      const early = JSON.parse((event as MessageEvent<string>).data) as LiveMessages;
      const entry = entries[selected];
      if (early.version <= version || !entry || !entry.files) return;
      const files = entry.files;
      [[frame, files.html], [textFrame, files.text]].forEach(function (pair) {
        const target = pair[0] as HTMLIFrameElement;
        const href = pair[1] as string;
        if (early.files.indexOf(href) === -1 || !target.getAttribute('src')) return;
        scrollFrameOnLoad(target, scrollOf(target));
        target.setAttribute('src', href + '?v=' + early.version);
      });
    });
    source.addEventListener('error', function () {
      status.textContent = 'Live: the preview server is not answering (stopped?); trying again\u2026';
    });
    window.addEventListener('pagehide', saveState);
  }

  if (live) {
    // Same-origin frames (still without scripts) let the page read and restore their scroll position.
    frame.sandbox.add('allow-same-origin');
    textFrame.sandbox.add('allow-same-origin');
  }
  const restore = live ? savedState() : undefined;
  if (restore) {
    search.value = restore.search;
    onlyWarnings.checked = restore.onlyWarnings;
  }
  applyFilter();

  /** The recipient shown before a live reload, once every recipient is read. */
  function restoreView(restore: ViewState): void {
    let start = 0;
    if (restore.email !== null) {
      // The recipient shown before the reload, looked up among every recipient (not only the written).
      const key = restore.email.toLowerCase();
      let found = -1;
      index.email.forEach(function (email, seq) {
        if (email.toLowerCase() === key && (found === -1 || index.line[seq] === restore.line)) found = seq;
      });
      if (found !== -1) start = found;
      scrollFrameOnLoad(frame, restore.frameScroll);
      scrollFrameOnLoad(textFrame, restore.textScroll);
    }
    recipients.select(start);
    showTab(restore.tab, false);
    setWidth(restore.width);
    list.scrollTop = restore.listScroll;
    window.scrollTo(0, restore.pageScroll);
  }

  /** Every recipient's index, from the block after this script (read once the page is parsed). */
  function readWholeIndex(): void {
    const node = document.getElementById('gallery-index');
    if (node) {
      const rest = JSON.parse(node.textContent ?? '') as { entries: ClientEntry[]; headerPool: Array<[string, string]>; index: PageIndex };
      node.remove(); // its text is megabytes, and read
      // The first block's entries and headers are the start of these: `selected` stays right.
      entries = rest.entries;
      pool = rest.headerPool;
      entryOf.clear();
      entries.forEach(function (entry, i) { entryOf.set(entry.seq ?? i, i); });
      index = unpackIndex(rest.index);
    }
    loaded = total;
    warningsOf = new Map<number, string[]>(index.warnings);
    recipients.refresh();
    if (filterPending) {
      filterPending = false;
      applyFilter();
    }
    if (waitingFor >= 0 && recipients.selected() === waitingFor) showRecipient(waitingFor);
    whenRead();
  }

  function whenRead(): void {
    if (restore && total > 0) restoreView(restore);
    recipients.prepareSearch();
    document.documentElement.setAttribute('data-index', 'read');
  }

  if (total > 0) {
    if (!restore) recipients.select(0);
  } else {
    $('selected-subject').textContent = 'No recipients to preview';
    $('selected-to').textContent = 'The recipient list is empty, or every row was suppressed.';
    const toolbar = document.querySelector<HTMLElement>('.toolbar');
    if (toolbar) toolbar.hidden = true;
    $('key-hint').hidden = true;
    stages.forEach(function (stage) { stage.hidden = true; });
  }
  if (loaded >= total) whenRead();
  else if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', readWholeIndex);
  else readWholeIndex();
  if (live) connect(live.events, live.version);
})();
