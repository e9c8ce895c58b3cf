/**
 * The apply step of `send`: deliver every planned message, recording each try in the manifest.
 *
 * For each message: append `sending` (on disk) → hand it to the transport → append the outcome.
 * - sent → `sent` with the reply; 5xx → `failed` with code and reply, the run goes on;
 * - temporary (4xx, lost before the data was sent) → `deferred` with the next try, retried with
 *   backoff up to `retries` times, every try on the record; when the server said when to come
 *   back (Retry-After), no sooner than that, and no other message starts before then either;
 * - uncertain (lost after the final `.`) → stays `sending` (a second `sending` line says why):
 *   never retried automatically;
 * - fatal (bad login, TLS/connection settings) → `deferred` (not sent), stop taking messages;
 * - too many failures in a row → stop; the AbortSignal (Ctrl-C, SIGTERM) → stop.
 * Stopping lets the messages in flight finish and be recorded. Messages are pulled from the
 * iterable lazily, at most a small look-ahead ahead of what is in flight, so memory stays
 * bounded however long the list is.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { ManifestRecord } from '../core/manifest.js';
import type { OutgoingMessage } from '../core/outgoing.js';
import { backoffDelay, DomainSlots, domainOf, parseRate, RateLimiter, type Rate } from '../core/rate.js';
import type { DeliveryOutcome, DeliveryTransport } from './transport.js';

export type StopReason = 'interrupted' | 'auth' | 'connection' | 'consecutive-failures' | 'error';

export interface DeliveryOptions {
  /** Messages in flight at once (the SMTP pool should have as many connections). */
  concurrency: number;
  /** Shared rate across all connections: `10/sec`, `600/min`, or a parsed Rate. */
  rate?: string | Rate;
  /** Most messages in flight at once to one recipient domain. */
  perDomain?: number;
  /** Tries after a temporary failure. */
  retries: number;
  /** Stop after this many recipients failed (or became uncertain) in a row. */
  maxConsecutiveFailures: number;
  backoff?: { baseMs: number; maxMs: number };
}

export type DeliveryEvent =
  | { type: 'sending'; message: OutgoingMessage; attempt: number }
  | { type: 'sent' | 'failed' | 'deferred' | 'uncertain'; message: OutgoingMessage; attempt: number; outcome: DeliveryOutcome; nextTry?: string }
  | { type: 'skipped'; message: OutgoingMessage }
  | { type: 'stopping'; reason: StopReason; detail?: string };

export interface UncertainRecipient {
  key: string;
  email: string;
  line: number;
  messageId: string;
  response: string;
}

export interface DeliveryResult {
  sent: number;
  failed: number;
  /** Recipients left deferred: to be tried again by a resume. */
  deferred: number;
  uncertain: UncertainRecipient[];
  /** Messages passed over because `skip` said so (already done in an earlier try of the run). */
  skipped: number;
  /** Tries made (a retry counts again). */
  attempts: number;
  stoppedBecause?: StopReason;
  /** What the server said (or what went wrong) when the run stopped. */
  stopDetail?: string;
}

export interface RunDeliveryInput {
  messages: AsyncIterable<OutgoingMessage> | Iterable<OutgoingMessage>;
  transport: Pick<DeliveryTransport, 'deliver'>;
  store: { append(record: ManifestRecord): Promise<void> };
  skip?: (key: string) => boolean;
  options: DeliveryOptions;
  signal?: AbortSignal;
  onEvent?: (event: DeliveryEvent) => void;
  /** Clock (ms since epoch); injectable for tests. */
  now?: () => number;
  /** Waits ms, or less if the signal aborts; injectable for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 5_000, maxMs: 5 * 60_000 };

export async function runDelivery(input: RunDeliveryInput): Promise<DeliveryResult> {
  return new DeliveryRun(input).run();
}

interface Job {
  message: OutgoingMessage;
  attempt: number;
  /** Not before this time (ms): the backoff of a retry. */
  dueAt: number;
  domain: string;
}

async function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleepFor(ms, undefined, { signal });
  } catch {
    // woken early: the caller looks at the state again
  }
}

class DeliveryRun {
  private readonly source: AsyncIterator<OutgoingMessage>;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly limiter: RateLimiter | undefined;
  private readonly slots: DomainSlots;
  private readonly lookahead: number;

  /** Pulled from the source (or waiting to be retried), not yet in flight. */
  private readonly pending: Job[] = [];
  private inFlight = 0;
  private pulling = false;
  private exhausted = false;
  private stopping = false;
  /**
   * Woken whenever something a waiting worker may care about changes. Plain callbacks, not an
   * AbortController per change: on Node 20 every AbortSignal outlives the young generation, and
   * a few per message added up to megabytes of old-space garbage a minute.
   */
  private waiters: (() => void)[] = [];
  private finished = false;
  /** Cut short the rate waits when the run stops. */
  private readonly stopListeners = new Set<() => void>();
  /** An I/O fault (the manifest could not be written): stop, then throw it to the caller. */
  private fault: Error | undefined;
  /** `sent` lines appended but not yet on disk (see unsynced). */
  private readonly syncing = new Set<Promise<void>>();

  private consecutiveFailures = 0;
  /**
   * No message starts before this time (ms): the server asked the whole sender to wait
   * (Retry-After). Jobs wait here unrecorded, rather than as `sending` inside the transport,
   * where a crash would leave them looking uncertain although nothing went out.
   */
  private pausedUntil = 0;
  private readonly deferredKeys = new Set<string>();
  private readonly result: DeliveryResult = { sent: 0, failed: 0, deferred: 0, uncertain: [], skipped: 0, attempts: 0 };

  constructor(private readonly input: RunDeliveryInput) {
    const messages = input.messages;
    this.source = Symbol.asyncIterator in messages ? messages[Symbol.asyncIterator]() : toAsync(messages);
    this.now = input.now ?? Date.now;
    this.sleep = input.sleep ?? defaultSleep;
    this.random = input.random ?? Math.random;
    const rate = typeof input.options.rate === 'string' ? parseRate(input.options.rate) : input.options.rate;
    if (typeof input.options.rate === 'string' && !rate) throw new Error(`invalid rate "${input.options.rate}": use e.g. 10/sec, 600/min or 5000/hour`);
    this.limiter = rate ? new RateLimiter(rate) : undefined;
    this.slots = new DomainSlots(input.options.perDomain);
    // Look ahead only where it helps: with a per-domain limit, to find a message for a domain that
    // has room. Otherwise one waiting message per worker keeps them busy, and every message held
    // longer (~30 KB of bytes each) lives on into the old generation before it is dropped.
    this.lookahead = input.options.perDomain === undefined ? Math.max(1, input.options.concurrency) : Math.max(16, input.options.concurrency * 4);
  }

  async run(): Promise<DeliveryResult> {
    const { signal } = this.input;
    const onAbort = (): void => this.stop('interrupted');
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const workers = Array.from({ length: Math.max(1, this.input.options.concurrency) }, () => this.work());
      await Promise.all(workers);
      await Promise.all(this.syncing);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.finished = true;
      this.notify();
      if (this.stopping) await this.source.return?.();
    }
    if (this.fault !== undefined) throw this.fault;
    this.result.deferred = this.deferredKeys.size;
    return this.result;
  }

  private async work(): Promise<void> {
    for (let job = await this.next(); job; job = await this.next()) {
      try {
        if (await this.waitForRate()) await this.attempt(job);
      } catch (error) {
        // Only the manifest can throw here. Never carry on without a record: stop. A message
        // whose outcome could not be written stays `sending`, i.e. uncertain, which is safe.
        this.failOnManifest(error);
      } finally {
        this.slots.release(job.domain);
        this.inFlight--;
        this.notify();
      }
    }
  }

  /** The next job to try, or undefined when there is nothing left (or the run is stopping). */
  private async next(): Promise<Job | undefined> {
    for (;;) {
      if (this.stopping) return undefined;
      const now = this.now();
      const index = now < this.pausedUntil ? -1 : this.pending.findIndex((job) => job.dueAt <= now && this.slots.hasRoom(job.domain));
      if (index !== -1) {
        const [job] = this.pending.splice(index, 1);
        this.slots.tryAcquire(job!.domain);
        this.inFlight++;
        return job;
      }
      if (!this.exhausted && !this.pulling && this.pending.length < this.lookahead) {
        await this.pull();
        continue;
      }
      if (this.exhausted && !this.pulling && this.pending.length === 0 && this.inFlight === 0) return undefined;
      await this.waitForChange(this.msUntilNextDue(now));
    }
  }

  private async pull(): Promise<void> {
    this.pulling = true;
    try {
      const item = await this.source.next();
      if (item.done) {
        this.exhausted = true;
        return;
      }
      const message = item.value;
      if (this.input.skip?.(message.key)) {
        this.result.skipped++;
        this.emit({ type: 'skipped', message });
        return;
      }
      this.pending.push({ message, attempt: 1, dueAt: 0, domain: domainOf(message.envelope.to[0] ?? message.email) });
    } finally {
      this.pulling = false;
      this.notify();
    }
  }

  private msUntilNextDue(now: number): number | undefined {
    let earliest: number | undefined;
    for (const job of this.pending) {
      const due = Math.max(job.dueAt, this.pausedUntil);
      if (due > now && (earliest === undefined || due < earliest)) earliest = due;
    }
    return earliest === undefined ? undefined : earliest - now;
  }

  private async waitForChange(ms: number | undefined): Promise<void> {
    if (this.finished) return;
    if (ms === undefined) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      return;
    }
    // A retry falls due in ms: sleep until then, or until something changes.
    const wake = new AbortController();
    this.waiters.push(() => wake.abort());
    await this.sleep(ms, wake.signal);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits for the shared rate; false if the run stopped meanwhile (the message is left for a resume). */
  private async waitForRate(): Promise<boolean> {
    if (this.stopping) return false;
    const wait = this.limiter?.reserve(this.now()) ?? 0;
    if (wait > 0) {
      const stopped = new AbortController();
      const onStop = (): void => stopped.abort();
      this.stopListeners.add(onStop);
      await this.sleep(wait, stopped.signal);
      this.stopListeners.delete(onStop);
    }
    return !this.stopping;
  }

  private stop(reason: StopReason, detail?: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.result.stoppedBecause = reason;
    if (detail !== undefined) this.result.stopDetail = detail;
    this.emit(detail === undefined ? { type: 'stopping', reason } : { type: 'stopping', reason, detail });
    for (const listener of this.stopListeners) listener();
    this.notify();
  }

  private async attempt(job: Job): Promise<void> {
    const { message, attempt } = job;
    await this.record(message, attempt, { state: 'sending' });
    this.result.attempts++;
    this.emit({ type: 'sending', message, attempt });
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.input.transport.deliver(message);
    } catch (error) {
      // A transport that throws did not hand the message over (SMTP errors come back as
      // outcomes; the outbox throws before its rename). Something is broken: stop.
      const text = error instanceof Error ? error.message : String(error);
      await this.record(message, attempt, { state: 'deferred', error: `not sent: ${text}` });
      this.deferredKeys.add(message.key);
      this.stop('error', text);
      return;
    }
    await this.settle(job, outcome);
  }

  private async settle(job: Job, outcome: DeliveryOutcome): Promise<void> {
    const { message, attempt } = job;
    const reply = (o: { code?: number; response: string }) => (o.code === undefined ? { response: o.response } : { code: o.code, response: o.response });
    switch (outcome.kind) {
      case 'sent':
        this.deferredKeys.delete(message.key);
        this.result.sent++;
        this.consecutiveFailures = 0;
        // The worker goes on to its next message without waiting for this line to reach the
        // disk: it is written and synced with that message's `sending` line, one wait instead of
        // two. Should it never get there, the message stays `sending` (uncertain: safe, never
        // resent by surprise) and the run stops; the run ends only once every line is on disk.
        this.unsynced(this.record(message, attempt, { state: 'sent', ...reply(outcome) }).then(() => this.emit({ type: 'sent', message, attempt, outcome })));
        return;
      case 'permanent':
        await this.fail(message, attempt, outcome, reply(outcome));
        return;
      case 'temporary':
        await this.deferOrGiveUp(job, outcome, reply(outcome));
        return;
      case 'uncertain':
        // the last line stays `sending`: the server may have queued the message
        await this.record(message, attempt, { state: 'sending', uncertain: true, error: outcome.response });
        this.deferredKeys.delete(message.key);
        this.result.uncertain.push({ key: message.key, email: message.email, line: message.line, messageId: message.messageId, response: outcome.response });
        this.emit({ type: 'uncertain', message, attempt, outcome });
        this.countFailure(outcome.response);
        return;
      case 'fatal':
        await this.record(message, attempt, { state: 'deferred', ...reply(outcome), error: 'not sent: the run stopped' });
        this.deferredKeys.add(message.key);
        this.emit({ type: 'deferred', message, attempt, outcome });
        this.stop(outcome.reason, outcome.response);
        return;
    }
  }

  private async deferOrGiveUp(job: Job, outcome: DeliveryOutcome & { kind: 'temporary' }, reply: { code?: number; response: string }): Promise<void> {
    const { message, attempt } = job;
    if (outcome.retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, this.now() + outcome.retryAfterMs);
    if (attempt > this.input.options.retries) {
      await this.fail(message, attempt, outcome, { ...reply, error: `gave up after ${attempt} tries` });
      return;
    }
    if (this.stopping) {
      // no retry now: left deferred for a resume
      await this.record(message, attempt, { state: 'deferred', ...reply });
      this.deferredKeys.add(message.key);
      this.emit({ type: 'deferred', message, attempt, outcome });
      return;
    }
    const delay = outcome.retryAfterMs ?? backoffDelay(attempt, this.input.options.backoff ?? DEFAULT_BACKOFF, this.random);
    const dueAt = this.now() + delay;
    const nextTry = new Date(dueAt).toISOString();
    await this.record(message, attempt, { state: 'deferred', ...reply, nextTry });
    this.deferredKeys.add(message.key);
    this.emit({ type: 'deferred', message, attempt, outcome, nextTry });
    this.pending.push({ ...job, attempt: attempt + 1, dueAt });
    this.notify();
  }

  private async fail(message: OutgoingMessage, attempt: number, outcome: DeliveryOutcome, fields: { code?: number; response: string; error?: string }): Promise<void> {
    await this.record(message, attempt, { state: 'failed', ...fields });
    this.deferredKeys.delete(message.key);
    this.result.failed++;
    this.emit({ type: 'failed', message, attempt, outcome });
    this.countFailure(fields.response);
  }

  /** A manifest append the run waits for at its end rather than now; a failure stops the run. */
  private unsynced(append: Promise<void>): void {
    const tracked: Promise<void> = append.then(
      () => void this.syncing.delete(tracked),
      (error: unknown) => {
        this.syncing.delete(tracked);
        this.failOnManifest(error);
      },
    );
    this.syncing.add(tracked);
  }

  /** The manifest could not be written: stop, and throw the first such fault at the end. */
  private failOnManifest(error: unknown): void {
    const fault = error instanceof Error ? error : new Error(String(error));
    this.fault ??= fault;
    this.stop('error', fault.message);
  }

  private countFailure(detail: string): void {
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.input.options.maxConsecutiveFailures) this.stop('consecutive-failures', detail);
  }

  private record(message: OutgoingMessage, attempt: number, fields: Omit<ManifestRecord, 'email' | 'key' | 'line' | 'messageId' | 'attempt' | 'at'>): Promise<void> {
    return this.input.store.append({
      email: message.email,
      key: message.key,
      line: message.line,
      messageId: message.messageId,
      attempt,
      at: new Date(this.now()).toISOString(),
      ...fields,
    });
  }

  private emit(event: DeliveryEvent): void {
    this.input.onEvent?.(event);
  }
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}
