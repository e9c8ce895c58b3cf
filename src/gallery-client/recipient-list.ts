// The gallery's recipient list: every previewed recipient, however many, in a virtualised
// listbox (only the rows in view are in the DOM) searched through one packed string.
// A classic script joined before gallery.ts (scripts/gallery-assets.js): no imports.

interface RecipientListOptions {
  list: HTMLUListElement;
  count: number;
  /** Fill a fresh row for this recipient (textContent only). */
  renderRow(seq: number, li: HTMLLIElement): void;
  /** What a search looks through for this recipient (one line; folded here). */
  searchText(seq: number): string;
  onSelect(seq: number): void;
}

interface RecipientList {
  /** Show the recipients matching every word of `query` and `keep`; returns how many. */
  filter(query: string, keep: ((seq: number) => boolean) | null): number;
  select(seq: number): void;
  move(delta: number): void;
  selected(): number;
  shown(): number;
  first(): number | undefined;
  isShown(seq: number): boolean;
  /** The recipients' data changed (a new rendering, or the whole index arrived): search text is built again, the rows drawn again. */
  refresh(): void;
  /** Draw the rows in view again (a recipient's badge changed; the search text did not). */
  redraw(): void;
  /** Build the search text soon, in the background, so the first search is quick too. */
  prepareSearch(): void;
}

/** Must match `.recipient` in gallery.css. */
const ROW_HEIGHT = 56;
const OVERSCAN = 8;

function foldText(text: string): string {
  // Most text is ASCII: lower-casing it keeps its length and is much cheaper than NFD.
  return /[^\u0000-\u007f]/.test(text) ? text.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '') : text.toLowerCase();
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- gallery.ts calls it: the files are one classic script
function createRecipientList(options: RecipientListOptions): RecipientList {
  const { list, count } = options;
  let visible: Int32Array = allOf(count);
  let position = new Int32Array(0); // seq → place in `visible`, or -1 (built on demand)
  let positionsFor: Int32Array | null = null;
  let selected = -1;
  let hay: string | null = null;
  let starts: Int32Array = new Int32Array(0);
  let drawn = -1;
  let frame = 0;

  function allOf(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return out;
  }

  /** Every recipient's search text in one string, each on its own line; built at the first search. */
  function buildHaystack(): void {
    const parts = new Array<string>(count);
    starts = new Int32Array(count + 1);
    let offset = 0;
    for (let seq = 0; seq < count; seq++) {
      const text = foldText(options.searchText(seq).replace(/\n/g, ' '));
      parts[seq] = text;
      starts[seq] = offset;
      offset += text.length + 1;
    }
    starts[count] = offset;
    hay = parts.join('\n');
  }

  function search(terms: string[], keep: ((seq: number) => boolean) | null): Int32Array {
    if (terms.length === 0) {
      if (!keep) return allOf(count);
      const out: number[] = [];
      for (let seq = 0; seq < count; seq++) if (keep(seq)) out.push(seq);
      return Int32Array.from(out);
    }
    if (hay === null) buildHaystack();
    const text = hay ?? '';
    // Scan for the longest word; check the others only within the rows it is found in.
    const sorted = terms.slice().sort(function (a, b) { return b.length - a.length; });
    const lead = sorted[0] ?? '';
    const rest = sorted.slice(1);
    const out: number[] = [];
    let row = 0;
    let at = text.indexOf(lead);
    while (at !== -1) {
      while ((starts[row + 1] ?? Infinity) <= at) row++;
      const start = starts[row] ?? 0;
      const end = (starts[row + 1] ?? text.length) - 1;
      let all = true;
      if (rest.length > 0) {
        const line = text.substring(start, end);
        for (const term of rest) {
          if (line.indexOf(term) === -1) { all = false; break; }
        }
      }
      if (all && (!keep || keep(row))) out.push(row);
      at = text.indexOf(lead, end + 1);
    }
    return Int32Array.from(out);
  }

  function placeOf(seq: number): number {
    if (positionsFor !== visible) {
      position = new Int32Array(count).fill(-1);
      for (let i = 0; i < visible.length; i++) position[visible[i] ?? 0] = i;
      positionsFor = visible;
    }
    return seq >= 0 && seq < count ? (position[seq] ?? -1) : -1;
  }

  function draw(force: boolean): void {
    frame = 0;
    const top = list.scrollTop;
    // Never more than a window's worth: while the page is still being laid out the list can
    // briefly measure as tall as all its rows.
    const height = Math.min(list.clientHeight || window.innerHeight, window.innerHeight);
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(visible.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    if (!force && first === drawn && list.childElementCount === last - first + 2) return;
    drawn = first;
    // Spacers stand in for the rows out of view (padding would make the list itself that tall).
    const fragment = document.createDocumentFragment();
    fragment.appendChild(spacer(first * ROW_HEIGHT));
    for (let i = first; i < last; i++) {
      const seq = visible[i] ?? 0;
      const li = document.createElement('li');
      li.className = 'recipient';
      li.id = 'recipient-' + seq;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', seq === selected ? 'true' : 'false');
      li.setAttribute('aria-setsize', String(visible.length));
      li.setAttribute('aria-posinset', String(i + 1));
      li.setAttribute('data-testid', 'recipient');
      li.setAttribute('data-index', String(seq));
      options.renderRow(seq, li);
      fragment.appendChild(li);
    }
    fragment.appendChild(spacer((visible.length - last) * ROW_HEIGHT));
    list.replaceChildren(fragment);
  }

  function spacer(height: number): HTMLLIElement {
    const li = document.createElement('li');
    li.className = 'list-spacer';
    li.setAttribute('role', 'none');
    li.setAttribute('aria-hidden', 'true');
    li.style.height = height + 'px';
    return li;
  }

  function schedule(): void {
    if (frame === 0) frame = requestAnimationFrame(function () { draw(false); });
  }

  function reveal(seq: number): void {
    const at = placeOf(seq);
    if (at === -1) return;
    const top = at * ROW_HEIGHT;
    const view = list.clientHeight;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW_HEIGHT > list.scrollTop + view) list.scrollTop = top + ROW_HEIGHT - view;
  }

  list.addEventListener('scroll', schedule);
  window.addEventListener('resize', schedule);
  list.addEventListener('click', function (event) {
    const target = event.target;
    const item = target instanceof Element ? target.closest('[data-testid="recipient"]') : null;
    if (item) api.select(Number(item.getAttribute('data-index')));
  });

  const api: RecipientList = {
    filter(query, keep) {
      const terms = foldText(query).split(/\s+/).filter(Boolean);
      visible = search(terms, keep);
      list.scrollTop = 0;
      draw(true);
      return visible.length;
    },
    select(seq) {
      if (seq < 0 || seq >= count) return;
      selected = seq;
      if (placeOf(seq) !== -1) {
        list.setAttribute('aria-activedescendant', 'recipient-' + seq);
        reveal(seq);
      } else {
        list.removeAttribute('aria-activedescendant');
      }
      draw(true);
      options.onSelect(seq);
    },
    move(delta) {
      if (visible.length === 0) return;
      const at = placeOf(selected);
      let next: number;
      if (delta === Infinity) next = visible.length - 1;
      else if (delta === -Infinity) next = 0;
      else if (at === -1) next = delta > 0 ? 0 : visible.length - 1;
      else next = Math.min(visible.length - 1, Math.max(0, at + delta));
      const seq = visible[next];
      if (seq !== undefined) api.select(seq);
    },
    selected() { return selected; },
    shown() { return visible.length; },
    first() { return visible.length > 0 ? visible[0] : undefined; },
    isShown(seq) { return placeOf(seq) !== -1; },
    refresh() {
      hay = null;
      draw(true);
    },
    redraw() { draw(true); },
    prepareSearch() {
      // Once the rows on screen are painted.
      setTimeout(function () { if (hay === null) buildHaystack(); }, 300);
    },
  };
  return api;
}
