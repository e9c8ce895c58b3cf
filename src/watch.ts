import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setImmediate as turn } from 'node:timers/promises';
import path from 'node:path';
import { CONFIG_FILE } from './core/config.js';
import { countBySeverity, formatLocation, type Diagnostic } from './core/diagnostics.js';
import { LIVE_EVENTS_PATH, parseLiveRenderPath, renderGalleryHtml, toHref, type LiveMessages, type LiveProblem, type LiveState } from './core/gallery.js';
import { keptRecords, type CsvRecords, type RecipientRow } from './core/recipients.js';
import type { ReadRecipients } from './io/campaign.js';
import { startPreviewServer, type DynamicResponse, type PreviewServer } from './io/preview-server.js';
import { MjmlCache, prepareCampaign, renderRows, type CampaignReuse, type PreparedCampaign } from './plan.js';
import type { CompiledTemplate } from './core/template.js';
import { PREVIEW_DIR, previewPrepared, renderRecipient, type EmlCache, type PreviewFiles, type PreviewResult, type RenderedRecipient } from './preview.js';

export interface WatchOptions {
  /** 0 or absent: any free port. */
  port?: number;
  out?: string;
  limit?: number;
  only?: string;
  all?: boolean;
  now: () => Date;
  /** Quiet time after the last change before rendering again. */
  debounceMs?: number;
  onRound: (round: WatchRound) => void;
  /** A round that failed with an I/O fault; the watch goes on. */
  onError: (err: unknown) => void;
}

export interface WatchRound {
  /** Files (relative to the campaign) whose change started this round; empty for the first. */
  changed: string[];
  /** True when the gallery was written again; false when the template or settings had errors (the page keeps the last good one). */
  rendered: boolean;
  problems: LiveProblem[];
  /** Every diagnostic of the round, errors and warnings. */
  diagnostics: Diagnostic[];
  result?: PreviewResult;
  /** What was kept from the round before instead of read or compiled again. */
  reused: { recipients: boolean; template: boolean };
  /** Message files shown on a page, rendered and sent to it before the rest of the round. */
  early: number;
  /** From the start of the round until the page was told of it (the files are written after). */
  ms: number;
}

export interface PreviewWatch {
  url: string;
  outDir: string;
  /** The round in progress or last finished; resolves when it is done. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Changes under these are never a reason to render again (the preview itself, runs, editors' and tools' folders). */
const IGNORED_DIRS = new Set([PREVIEW_DIR, 'runs', 'node_modules', '.git']);

/** Message files pages asked for most recently: rendered first in the next round. */
const ON_SCREEN = 8;

/**
 * `bulletin preview --watch`: render the preview, serve it on 127.0.0.1, and render again on
 * every save. Between rounds it keeps the recipients file as read (when that file did not
 * change), the compiled template (when no template, variant, partial or setting changed),
 * MJML's output for each variant whose source did not change, and the .eml of each message
 * that did not change. A round first renders the messages pages are showing and tells them;
 * it then renders the rest, serves the new files from memory, tells the pages, and writes to
 * disk only the files that changed. It never sends: it has no transport.
 */
export async function watchPreview(dir: string, options: WatchOptions): Promise<PreviewWatch> {
  const campaignDir = path.resolve(dir);
  const outDir = path.resolve(campaignDir, options.out ?? PREVIEW_DIR);
  let version = 0;
  let state: LiveState = { version, problems: [], at: options.now().toISOString() };
  let recipients: ReadRecipients | undefined;
  let template: { template: CompiledTemplate; diagnostics: Diagnostic[] } | undefined;
  let recipientsPath: string | undefined;
  // The last good preview: what the page shows, and what a recipient rendered on demand is made from.
  let lastGood: { version: number; prepared: PreparedCampaign; rows: RecipientRow[]; rendered: Map<number, Promise<RenderedRecipient | undefined>> } | undefined;

  /** A recipient the preview wrote no files for, rendered when the page asks (the last few kept, as the page fetches each part). */
  async function renderOnDemand(rel: string): Promise<DynamicResponse | undefined> {
    const wanted = parseLiveRenderPath(rel);
    if (!wanted) return undefined;
    if (!lastGood || wanted.version !== lastGood.version) {
      return { status: 410, ext: 'txt', body: 'A newer preview has been written since this page asked; the page takes it in a moment.\n' };
    }
    const row = lastGood.rows[wanted.seq];
    if (!row) return { status: 404, ext: 'txt', body: 'No such recipient in this preview.\n' };
    let rendering = lastGood.rendered.get(wanted.seq);
    if (!rendering) {
      rendering = renderRecipient(lastGood.prepared, row, wanted.seq, options.now());
      lastGood.rendered.set(wanted.seq, rendering);
      // Keep the last few: a reviewer clicks through recipients; each click fetches four parts.
      if (lastGood.rendered.size > 16) lastGood.rendered.delete(lastGood.rendered.keys().next().value!);
    }
    const message = await rendering;
    if (!message) return { status: 404, ext: 'txt', body: 'That recipient could not be rendered; see the errors in the terminal.\n' };
    switch (wanted.ext) {
      case 'html':
        return { status: 200, ext: 'html', body: message.html };
      case 'txt':
        return { status: 200, ext: 'txt', body: message.text };
      case 'eml':
        return { status: 200, ext: 'eml', body: message.eml };
      case 'json':
        return { status: 200, ext: 'json', body: JSON.stringify(message.entry) };
    }
  }

  const mjmlCache = new MjmlCache();
  const emlCache: EmlCache = new Map();
  // Files of the new rendering not yet on disk, served from here.
  const memory = new Map<string, string | Buffer>();
  const viewed = new Set<string>();
  // Each message file of the last rendering → its recipient; the files on disk then.
  let recipientOf = new Map<string, RecipientRow>();
  let onDisk: Set<string> | undefined;
  // The recipients as parsed, while their text is the same.
  let records: { text: string; read: () => CsvRecords } | undefined;

  /** The messages on screen, rendered with the new template and offered to the pages before the rest. */
  async function renderOnScreen(prepared: PreparedCampaign, next: number): Promise<number> {
    const rels = [...viewed].filter((rel) => recipientOf.has(rel));
    const rows = [...new Set(rels.map((rel) => recipientOf.get(rel)!))];
    if (rows.length === 0 || !server) return 0;
    const messages = await renderRows(prepared, rows, { text: rels.some((rel) => rel.endsWith('.txt')), checks: false });
    const byRow = new Map(messages.map((m) => [m.row, m.content]));
    const files: string[] = [];
    for (const rel of rels) {
      const content = byRow.get(recipientOf.get(rel)!);
      if (!content) continue;
      memory.set(rel, rel.endsWith('.txt') ? content.text : content.html);
      files.push(toHref(rel));
    }
    const event: LiveMessages = { version: next, files };
    server.broadcast('messages', event);
    return files.length;
  }

  async function round(changed: string[]): Promise<WatchRound> {
    const started = performance.now();
    const names = new Set(changed);
    const settingsChanged = names.has(CONFIG_FILE) || changed.length === 0;
    const recipientsChanged = settingsChanged || (recipientsPath !== undefined && names.has(recipientsPath));
    // Anything else that changed may be the template, a variant, a partial or the text template.
    const templateChanged = settingsChanged || changed.some((f) => f !== recipientsPath);
    if (recipientsChanged) recipients = undefined;
    if (templateChanged) template = undefined;
    const reused = { recipients: recipients !== undefined, template: template !== undefined };
    const reuse: CampaignReuse = {
      onRecipientsRead: (read) => (recipients = read),
      onTemplateCompiled: (compiled) => (template = compiled),
    };
    if (recipients) reuse.recipients = recipients;
    if (template) reuse.template = template;
    // The .eml's headers come from the settings.
    if (settingsChanged) emlCache.clear();
    mjmlCache.round();

    const { prepared, diagnostics } = await prepareCampaign(campaignDir, { reuse, accessibility: true, mjmlCache });
    if (prepared) {
      recipientsPath = prepared.campaign.config.recipients;
      const { text } = prepared.campaign.recipients;
      if (records?.text !== text) records = { text, read: keptRecords(text) };
      prepared.csv ??= records.read();
    }
    let result: PreviewResult | undefined;
    let all = diagnostics;
    let files: LiveFiles | undefined;
    let early = 0;
    if (prepared?.template) {
      // Same rows as the last rendering: the messages on screen are the same recipients' messages.
      if (reused.recipients && !settingsChanged) early = await renderOnScreen(prepared, version + 1);
      version++;
      if (!onDisk) await rm(path.join(outDir, 'messages'), { recursive: true, force: true });
      files = new LiveFiles(outDir, memory);
      const shown = new Map<string, RecipientRow>();
      result = await previewPrepared(prepared, {
        now: options.now(),
        live: { version },
        files,
        emlCache,
        onFiles: (names, row) => {
          shown.set(names.html, row);
          shown.set(names.text, row);
        },
        ...(options.out ? { out: options.out } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
        ...(options.only ? { only: options.only } : {}),
        all: options.all ?? false,
      });
      all = result.plan.diagnostics;
      lastGood = { version, prepared, rows: result.rows ?? [], rendered: new Map() };
      recipientOf = shown;
    }
    if (!result && version === 0) await writePlaceholder(outDir, prepared?.campaign.config.name ?? path.basename(campaignDir), all, options.now());
    const problems = await liveProblems(campaignDir, all.filter((d) => d.severity === 'error'));
    state = { version, problems, at: options.now().toISOString() };
    server?.broadcast('state', state);
    const report: WatchRound = { changed, rendered: result !== undefined, problems, diagnostics: all, reused, early, ms: Math.round(performance.now() - started) };
    if (result) report.result = result;
    if (files) {
      await files.flush(onDisk);
      onDisk = files.names;
      for (const rel of emlCache.keys()) if (!onDisk.has(rel)) emlCache.delete(rel);
    }
    return report;
  }

  let server: PreviewServer | undefined = undefined;
  // Watch before the first round, so a save during it is not missed.
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(async () => {
        if (closed || pending.size === 0) return;
        const changed = [...pending].sort();
        pending.clear();
        try {
          options.onRound(await round(changed));
        } catch (err) {
          // An I/O fault in one round (a file mid-save, say) must not end the watch.
          options.onError(err);
        }
      });
    }, options.debounceMs ?? 40);
  };
  const { watch } = await import('chokidar');
  const watcher = watch(campaignDir, {
    ignoreInitial: true,
    ignored: (file: string) => {
      const relative = path.relative(campaignDir, file);
      if (relative === '') return false;
      const top = relative.split(path.sep)[0] ?? '';
      return IGNORED_DIRS.has(top) || isInside(outDir, file) || top.startsWith('.bulletin') || top === 'approvals.jsonl';
    },
  });
  // Changes are collected while a round runs and while saves keep coming, then rendered once.
  watcher.on('all', (_event, file) => {
    pending.add(path.relative(campaignDir, file).split(path.sep).join('/'));
    schedule();
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));

  try {
    options.onRound(await round([]));
    server = await startPreviewServer({
      root: outDir,
      eventsPath: LIVE_EVENTS_PATH,
      current: () => ({ event: 'state', data: state }),
      dynamic: (rel) => {
        const held = memory.get(rel);
        return held === undefined ? renderOnDemand(rel) : { status: 200, ext: path.extname(rel).slice(1), body: held };
      },
      onRequest: (rel) => {
        if (!rel.startsWith('messages/') || !(rel.endsWith('.html') || rel.endsWith('.txt'))) return;
        viewed.delete(rel);
        viewed.add(rel);
        if (viewed.size > ON_SCREEN) viewed.delete(viewed.values().next().value!);
      },
      ...(options.port ? { port: options.port } : {}),
    });
  } catch (err) {
    await watcher.close();
    throw err;
  }
  // The first round may have compiled in the CLI's MJML thread: load MJML here now, not at the first save.
  void import('mjml').catch(() => undefined);

  return {
    url: server.url,
    outDir,
    settled: () => running,
    async close() {
      closed = true;
      clearTimeout(timer);
      await watcher.close();
      await running.catch(() => undefined);
      await server?.close();
    },
  };
}

/**
 * A round's files: held in memory (and served from there) as they are rendered, written to disk
 * once the pages were told of the new rendering. A message that did not change is kept as it is.
 */
class LiveFiles implements PreviewFiles {
  /** Every file this round has, written or kept. */
  readonly names = new Set<string>();
  private readonly queue = new Map<string, string | Buffer>();

  constructor(
    private readonly outDir: string,
    private readonly memory: Map<string, string | Buffer>,
  ) {}

  async write(rel: string, data: string | Buffer): Promise<void> {
    this.names.add(rel);
    this.memory.set(rel, data);
    this.queue.set(rel, data);
    // Nothing here waits for the disk: let the server answer pages (the message on screen) now and then.
    if (this.queue.size % 3 === 0) await turn();
  }

  keep(rel: string): void {
    this.names.add(rel);
    // Rendered early for a page: the same as on disk.
    this.memory.delete(rel);
  }

  /** Writes the files, a few at a time, and removes those the last round had and this one has not. */
  async flush(previous: Set<string> | undefined): Promise<void> {
    const items = [...this.queue];
    this.queue.clear();
    let next = 0;
    const writer = async () => {
      while (next < items.length) {
        const [rel, data] = items[next++]!;
        await writeFile(path.join(this.outDir, rel), data);
        if (this.memory.get(rel) === data) this.memory.delete(rel);
      }
    };
    await Promise.all(Array.from({ length: 8 }, writer));
    for (const rel of previous ?? []) {
      if (!this.names.has(rel)) await rm(path.join(this.outDir, rel), { force: true });
    }
  }
}

function isInside(parent: string, file: string): boolean {
  const relative = path.relative(parent, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Problems as the page and the terminal show them, each with the line of source it names. */
async function liveProblems(campaignDir: string, diagnostics: Diagnostic[]): Promise<LiveProblem[]> {
  const files = new Map<string, string[] | undefined>();
  const problems: LiveProblem[] = [];
  for (const d of diagnostics) {
    const problem: LiveProblem = { location: formatLocation(d), severity: d.severity, message: d.message };
    if (d.hint) problem.hint = d.hint;
    if (d.line !== undefined) {
      if (!files.has(d.file)) {
        const text = await readFile(path.join(campaignDir, d.file), 'utf8').catch(() => undefined);
        files.set(d.file, text?.split(/\r?\n/));
      }
      const source = files.get(d.file)?.[d.line - 1];
      if (source !== undefined) problem.source = `${d.line} | ${source}`;
    }
    problems.push(problem);
  }
  return problems;
}

/** A gallery with no messages, for a first round that could not render: the page connects and shows the errors. */
async function writePlaceholder(outDir: string, campaign: string, diagnostics: Diagnostic[], now: Date): Promise<void> {
  const { errors, warnings } = countBySeverity(diagnostics);
  await mkdir(outDir, { recursive: true });
  const html = renderGalleryHtml({
    campaign,
    generatedAt: now.toISOString(),
    counts: { recipients: 0, written: 0, warnings, errors, suppressed: 0 },
    diagnostics: diagnostics.map((d) => ({ location: formatLocation(d), severity: d.severity, message: d.message })),
    approval: { state: 'none', command: 'bulletin approve --by "Your Name"' },
    entries: [],
    live: { version: 0 },
  });
  await writeFile(path.join(outDir, 'index.html'), html);
}
