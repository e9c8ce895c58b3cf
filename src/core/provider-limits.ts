/**
 * What the hosted mail services allow one sending mailbox, and the arithmetic of splitting a
 * campaign over days. Pure: the caller passes counts and times in.
 *
 * Sources (as published in 2026; they change without notice):
 * - Exchange Online limits: message rate limit (SMTP client submission) 30 messages a minute;
 *   recipient rate limit 10,000 recipients a day (a rolling 24 hours) per mailbox. Graph's
 *   sendMail goes through the same mailbox, so the same limits apply, and Graph allows 4
 *   concurrent requests per mailbox (Outlook resources throttling).
 * - Gmail sending limits in Google Workspace: 2,000 messages a day per user (500 on a trial);
 *   Google publishes no per-minute rate, so the pace below is our own assumption: slow enough
 *   to look like a person, fast enough to send 2,000 in about half an hour.
 * Every message bulletin sends has one recipient, so messages and recipients count the same.
 */
import type { Rate } from './rate.js';

export type Provider = 'microsoft365' | 'graph' | 'google';

export interface ProviderLimits {
  /** Shown to the user: "Exchange Online". */
  service: string;
  rate: Rate;
  /** Connections (or requests) at once, at most, unless --concurrency says otherwise. */
  concurrency: number;
  /** Recipients a day per sending mailbox (a rolling 24 hours). */
  dailyRecipients: number;
  /** Where the numbers come from, or what we assume. */
  basis: string;
  /** What to use instead when the volume is too high. */
  relay: string;
}

const EXCHANGE = 'Exchange Online limits (30 messages a minute per mailbox, 10,000 recipients a day)';
const MICROSOFT_RELAY = 'Microsoft 365 High Volume Email (internal recipients), Azure Communication Services Email, or your own relay';

export const PROVIDER_LIMITS: Record<Provider, ProviderLimits> = {
  microsoft365: {
    service: 'Exchange Online',
    rate: { count: 30, periodMs: 60_000 },
    concurrency: 2,
    dailyRecipients: 10_000,
    basis: EXCHANGE,
    relay: MICROSOFT_RELAY,
  },
  graph: {
    service: 'Exchange Online (Microsoft Graph)',
    rate: { count: 30, periodMs: 60_000 },
    concurrency: 4,
    dailyRecipients: 10_000,
    basis: `${EXCHANGE}; Graph allows 4 requests at once per mailbox`,
    relay: MICROSOFT_RELAY,
  },
  google: {
    service: 'Gmail (Google Workspace)',
    rate: { count: 60, periodMs: 60_000 },
    concurrency: 2,
    dailyRecipients: 2_000,
    basis: 'Gmail sending limits for a paid Google Workspace account (2,000 messages a day per user; 500 on a trial); Google publishes no per-minute rate, 60 a minute is our assumption',
    relay: "Google Workspace's SMTP relay service (smtp-relay.gmail.com, up to 10,000 recipients a day per user), or your own relay",
  },
};

export interface DailyPlan {
  limit: number;
  /** Recipients this mailbox already sent in the last 24 hours (from this run's manifest). */
  sentLastDay: number;
  /** What fits today. */
  today: number;
  /** Days needed, today included. */
  days: number;
}

/**
 * How a send of `toSend` messages fits the daily limit: undefined when it fits today. Days
 * count today's room first, then a full limit each following day.
 */
export function dailyPlan(toSend: number, limit: number, sentLastDay = 0): DailyPlan | undefined {
  const today = Math.max(0, limit - sentLastDay);
  if (toSend <= today) return undefined;
  // today's room first (if any), then a full day's limit each following day
  const days = (today > 0 ? 1 : 0) + Math.ceil((toSend - today) / limit);
  return { limit, sentLastDay, today, days };
}

/** Manifest `sent` times within the 24 hours before `now` (ms), for the rolling daily count. */
export function countSince(sentAt: Iterable<string>, now: number): number {
  let n = 0;
  for (const at of sentAt) {
    const t = Date.parse(at);
    if (Number.isFinite(t) && now - t < 86_400_000 && t <= now) n++;
  }
  return n;
}

/** One plain paragraph for the send summary: how many days, how to split, or what else to use. */
export function describeDailyPlan(plan: DailyPlan, toSend: number, limits: ProviderLimits): string {
  const already = plan.sentLastDay > 0 ? `; ${count(plan.sentLastDay)} already went from this mailbox in the last 24 hours` : '';
  const start =
    plan.today > 0
      ? `send ${count(plan.today)} today with \`bulletin send --limit ${plan.today}\`, then \`bulletin send --resume --limit ${plan.limit}\` once a day`
      : `nothing more can go today; from tomorrow run \`bulletin send --resume --limit ${plan.limit}\` once a day`;
  return (
    `${limits.service} accepts ${count(plan.limit)} recipients a day from one mailbox, and this send has ${count(toSend)}${already}: ` +
    `that takes ${plan.days} days. To split it, ${start}. Or use ${limits.relay}.`
  );
}

/** 10,000 (without toLocaleString, which loads ICU's data). */
function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}
