import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import type MailComposerType from 'nodemailer/lib/mail-composer';
import { randomBytes } from 'node:crypto';
import type { MessageSkeletons } from './core/mime-assembly.js';
import { error, formatLocation, sortDiagnostics, countBySeverity, warning, type Diagnostic } from './core/diagnostics.js';
import { composeMessage, type AttachmentData, type MessageInput } from './core/message.js';
import { parseSuppressionList } from './core/suppression.js';
import { compileTemplate, type CompiledTemplate, type Mjml2Html, type RenderedContent, type VariableUse } from './core/template.js';
import { checkOneClickUnsubscribe, checkRenderedMessage, checkSize, GMAIL_CLIP_BYTES } from './core/checks.js';
import { CONFIG_FILE, settingPosition } from './core/config.js';
import { cutRecipients, type CsvRecords, type RecipientRow } from './core/recipients.js';
import { describeIoError, loadCampaign, type Campaign, type ReadRecipients } from './io/campaign.js';
import { openMjmlCompiler, takeStartedMjmlCompiler } from './io/mjml-worker.js';
import { parseInWorker, WORKER_FROM_CHARS } from './io/csv-worker.js';
import { attachmentNames, forEachRecipient } from './campaign-recipients.js';

/** One recipient's message, rendered and checked, not yet given a Message-ID or Date. */
export interface PlannedMessage {
  row: RecipientRow;
  language: string;
  /** The values it was rendered with: the row's, blanks filled from bulletin.json "defaults". */
  data: Readonly<Record<string, string>>;
  content: RenderedContent;
  warnings: string[];
  attachments: AttachmentData[];
  unsubscribeUrl?: string;
}

export interface SuppressedRow {
  line: number;
  email: string;
  key: string;
}

export interface PlanResult {
  campaign?: Campaign;
  /** False when bulletin.json itself is unusable (exit 2). */
  configLoaded: boolean;
  ok: boolean;
  /** Data rows in the file. */
  rows: number;
  /** Messages rendered without an error. */
  messages: number;
  suppressed: SuppressedRow[];
  languages: Record<string, number>;
  diagnostics: Diagnostic[];
}

export interface PlanOptions {
  /** Render the plain-text part too (default true; validate does without). */
  text?: boolean;
  /**
   * false: render a message's HTML only where a check reads it (the first message of each
   * shape, values with braces, a message whose size bound comes near Gmail's clip size);
   * other messages then have html ''. For validate and send's checking pass (default true).
   */
  html?: boolean;
  /**
   * The first this many messages are rendered in full (HTML and text) whatever html and text
   * say: preview writes files for the first preview.maxFiles only and checks the rest the cheap
   * way, as validate does. The others then have html and text '' except where a check reads them.
   */
  fullFirst?: number;
  /** Called for each message in file order; the plan never holds them all. */
  onMessage?: (message: PlannedMessage) => void | Promise<void>;
  onSuppressed?: (row: SuppressedRow) => void | Promise<void>;
}

export interface PreparedCampaign {
  campaign: Campaign;
  /** Absent when the template has errors: rows are still checked. */
  template?: CompiledTemplate;
  suppressed: Set<string>;
  diagnostics: Diagnostic[];
  /** The recipients already being parsed (PrepareOptions.csvInWorker): read by the first plan only. */
  csv?: CsvRecords;
}

export interface PrepareOptions {
  /**
   * Run MJML in a worker thread that ends once the template is compiled, so the memory mjml
   * takes (~40 MB resident) is given back: for a long send. Loading it costs the same either
   * way in a fresh process, but a process that prepares many campaigns loads it again each time.
   * A worker the CLI started early (startMjmlCompiler) is used either way.
   */
  mjmlInWorker?: boolean;
  /**
   * Start parsing a large recipients file in a worker thread now, before the template compiles,
   * so that parsing runs beside the compile and the row checks (validate).
   */
  csvInWorker?: boolean;
  /** Called once the CSV worker's thread is running (V8 flags set at run time must be set again then: see cli/heap.ts). */
  onCsvWorkerStarted?: () => void;
  /** What `preview --watch` keeps between rounds: the recipients file and the compiled template, when their files did not change. */
  reuse?: CampaignReuse;
  /** Check accessibility and readability (validate, preview): one more MJML run per variant. */
  accessibility?: boolean;
  /** `preview --watch`: MJML's results kept between rounds, so only a changed variant or partial runs MJML again. */
  mjmlCache?: MjmlCache;
}

/**
 * MJML's results by their input. MJML's output depends on its input only, so a variant whose
 * source (partials expanded) did not change need not go through it again: an edit to the main
 * message leaves its language variants' results as they were.
 */
export class MjmlCache {
  private last = new Map<string, ReturnType<Mjml2Html>>();
  private now = new Map<string, ReturnType<Mjml2Html>>();

  /** Starts a round: results the round before did not use are let go. */
  round(): void {
    this.last = this.now;
    this.now = new Map();
  }

  wrap(run: Mjml2Html): Mjml2Html {
    return (mjml, options) => {
      let result = this.now.get(mjml) ?? this.last.get(mjml);
      if (!result) {
        result = run(mjml, options);
        // A failure (the worker ended, say) is tried again next time.
        result.catch(() => this.now.delete(mjml));
      }
      this.now.set(mjml, result);
      return result;
    };
  }
}

export interface CampaignReuse {
  recipients?: ReadRecipients;
  template?: { template: CompiledTemplate; diagnostics: Diagnostic[] };
  /** Called with what was read or compiled afresh, to keep for the next round. */
  onRecipientsRead?: (read: ReadRecipients) => void;
  onTemplateCompiled?: (compiled: { template: CompiledTemplate; diagnostics: Diagnostic[] }) => void;
}

/** Load the campaign and compile its template once. */
export async function prepareCampaign(dir: string, options: PrepareOptions = {}): Promise<{ prepared?: PreparedCampaign; diagnostics: Diagnostic[]; configLoaded: boolean }> {
  const reuse = options.reuse;
  const { campaign, config, diagnostics } = await loadCampaign(dir, {
    ...(reuse?.recipients ? { recipients: reuse.recipients } : {}),
    ...(reuse?.onRecipientsRead ? { onRecipientsRead: reuse.onRecipientsRead } : {}),
    // the worker decodes each piece: this thread never holds the decoded text
    ...(options.csvInWorker ? { bytesFrom: WORKER_FROM_CHARS } : {}),
  });
  // Only unusable settings stop a command (exit 2); a missing template or attachment is a problem found (exit 1).
  if (!campaign) return { diagnostics: sortDiagnostics(diagnostics), configLoaded: config !== undefined };
  const csv = options.csvInWorker ? parseLargeInWorker(campaign.recipients, options.onCsvWorkerStarted) : undefined;
  let compiled: Awaited<ReturnType<typeof compileTemplate>>;
  if (reuse?.template) {
    compiled = { template: reuse.template.template, diagnostics: [...reuse.template.diagnostics] };
  } else {
    compiled = await compileCampaignTemplate(campaign, options);
    if (compiled.template) reuse?.onTemplateCompiled?.({ template: compiled.template, diagnostics: [...compiled.diagnostics] });
  }
  const { template, diagnostics: templateProblems } = compiled;
  diagnostics.push(...templateProblems);
  const suppressed = await loadSuppression(campaign, diagnostics);
  const prepared: PreparedCampaign = { campaign, suppressed, diagnostics };
  if (template) prepared.template = template;
  if (csv) prepared.csv = csv;
  return { prepared, diagnostics, configLoaded: true };
}

/** A large recipients file's records, parsed in a worker from now on; a small file is parsed here, later. */
function parseLargeInWorker(recipients: Campaign['recipients'], onRunning?: () => void): CsvRecords | undefined {
  // only a large file is kept as bytes (loadCampaign's bytesFrom); reading `text` would decode it
  if (recipients.bytes !== undefined) return parseInWorker({ ...cutRecipients(recipients.bytes), bytes: true }, onRunning);
  return recipients.text.length >= WORKER_FROM_CHARS ? parseInWorker(cutRecipients(recipients.text), onRunning) : undefined;
}

async function compileCampaignTemplate(campaign: Campaign, options: PrepareOptions): Promise<Awaited<ReturnType<typeof compileTemplate>>> {
  const mjml = takeStartedMjmlCompiler() ?? (options.mjmlInWorker ? openMjmlCompiler() : undefined);
  const run: Mjml2Html | undefined = mjml?.mjml2html;
  const mjml2html = options.mjmlCache ? options.mjmlCache.wrap(run ?? (async (text, o) => (await import('mjml')).default(text, o))) : run;
  try {
    return await compileTemplate({
      main: campaign.template,
      variants: campaign.variants,
      partials: campaign.partials,
      ...(campaign.textTemplate ? { textTemplate: campaign.textTemplate } : {}),
      ...(campaign.config.subject ? { configSubject: campaign.config.subject } : {}),
      ...(mjml2html ? { mjml2html } : {}),
      ...(options.accessibility ? { accessibility: true, language: campaign.config.language } : {}),
    });
  } finally {
    await mjml?.close();
  }
}

/**
 * Plan, then apply: validate and render every recipient's message. validate, preview and send
 * all go through here, so they cannot disagree about what a message contains.
 */
export async function planCampaign(dir: string, options: PlanOptions & PrepareOptions = {}): Promise<PlanResult> {
  const { prepared, diagnostics, configLoaded } = await prepareCampaign(dir, options);
  if (!prepared) return finish({ configLoaded, ok: false, rows: 0, messages: 0, suppressed: [], languages: {}, diagnostics });
  return planMessages(prepared, options);
}

/** Render every row of a prepared campaign, in file order, handing each message to onMessage. */
export async function planMessages(prepared: PreparedCampaign, options: PlanOptions = {}): Promise<PlanResult> {
  const { campaign, template, suppressed, diagnostics, csv } = prepared;
  delete prepared.csv; // its records are read once: a second plan parses the text again
  const result: PlanResult = { campaign, configLoaded: true, ok: false, rows: 0, messages: 0, suppressed: [], languages: {}, diagnostics };
  if (!template) {
    // Still check every recipient row, so the user sees all problems at once.
    const summary = await forEachRecipient(campaign, diagnostics, () => {}, csv);
    result.rows = summary.rows;
    checkListSize(campaign, result);
    return finish(result);
  }
  const renderer = new RowRenderer(campaign, template, diagnostics, { html: options.html ?? true, text: options.text ?? true, ...(options.fullFirst !== undefined ? { fullFirst: options.fullFirst } : {}) });
  const summary = await forEachRecipient(campaign, diagnostics, async (row) => {
    if (suppressed.has(row.key)) {
      const s = { line: row.line, email: row.email, key: row.key };
      result.suppressed.push(s);
      await options.onSuppressed?.(s);
      return;
    }
    const message = await renderer.render(row);
    if (!message) return;
    result.messages++;
    result.languages[message.language] = (result.languages[message.language] ?? 0) + 1;
    await options.onMessage?.(message);
  }, csv);
  result.rows = summary.rows;
  renderer.checkColumns(summary.header);
  renderer.flushWarnings();
  if (result.suppressed.length > 0) {
    const lines = result.suppressed.map((s) => s.line);
    diagnostics.push(
      warning(campaign.recipients.path, lines[0], `${describeLines(lines)} ${lines.length === 1 ? 'is' : 'are'} on the suppression list (${campaign.config.suppress}) and will not be mailed`),
    );
  }
  checkListSize(campaign, result);
  return finish(result);
}

/**
 * Render some rows again, outside a plan: preview writes a version's extremes, known only once
 * every row was seen, and a live gallery can render any recipient on demand. The rows were
 * checked by the plan already, so problems found here are not reported again.
 */
export async function renderRows(prepared: PreparedCampaign, rows: readonly RecipientRow[], parts: { text?: boolean; checks?: boolean } = {}): Promise<PlannedMessage[]> {
  const { campaign, template } = prepared;
  if (!template) return [];
  const renderer = new RowRenderer(campaign, template, [], { html: true, text: parts.text ?? true, checks: parts.checks ?? true });
  const out: PlannedMessage[] = [];
  for (const row of rows) {
    const message = await renderer.render(row);
    if (message) out.push(message);
  }
  return out;
}

/** Checks that depend on how many recipients will be mailed (rows less the suppressed ones). */
function checkListSize(campaign: Campaign, result: PlanResult): void {
  const oneClick = oneClickUnsubscribeWarning(campaign, result.rows - result.suppressed.length);
  if (oneClick) result.diagnostics.push(oneClick);
}

export function oneClickUnsubscribeWarning(campaign: Campaign, recipients: number): Diagnostic | undefined {
  const at = campaign.config.unsubscribe ? settingPosition(campaign.configText, ['unsubscribe']) : undefined;
  return checkOneClickUnsubscribe(campaign.config, recipients, CONFIG_FILE, at);
}

function finish(result: PlanResult): PlanResult {
  sortDiagnostics(result.diagnostics);
  result.ok = result.configLoaded && countBySeverity(result.diagnostics).errors === 0;
  return result;
}

async function loadSuppression(campaign: Campaign, diagnostics: Diagnostic[]): Promise<Set<string>> {
  const file = campaign.config.suppress;
  if (!file) return new Set();
  try {
    return parseSuppressionList(await readFile(path.join(campaign.dir, file), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    diagnostics.push(error(file, undefined, `cannot read the suppression list: ${describeIoError(err)}`));
    return new Set();
  }
}

/** Renders rows against one compiled template, checking data and output as it goes. */
class RowRenderer {
  private readonly valueVariables: Map<string, { file: string; line: number; column: number }>;
  private readonly requiredColumns: Set<string>;
  private readonly attachmentCache = new Map<string, Buffer | null>();
  private readonly attachmentLists = new Map<string, AttachmentData[]>();
  private readonly unsubscribeUrl?: HandlebarsTemplateDelegate;
  private readonly missingLanguages = new Map<string, number[]>();
  private readonly outputWarnings = new Map<string, number[]>();
  private readonly blankValues = new Map<string, number[]>();
  private readonly checkedShapes = new Set<string>();
  private readonly accessibility = new Map<string, Diagnostic>();
  private readonly accessibilityChecks = new Map<string, number>();
  private readonly blockVariables: string[];
  private readonly variables: VariableUse[];
  private readonly valueNames: string[];
  private rendered = 0;

  constructor(
    private readonly campaign: Campaign,
    private readonly template: CompiledTemplate,
    private readonly diagnostics: Diagnostic[],
    /** checks: false renders only (the watch's message on screen, rendered again by the plan that checks it). */
    private readonly parts: { html: boolean; text: boolean; fullFirst?: number; checks?: boolean },
  ) {
    // Name the main message's line before a variant's or a partial's.
    this.variables = [...template.variables].sort((a, b) => Number(a.file !== campaign.template.path) - Number(b.file !== campaign.template.path));
    // A blank value matters only where it would show: not as a block's argument, not inside a
    // block (`{{#if liaison_name}}…{{liaison_phone}}…{{/if}}`), not with a `default` fallback.
    const optional = new Set(template.variables.filter((v) => v.block || v.conditional || v.helper === 'default').map((v) => v.name));
    this.valueVariables = new Map();
    for (const v of this.variables) {
      if (!optional.has(v.name) && !this.valueVariables.has(v.name)) this.valueVariables.set(v.name, v);
    }
    this.valueNames = [...this.valueVariables.keys()];
    this.blockVariables = [...new Set(template.variables.filter((v) => v.block).map((v) => v.name))];
    this.requiredColumns = new Set(campaign.config.required);
    const url = campaign.config.unsubscribe?.url;
    if (url) this.unsubscribeUrl = Handlebars.compile(url, { noEscape: true, strict: false });
  }

  async render(row: RecipientRow): Promise<PlannedMessage | undefined> {
    const { config } = this.campaign;
    const data = this.dataFor(row);
    const language = this.languageFor(row);
    const variant = language === config.language ? undefined : language;
    const shape = this.parts.checks === false ? undefined : this.shapeToCheck(row, data, language);
    const full = this.parts.fullFirst !== undefined && this.rendered < this.parts.fullFirst;
    // With fullFirst the text is skipped only where no check reads it (as the HTML is).
    const text = full || this.parts.text || (this.parts.fullFirst !== undefined && shape !== undefined);
    const html = full || this.parts.html || shape !== undefined || !((this.template.htmlSizeBound(data, variant) ?? Infinity) <= GMAIL_CLIP_BYTES);
    // Only a value with a line break can break the subject (the template renders it regardless
    // when the subject as written spans lines).
    const subject = html || hasLineBreak(data);
    const content = this.template.render(data, variant, { html, text, subject });
    if (content.subjectLineBreak) {
      this.diagnostics.push(
        error(this.campaign.recipients.path, row.line, 'the subject for this row contains a line break, and a subject is a header', 'remove the line break from the values the subject uses'),
      );
      return undefined;
    }
    if (shape !== undefined) {
      this.checkedShapes.add(shape);
      this.checkAccessibility(data, variant, language);
    }
    this.rendered++;
    const warnings = shape !== undefined ? checkRenderedMessage(content) : checkSize(content);
    for (const w of warnings) pushLine(this.outputWarnings, w, row.line);
    const message: PlannedMessage = { row, language, data, content, warnings, attachments: await this.attachmentsFor(row) };
    if (this.unsubscribeUrl) message.unsubscribeUrl = this.unsubscribeUrl(mapValues(data, (v) => encodeURIComponent(String(v))));
    return message;
  }

  /**
   * The output checks (leftover braces) and the accessibility checks read the whole message. Two messages of the
   * same language whose blocks all go the same way differ only in their values, so one full
   * check per such shape suffices, plus one for any row whose values contain braces. Returns
   * the shape when this message needs the full check (recorded once the message rendered).
   */
  private shapeToCheck(row: RecipientRow, data: Record<string, string>, language: string): string | undefined {
    for (const v of Object.values(row.fields)) if (v.includes('{{') || v.includes('}}')) return BRACES;
    const shape = `${language}\0${this.blockVariables.map((name) => ((data[name] ?? '') === '' ? '0' : '1')).join('')}`;
    return this.checkedShapes.has(shape) ? undefined : shape;
  }

  /**
   * Accessibility findings come from the template, so a few messages per language tell what all
   * would: the first of each shape (see shapeToCheck), at most ACCESSIBILITY_CHECKS per language.
   * Findings are kept once per template element and check.
   */
  private checkAccessibility(data: Record<string, string>, variant: string | undefined, language: string): void {
    const done = this.accessibilityChecks.get(language) ?? 0;
    if (done >= ACCESSIBILITY_CHECKS) return;
    this.accessibilityChecks.set(language, done + 1);
    for (const d of this.template.checkAccessibility(data, variant)) {
      // Not the message: it quotes the recipient's text. One finding per element and check.
      const key = `${formatLocation(d)}\0${d.check}`;
      if (!this.accessibility.has(key)) this.accessibility.set(key, d);
    }
  }

  /** Row values, blanks filled from config defaults; a used value left blank is reported. */
  private dataFor(row: RecipientRow): Record<string, string> {
    const defaults = this.campaign.config.defaults;
    const data: Record<string, string> = {};
    for (const k in defaults) data[k] = defaults[k]!;
    for (const k in row.fields) {
      const v = row.fields[k]!;
      if (v !== '' || data[k] === undefined) data[k] = v;
    }
    data.email = row.email;
    for (const name of this.valueNames) {
      if (data[name] === '' && !this.requiredColumns.has(name)) pushLine(this.blankValues, name, row.line);
    }
    return data;
  }

  private languageFor(row: RecipientRow): string {
    const { config } = this.campaign;
    const asked = (row.fields[config.columns.language] ?? '').trim().toLowerCase();
    if (asked === '' || asked === config.language.toLowerCase()) return config.language;
    if (this.template.languages.includes(asked)) return asked;
    pushLine(this.missingLanguages, asked, row.line);
    return config.language;
  }

  /** The same list for every row with the same attachments column value (read-only, shared). */
  private async attachmentsFor(row: RecipientRow): Promise<AttachmentData[]> {
    const column = this.campaign.config.columns.attachments;
    const value = column ? (row.fields[column] ?? '') : '';
    let list = this.attachmentLists.get(value);
    if (!list) {
      list = await this.readAttachments(value);
      this.attachmentLists.set(value, list);
    }
    return list;
  }

  private async readAttachments(columnValue: string): Promise<AttachmentData[]> {
    const { config, dir } = this.campaign;
    const files = [...config.attachments, ...attachmentNames(columnValue).map((n) => path.join('attachments', n))];
    const out: AttachmentData[] = [];
    for (const rel of files) {
      let content = this.attachmentCache.get(rel);
      if (content === undefined) {
        // A missing file is already an error of the plan (bulletin.json or the row's line).
        content = await readFile(path.join(dir, rel)).catch(() => null);
        this.attachmentCache.set(rel, content);
      }
      if (content) out.push({ filename: path.basename(rel), content });
    }
    return out;
  }

  /** A variable nothing provides is an error at its template line. */
  checkColumns(header: string[]): void {
    if (header.length === 0) return;
    const provided = new Set([...header, ...Object.keys(this.campaign.config.defaults), 'email']);
    const reported = new Set<string>();
    for (const v of this.variables) {
      if (provided.has(v.name) || reported.has(v.name)) continue;
      reported.add(v.name);
      this.diagnostics.push(
        error(v.file, v.line, `the template uses "${v.name}", but ${this.campaign.recipients.path} has no such column and bulletin.json no default`, `add a "${v.name}" column, or set "defaults": {"${v.name}": "…"} in bulletin.json`, v.column),
      );
    }
  }

  /** Row-level warnings, one diagnostic per kind with the lines it concerns. */
  flushWarnings(): void {
    const file = this.campaign.recipients.path;
    for (const [name, lines] of this.blankValues) {
      const v = this.valueVariables.get(name)!;
      this.diagnostics.push(
        warning(file, lines[0], `"${name}" is blank on ${describeLines(lines)}, and the template uses it (${v.file}:${v.line})`, `fill it in, or set a default in bulletin.json "defaults"; list it in "required" to make this an error`),
      );
    }
    for (const [language, lines] of this.missingLanguages) {
      this.diagnostics.push(
        warning(file, lines[0], `language "${language}" on ${describeLines(lines)} has no template variant; those recipients get ${this.campaign.template.path}`, `add ${variantName(this.campaign.template.path, language)} to send them their language`),
      );
    }
    for (const [message, lines] of this.outputWarnings) {
      this.diagnostics.push(warning(file, lines[0], `${message} (the message for ${describeLines(lines)})`));
    }
    this.diagnostics.push(...this.accessibility.values());
  }
}

function hasLineBreak(data: Record<string, string>): boolean {
  for (const k in data) {
    const v = data[k]!;
    if (v.includes('\n') || v.includes('\r')) return true;
  }
  return false;
}

/** Messages checked for accessibility per language: each costs ~10 ms; shapes beyond these rarely differ. */
const ACCESSIBILITY_CHECKS = 8;

/** Not a shape: a message whose values have braces is always checked in full. */
const BRACES = '{{}}';

function pushLine(map: Map<string, number[]>, key: string, line: number): void {
  const lines = map.get(key);
  if (lines) lines.push(line);
  else map.set(key, [line]);
}

function describeLines(lines: number[]): string {
  if (lines.length === 1) return `line ${lines[0]}`;
  const shown = lines.slice(0, 8).join(', ');
  return `${lines.length} rows (lines ${shown}${lines.length > 8 ? ', …' : ''})`;
}

function variantName(templatePath: string, language: string): string {
  const ext = path.extname(templatePath);
  return `${templatePath.slice(0, templatePath.length - ext.length)}.${language}${ext}`;
}

function mapValues(data: Record<string, string>, f: (v: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, f(v)]));
}

export interface BuildOptions {
  messageId: string;
  date: Date;
  testTo?: string;
}

/**
 * The exact bytes of one message, as nodemailer's MailComposer builds them: its tree (headers,
 * parts, boundaries) is compiled by MailComposer, and written without its streams by
 * `assembleMessage` (same bytes, attachments encoded once per campaign); a tree it cannot write
 * is built by MailComposer itself.
 */
export async function buildMessageBytes(campaign: Campaign, message: PlannedMessage, options: BuildOptions): Promise<Buffer> {
  const input: MessageInput = {
    config: campaign.config,
    row: message.row,
    content: message.content,
    messageId: options.messageId,
    date: options.date,
    attachments: message.attachments,
  };
  if (message.unsubscribeUrl) input.unsubscribeUrl = message.unsubscribeUrl;
  if (options.testTo) input.testTo = options.testTo;
  const { MailComposer, skeletons } = await mimeBuilder();
  // nodemailer's own boundary token, 8 random bytes as hex, from a pool instead of a system call each
  const composed = { ...composeMessage(input), baseBoundary: randomToken() };
  return skeletons.build(composed) ?? new MailComposer(composed).compile().build();
}

let randomPool = Buffer.alloc(0);
let randomAt = 0;

/** 16 hex digits of randomness, as nodemailer makes a boundary's (`randomBytes(8)`), drawn from a pool. */
function randomToken(): string {
  if (randomAt + 8 > randomPool.length) {
    randomPool = randomBytes(8 * 512);
    randomAt = 0;
  }
  randomAt += 8;
  return randomPool.toString('hex', randomAt - 8, randomAt);
}

interface MimeBuilder {
  MailComposer: typeof MailComposerType;
  skeletons: MessageSkeletons;
}

let loadedBuilder: Promise<MimeBuilder> | undefined;

/** nodemailer is loaded by the first message built: validate never needs it. */
function mimeBuilder(): Promise<MimeBuilder> {
  loadedBuilder ??= Promise.all([
    import('nodemailer/lib/mail-composer/index.js'),
    import('nodemailer/lib/qp/index.js'),
    import('nodemailer/lib/base64/index.js'),
    import('nodemailer/lib/mime-node/index.js'),
    import('nodemailer/lib/mime-funcs/index.js'),
    import('./core/mime-assembly.js'),
  ]).then(([composer, qp, base64, mimeNode, mimeFuncs, assembly]) => ({
    MailComposer: composer.default,
    // one per process: its shapes are keyed by the attachments' Buffers, which are the campaign's
    skeletons: new assembly.MessageSkeletons({
      MailComposer: composer.default,
      MimeNode: mimeNode.default,
      isPlainText: mimeFuncs.isPlainText,
      hasLongerLines: mimeFuncs.hasLongerLines,
      encoders: { QpEncoder: qp.Encoder, Base64Encoder: base64.Encoder },
    }),
  }));
  return loadedBuilder;
}
