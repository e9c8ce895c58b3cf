import path from 'node:path';
import { checkAddress } from './core/address.js';
import { verpAddress, verpTokenFor } from './core/inbox.js';
import { foldManifest, resumeDecision, summarizeRun, type ManifestRecord, type RecipientOutcome, type RunSummary } from './core/manifest.js';
import { messageIdFor, senderAddress } from './core/message.js';
import type { OutgoingMessage } from './core/outgoing.js';
import { formatRate, parseRate, type Rate } from './core/rate.js';
import { countSince, dailyPlan, describeDailyPlan, PROVIDER_LIMITS, type ProviderLimits } from './core/provider-limits.js';
import { resolveForCampaign, runTransportCheck } from './check-transport.js';
import { settingsTransport, type ResolvedTransport } from './io/transport-setup.js';
import type { ApprovalRecord } from './core/approval.js';
import { CampaignError } from './io/campaign.js';
import { approvalComparesRows, approvalStateOf, readApprovals } from './io/approvals.js';
import { Channel } from './io/channel.js';
import { runDelivery, type DeliveryEvent, type DeliveryOptions, type DeliveryResult } from './io/deliver.js';
import { diffDigests, digestCampaign, sha256, type CampaignDigest } from './io/digest.js';
import { acquireLock } from './io/lock.js';
import { createRun, listRuns, readManifest, runDir, summarizeManifest, writeRunInfo, createRunId, manifestPath, ManifestStore, type RunInfo } from './io/manifest-store.js';
import { GRAPH_MAX_CONCURRENCY } from './io/graph-transport.js';
import { toolVersion } from './io/package-info.js';
import { describeTransport, openTransport, parseTransport, TransportUrlError, type TransportSignIn, type TransportSpec } from './io/transport.js';
import { readFile } from 'node:fs/promises';
import type { Diagnostic } from './core/diagnostics.js';
import { buildMessageBytes, oneClickUnsubscribeWarning, planMessages, prepareCampaign, type PlanResult, type PreparedCampaign } from './plan.js';
import { rowHash } from './preview.js';

export interface SendRequest {
  dir: string;
  /**
   * Transport URL: smtp://, smtps://, microsoft365, google, graph, or outbox:DIR (relative to the
   * campaign folder). DEFAULT_TRANSPORT lets bulletin.json's "transport" block decide.
   */
  transport: string;
  /** BULLETIN_* sign-in settings (the environment over the campaign's .env). */
  env?: Record<string, string | undefined>;
  testTo?: string;
  limit?: number;
  rate?: string;
  concurrency?: number;
  /** Continue a run: its id, or true for the latest unfinished one. */
  resume?: string | true;
  resendUncertain?: boolean;
  retryFailed?: boolean;
  newRun?: boolean;
  now: () => Date;
  signal?: AbortSignal;
  /** Asked once everything is checked, before anything is sent. */
  confirm: (summary: SendSummary) => Promise<boolean>;
  onEvent?: (event: DeliveryEvent) => void;
  /** Things worth telling the user that are not problems (a stale lock replaced). */
  onNotice?: (message: string) => void;
  /** Called once sending starts, with how many messages this run will try. */
  onStart?: (total: number) => void;
}

export interface SendSummary {
  campaign: string;
  runId: string;
  resuming: boolean;
  test: boolean;
  /** Valid recipients in the list (suppressed excluded). */
  recipients: number;
  /** Messages this run will try now. */
  toSend: number;
  suppressed: number;
  skipped: { sent: number; failed: number; uncertain: number };
  uncertain: RecipientOutcome[];
  from: string;
  subject: string;
  transport: string;
  /** Set when bulletin.json's "transport" block chose the transport. */
  transportSource?: string;
  concurrency: number;
  rate?: string;
  /** The provider's published limits; `paced`: they set the rate (nothing else did). */
  limits?: { service: string; basis: string; paced: boolean; rate: string };
  /** The rate asked for is faster than the provider allows. */
  rateWarning?: string;
  /** The campaign is larger than the provider's daily limit: how to split it, or what to use instead. */
  dailyLimit?: { days: number; advice: string };
  /** What the transport check did before the question (providers only). */
  checked?: string[];
  /** False for the outbox: files on this machine are written as fast as they are made, whatever the rate. */
  paced: boolean;
  estimatedSeconds: number;
  approval?: ApprovalRecord;
  /** Warnings to show with the summary, before the question (validate lists them all). */
  warnings: Diagnostic[];
}

export type SendResult =
  | { kind: 'invalid'; plan: PlanResult }
  | { kind: 'declined'; summary: SendSummary }
  | { kind: 'nothing-to-do'; summary: SendSummary }
  | { kind: 'done'; summary: SendSummary; runDir: string; delivery: DeliveryResult; run: RunSummary; finished: boolean };

/**
 * `bulletin send`: check and render everything first (any error: nothing is sent), refuse
 * anything that could send twice by accident, ask, then deliver while recording each
 * recipient in the run manifest.
 */
export async function sendCampaign(request: SendRequest): Promise<SendResult> {
  const requestedSpec = transportSpec(request);
  const { prepared, diagnostics, configLoaded } = await prepareCampaign(request.dir, { mjmlInWorker: true });
  if (!prepared) return { kind: 'invalid', plan: { configLoaded, ok: false, rows: 0, messages: 0, suppressed: [], languages: {}, diagnostics } };
  const { campaign } = prepared;
  const testTo = request.testTo === undefined ? undefined : testAddress(request.testTo);

  const digest = await digestCampaign(campaign);
  const approvals = testTo ? [] : await readApprovals(campaign.dir);
  // Per recipient, pass 1 keeps only what is used afterwards: keys to look up in the run being
  // resumed, and row hashes where an approval of other content is compared row by row. A fresh
  // send keeps nothing per recipient.
  const keepRows = request.resume !== undefined || approvalComparesRows(approvals, digest);

  // Pass 1: render and check every message; keep only counts, the first subject and, if needed, row hashes.
  const rows: Record<string, string> | undefined = keepRows ? {} : undefined;
  let firstSubject = '';
  const plan = await planMessages(prepared, {
    // Only the checks: the text part and most HTML are made in pass 2, for sending.
    text: false,
    html: false,
    onMessage: (m) => {
      if (firstSubject === '') firstSubject = m.content.subject;
      if (rows) rows[m.row.key] = rowHash(m.row.fields);
    },
  });
  if (!plan.ok) return { kind: 'invalid', plan };
  if (rows) for (const s of plan.suppressed) rows[s.key] = 'suppressed';

  const approval = testTo ? undefined : requireApproval(prepared, approvals, digest, rows);
  const runs = (await listRuns(campaign.dir)).filter((r) => !r.test);
  const run = testTo ? undefined : await chooseRun(request, runs, digest, campaign.dir);
  const runId = run?.info.id ?? createRunId(request.now());
  const fromSettings = request.transport === DEFAULT_TRANSPORT && campaign.config.transport !== undefined;
  const resolved: ResolvedTransport =
    fromSettings && campaign.config.transport
      ? await resolveForCampaign(settingsTransport(campaign.config.transport), signInContext(request, prepared), 'check "transport" in bulletin.json')
      : requestedSpec.kind === 'smtp' || requestedSpec.kind === 'outbox'
        ? { spec: requestedSpec }
        : await resolveForCampaign(request.transport, signInContext(request, prepared), 'give --transport');
  const spec = resolveOutbox(resolved.spec, campaign.dir, runDir(campaign.dir, runId));
  const previous = run ? foldManifest(run.records) : new Map<string, ManifestRecord>();
  const limits = resolved.signIn ? PROVIDER_LIMITS[resolved.signIn.provider] : undefined;

  const settings = deliverySettings(prepared, request, limits, spec);
  const resumeOptions = { retryFailed: request.retryFailed ?? false, resendUncertain: request.resendUncertain ?? false };
  const skipped = { sent: 0, failed: 0, uncertain: 0 };
  // Without rows there is no run to resume: every recipient is to be sent.
  let toSend = rows ? 0 : plan.messages;
  for (const [key, hash] of Object.entries(rows ?? {})) {
    if (hash === 'suppressed') continue;
    const decision = resumeDecision(previous.get(key), resumeOptions);
    if (decision === 'skip-sent') skipped.sent++;
    else if (decision === 'skip-failed') skipped.failed++;
    else if (decision === 'skip-uncertain') skipped.uncertain++;
    else if (decision === 'send') toSend++;
  }
  const limit = request.limit ?? (testTo ? 1 : undefined);
  if (limit !== undefined) toSend = Math.min(toSend, limit);

  const summary: SendSummary = {
    campaign: campaign.config.name ?? path.basename(campaign.dir),
    runId,
    resuming: run !== undefined,
    test: testTo !== undefined,
    recipients: plan.messages,
    toSend,
    suppressed: plan.suppressed.length,
    skipped,
    uncertain: run ? summarizeRun(run.records).uncertain : [],
    from: campaign.config.from,
    subject: testTo ? `[TEST] ${firstSubject}` : firstSubject,
    transport: describeTransport(spec),
    concurrency: settings.concurrency,
    paced: spec.kind !== 'outbox',
    estimatedSeconds: estimateSeconds(toSend, settings.rate, spec, settings.concurrency),
    warnings: [],
  };
  const oneClick = testTo ? undefined : oneClickUnsubscribeWarning(campaign, plan.rows - plan.suppressed.length);
  if (oneClick) summary.warnings.push(oneClick);
  if (campaign.config.send.rate || request.rate) summary.rate = request.rate ?? campaign.config.send.rate;
  else if (settings.rate) summary.rate = formatRate(settings.rate);
  if (fromSettings) summary.transportSource = 'bulletin.json';
  if (limits) {
    const paced = request.rate === undefined && campaign.config.send.rate === undefined;
    summary.limits = { service: limits.service, basis: limits.basis, paced, rate: formatRate(limits.rate) };
    if (!paced && settings.rate && settings.rate.count / settings.rate.periodMs > limits.rate.count / limits.rate.periodMs) {
      summary.rateWarning = `${summary.rate ?? formatRate(settings.rate)} is faster than ${limits.service} allows (${formatRate(limits.rate)}): it will slow down or refuse messages; leave --rate and send.rate unset to use its limit`;
    }
    if (!testTo) {
      const sentAt = (run?.records ?? []).filter((r) => r.state === 'sent').map((r) => r.at);
      const plan = dailyPlan(toSend, limits.dailyRecipients, countSince(sentAt, request.now().getTime()));
      if (plan) summary.dailyLimit = { days: plan.days, advice: describeDailyPlan(plan, toSend, limits) };
    }
  }
  if (approval) summary.approval = approval;
  if (toSend === 0) return { kind: 'nothing-to-do', summary };
  if (resolved.signIn) {
    // the same check as `bulletin check-transport`: a wrong tenant or a disabled mailbox is
    // found now, in plain words, rather than as a stopped run
    const check = await runTransportCheck(resolved, request.now);
    if (!check.ok) {
      throw new CampaignError(
        `cannot send through ${check.transport}: ${check.problem ?? 'the check failed'}${check.reply ? ` (the service said: ${check.reply})` : ''}`,
        `${check.fix ?? 'see `bulletin check-transport`'}; nothing was sent`,
      );
    }
    summary.checked = check.steps;
  }
  if (!(await request.confirm(summary))) return { kind: 'declined', summary };

  const lock = await acquireLock(campaign.dir, { command: 'bulletin send' });
  if (lock.stale) {
    request.onNotice?.(`found a stale lock from process ${lock.stale.pid} (started ${lock.stale.startedAt}), which no longer exists: it crashed or was killed; replaced it`);
  }
  try {
    return await deliverRun({ request, prepared, spec, signIn: resolved.signIn, summary, digest, run: run?.info, previous, resumeOptions, settings, limit, testTo });
  } finally {
    await lock.release();
  }
}

interface DeliverRunInput {
  request: SendRequest;
  prepared: PreparedCampaign;
  spec: TransportSpec;
  signIn: TransportSignIn | undefined;
  summary: SendSummary;
  digest: CampaignDigest;
  run: RunInfo | undefined;
  previous: Map<string, ManifestRecord>;
  resumeOptions: { retryFailed: boolean; resendUncertain: boolean };
  settings: DeliverySettings;
  limit: number | undefined;
  testTo: string | undefined;
}

async function deliverRun(input: DeliverRunInput): Promise<SendResult> {
  const { request, prepared, spec, summary, digest, previous, resumeOptions, settings, limit, testTo } = input;
  const { campaign } = prepared;
  const now = request.now();
  let info: RunInfo;
  let dir: string;
  if (input.run) {
    info = input.run;
    dir = runDir(campaign.dir, info.id);
  } else {
    info = { id: summary.runId, startedAt: now.toISOString(), toolVersion: toolVersion(), digests: { campaign: digest.digest, ...digest.files }, transport: summary.transport };
    if (testTo) info.test = true;
    if (summary.approval) info.approval = { by: summary.approval.by, at: summary.approval.at, digest: summary.approval.digest, ...(summary.approval.versions ? { versions: summary.approval.versions } : {}) };
    dir = await createRun(campaign.dir, info);
  }
  const store = await ManifestStore.open(dir);
  const transport = await openTransport(spec, transportOptions(settings, await dkimKey(prepared), input.signIn));
  const from = senderAddress(campaign.config.from);
  // VERP: with a `returnPath` pattern each recipient gets an envelope sender of their own, so a
  // bounce names them even when it quotes nothing of the original message.
  const returnPath = campaign.config.returnPath;
  const envelopeSender = (key: string): string => (returnPath === undefined ? from : verpAddress(returnPath, verpTokenFor(summary.runId, key, sha256)));
  // One message ready at the hand-over: runDelivery's own look-ahead is the buffer.
  const channel = new Channel<OutgoingMessage>(1);
  let queued = 0;
  let cutShort = false;
  request.onStart?.(summary.toSend);

  // Pass 2: render again (same in-memory campaign, so the same content), build bytes, hand over.
  const producer = planMessages(
    { ...prepared, diagnostics: [] },
    {
      onSuppressed: async (s) => {
        if (testTo || previous.get(s.key)?.state === 'suppressed') return;
        await store.append({ email: s.email, key: s.key, line: s.line, messageId: '', state: 'suppressed', attempt: 0, at: request.now().toISOString(), response: 'on the suppression list' });
      },
      onMessage: async (message) => {
        if (request.signal?.aborted) {
          cutShort = true;
          return;
        }
        const decision = resumeDecision(previous.get(message.row.key), resumeOptions);
        if (decision !== 'send') return;
        if (limit !== undefined && queued >= limit) {
          cutShort = true;
          return;
        }
        queued++;
        const messageId = previous.get(message.row.key)?.messageId || messageIdFor(summary.runId, message.row.key, from, sha256);
        const raw = await buildMessageBytes(campaign, message, { messageId, date: request.now(), ...(testTo ? { testTo } : {}) });
        await channel.push({ key: message.row.key, email: message.row.email, line: message.row.line, messageId, envelope: { from: envelopeSender(message.row.key), to: [testTo ?? message.row.email] }, raw });
      },
    },
  ).then(
    (result) => {
      channel.close();
      return result;
    },
    (err: unknown) => {
      channel.close(err);
      throw err;
    },
  );

  let delivery: DeliveryResult;
  try {
    delivery = await runDelivery({
      messages: channel,
      transport,
      store,
      options: settings,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onEvent ? { onEvent: request.onEvent } : {}),
    });
  } finally {
    channel.close();
    await producer.catch(() => undefined);
    await transport.close();
    await store.close();
  }
  await producer;
  const run = await summarizeManifest(manifestPath(dir));
  const everyoneDone = !cutShort && delivery.stoppedBecause === undefined && run.counts.deferred === 0;
  if (everyoneDone && !info.finishedAt) {
    info.finishedAt = request.now().toISOString();
    await writeRunInfo(dir, info);
  }
  return { kind: 'done', summary, runDir: dir, delivery, run, finished: info.finishedAt !== undefined };
}

/** runDelivery's options, with the rate already parsed (the estimate needs it as numbers). */
type DeliverySettings = DeliveryOptions & { rate?: Rate };

/**
 * A provider's published limits set the pace unless --rate or send.rate says otherwise, and cap
 * the connections unless --concurrency does. The rate is checked whatever the transport, but
 * applies only to what leaves the machine: never to the outbox's files.
 */
function deliverySettings(prepared: PreparedCampaign, request: SendRequest, limits: ProviderLimits | undefined, spec: TransportSpec): DeliverySettings {
  const send = prepared.campaign.config.send;
  let concurrency = request.concurrency ?? (limits ? Math.min(send.concurrency, limits.concurrency) : send.concurrency);
  // Graph serves 4 requests at once per mailbox: a fifth worker would wait inside the transport
  // with its `sending` line already written, and look uncertain after a crash.
  if (spec.kind === 'graph') concurrency = Math.min(concurrency, GRAPH_MAX_CONCURRENCY);
  const rateText = request.rate ?? send.rate;
  const rate = rateText === undefined ? limits?.rate : parseRate(rateText);
  if (rateText !== undefined && !rate) throw new CampaignError(`cannot read the rate "${rateText}"`, 'write it as 10/sec, 600/min or 5000/hour');
  const settings: DeliverySettings = { concurrency, retries: send.retries, maxConsecutiveFailures: send.maxConsecutiveFailures };
  if (rate && spec.kind !== 'outbox') settings.rate = rate;
  if (send.perDomain !== undefined) settings.perDomain = send.perDomain;
  return settings;
}

function transportOptions(settings: DeliverySettings, dkim: Awaited<ReturnType<typeof dkimKey>>, signIn: TransportSignIn | undefined): Parameters<typeof openTransport>[1] {
  return { concurrency: settings.concurrency, ...(dkim ? { dkim } : {}), ...(signIn ? { signIn } : {}) };
}

function signInContext(request: SendRequest, prepared: PreparedCampaign): Parameters<typeof resolveForCampaign>[1] {
  const { config, dir } = prepared.campaign;
  return { env: request.env ?? {}, settings: config.transport, mailbox: senderAddress(config.from), dir };
}

async function dkimKey(prepared: PreparedCampaign) {
  const dkim = prepared.campaign.config.dkim;
  if (!dkim) return undefined;
  const privateKey = await readFile(path.join(prepared.campaign.dir, dkim.privateKey), 'utf8');
  return { domainName: dkim.domain, keySelector: dkim.selector, privateKey };
}

function transportSpec(request: SendRequest): TransportSpec {
  try {
    return parseTransport(request.transport);
  } catch (err) {
    if (err instanceof TransportUrlError) throw new CampaignError(err.message, 'give --transport, or set BULLETIN_TRANSPORT');
    throw err;
  }
}

/** outbox:DIR is relative to the campaign folder; the default outbox lives in the run folder. */
function resolveOutbox(spec: TransportSpec, campaignDir: string, runFolder: string): TransportSpec {
  if (spec.kind !== 'outbox') return spec;
  const dir = spec.dir === DEFAULT_OUTBOX_DIR ? path.join(runFolder, 'outbox') : path.resolve(campaignDir, spec.dir);
  // Shown to the user: relative to where they are when that is shorter.
  const relative = path.relative(process.cwd(), dir);
  return { kind: 'outbox', dir: relative.startsWith('..') || relative === '' ? dir : relative };
}

/** The built-in default: each run's messages in runs/<run-id>/outbox/. */
export const DEFAULT_OUTBOX_DIR = '<run>/outbox';
export const DEFAULT_TRANSPORT = `outbox:${DEFAULT_OUTBOX_DIR}`;

function testAddress(value: string): string {
  const check = checkAddress(value);
  if (!check.ok) throw new CampaignError(`--test-to: ${check.reason}`);
  return check.address;
}

function requireApproval(prepared: PreparedCampaign, approvals: ApprovalRecord[], digest: CampaignDigest, rows: Record<string, string> | undefined): ApprovalRecord | undefined {
  const { campaign } = prepared;
  const state = approvalStateOf(approvals, digest, rows, campaign.recipients.path);
  if (state.state === 'approved') return state.approval;
  if (!campaign.config.requireApproval) return undefined;
  if (state.state === 'none') {
    throw new CampaignError('this campaign needs a reviewer\'s approval before it is sent ("requireApproval" in bulletin.json), and has none', 'run `bulletin preview`, then a reviewer runs `bulletin approve --by "Name"`; test sends (--test-to) need no approval');
  }
  throw new CampaignError(
    `the campaign changed since ${state.approval.by} approved it on ${state.approval.at}: ${state.changes.join('; ')}`,
    'run `bulletin preview` and have a reviewer approve the new content with `bulletin approve --by "Name"`',
  );
}

interface ExistingRun {
  info: RunInfo;
  records: ManifestRecord[];
}

/** Never start over by accident: an unfinished run must be resumed, a finished one needs --new-run. */
async function chooseRun(request: SendRequest, runs: RunInfo[], digest: CampaignDigest, campaignDir: string): Promise<ExistingRun | undefined> {
  const withRecords = async (info: RunInfo): Promise<ExistingRun> => ({ info, records: (await readManifest(manifestPath(runDir(campaignDir, info.id)))).records });
  if (request.resume !== undefined) {
    const info = request.resume === true ? runs.filter((r) => !r.finishedAt).at(-1) : runs.find((r) => r.id === request.resume);
    if (!info) {
      throw new CampaignError(
        request.resume === true ? 'there is no unfinished run to resume' : `there is no run "${request.resume}"`,
        runs.length > 0 ? `runs: ${runs.map((r) => r.id).join(', ')}; \`bulletin status\` shows them` : 'start one with `bulletin send`',
      );
    }
    const changes = diffDigests(withoutTotal(info.digests), digest.files);
    if (changes.length > 0) {
      throw new CampaignError(
        `the campaign changed since run ${info.id} began: ${changes.join('; ')}; resuming would send different content to the rest`,
        'undo the change to resume, or start again with `bulletin send --new-run` (recipients of the old run would get the new content too)',
      );
    }
    return withRecords(info);
  }
  if (request.newRun) return undefined;
  const unfinished = runs.filter((r) => !r.finishedAt).at(-1);
  if (unfinished) {
    const summary = summarizeRun((await withRecords(unfinished)).records);
    throw new CampaignError(
      `run ${unfinished.id} (started ${unfinished.startedAt}) is unfinished: ${summary.counts.sent} sent so far`,
      'continue it with `bulletin send --resume` (already-sent recipients are skipped); `bulletin status` shows where it stopped',
    );
  }
  const finished = runs.at(-1);
  if (finished) {
    const summary = summarizeRun((await withRecords(finished)).records);
    throw new CampaignError(
      `this campaign was already sent: run ${finished.id} finished ${finished.finishedAt} and reached ${summary.counts.sent} recipients`,
      'to send it again to everyone, add --new-run; to follow up on failures, see `bulletin status`',
    );
  }
  return undefined;
}

function withoutTotal(digests: Record<string, string>): Record<string, string> {
  const { campaign: _total, ...files } = digests;
  return files;
}

function estimateSeconds(messages: number, rate: Rate | undefined, spec: TransportSpec, concurrency: number): number {
  // A hosted SMTP service typically takes a few hundred ms per message per connection.
  const natural = spec.kind === 'outbox' ? 500 : concurrency * 4;
  const perSecond = rate ? Math.min((rate.count * 1000) / rate.periodMs, natural) : natural;
  return Math.ceil(messages / perSecond);
}
