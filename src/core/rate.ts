/**
 * Pacing for delivery: one rate shared by every connection, and a cap on messages in flight to
 * one recipient domain (many schools share one mail domain, which throttles bursts). Pure: the
 * caller passes the time in.
 */

export interface Rate {
  count: number;
  periodMs: number;
}

const PERIODS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/** Parses `10/sec`, `600/min`, `5000/hour` (the forms config.ts accepts); undefined if not one. */
export function parseRate(text: string): Rate | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*\/\s*([a-z]+)$/i.exec(text.trim());
  if (!match) return undefined;
  const count = Number(match[1]);
  const periodMs = PERIODS[match[2]!.toLowerCase()];
  if (periodMs === undefined || !(count > 0)) return undefined;
  return { count, periodMs };
}

export function formatRate(rate: Rate): string {
  const perSecond = (rate.count * 1000) / rate.periodMs;
  return perSecond >= 1 ? `${round(perSecond)}/sec` : `${round(perSecond * 60)}/min`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * Spaces messages evenly (period / count apart) instead of sending a burst at the start of
 * each period: a server that counts per minute sees the same total, and nothing arrives in
 * a spike that trips a per-second limit.
 */
export class RateLimiter {
  private readonly intervalMs: number;
  private nextSlot = -Infinity;

  constructor(rate: Rate) {
    this.intervalMs = rate.periodMs / rate.count;
  }

  /** Takes the next slot; returns how long to wait (ms) before using it. */
  reserve(now: number): number {
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    return slot - now;
  }
}

/** The domain part of an address, lowercase: `Head@School.Example.org` → `school.example.org`. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return (at === -1 ? address : address.slice(at + 1)).trim().toLowerCase();
}

/** Counts messages in flight per recipient domain against a cap (none: unlimited). */
export class DomainSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly max: number | undefined) {}

  hasRoom(domain: string): boolean {
    return this.max === undefined || (this.inFlight.get(domain) ?? 0) < this.max;
  }

  /** Takes a slot if there is room; false otherwise. */
  tryAcquire(domain: string): boolean {
    if (!this.hasRoom(domain)) return false;
    this.inFlight.set(domain, (this.inFlight.get(domain) ?? 0) + 1);
    return true;
  }

  release(domain: string): void {
    const n = (this.inFlight.get(domain) ?? 0) - 1;
    if (n <= 0) this.inFlight.delete(domain);
    else this.inFlight.set(domain, n);
  }

  count(domain: string): number {
    return this.inFlight.get(domain) ?? 0;
  }
}

/**
 * Exponential backoff with full jitter (a random delay between half and the whole step), so
 * retries to one server spread out instead of arriving together.
 */
export function backoffDelay(attempt: number, options: { baseMs: number; maxMs: number }, random: () => number): number {
  const step = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
