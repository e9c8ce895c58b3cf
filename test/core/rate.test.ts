import { describe, expect, it } from 'vitest';
import { backoffDelay, DomainSlots, domainOf, formatRate, parseRate, RateLimiter } from '../../src/core/rate.js';

describe('parseRate', () => {
  it('reads every form the config accepts', () => {
    expect(parseRate('10/sec')).toEqual({ count: 10, periodMs: 1000 });
    expect(parseRate('600 / min')).toEqual({ count: 600, periodMs: 60_000 });
    expect(parseRate('5000/hour')).toEqual({ count: 5000, periodMs: 3_600_000 });
    expect(parseRate('2.5/s')).toEqual({ count: 2.5, periodMs: 1000 });
    expect(parseRate('1/H')).toEqual({ count: 1, periodMs: 3_600_000 });
  });

  it('rejects anything else', () => {
    for (const bad of ['', '10', '10/day', 'ten/sec', '0/sec', '-1/sec']) expect(parseRate(bad)).toBeUndefined();
  });

  it('formats a rate for the summary', () => {
    expect(formatRate({ count: 600, periodMs: 60_000 })).toBe('10/sec');
    expect(formatRate({ count: 5000, periodMs: 3_600_000 })).toBe('1.39/sec');
    expect(formatRate({ count: 90, periodMs: 3_600_000 })).toBe('1.5/min');
  });
});

describe('RateLimiter (fake clock)', () => {
  it('spaces messages evenly and never exceeds the rate', () => {
    const limiter = new RateLimiter({ count: 4, periodMs: 1000 });
    let now = 10_000;
    const sentAt: number[] = [];
    for (let i = 0; i < 12; i++) {
      now += limiter.reserve(now);
      sentAt.push(now);
    }
    expect(sentAt.slice(0, 5)).toEqual([10_000, 10_250, 10_500, 10_750, 11_000]);
    for (let i = 4; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 4]!).toBeGreaterThanOrEqual(1000);
  });

  it('does not bank unused time as a burst', () => {
    const limiter = new RateLimiter({ count: 2, periodMs: 1000 });
    expect(limiter.reserve(0)).toBe(0);
    expect(limiter.reserve(60_000)).toBe(0);
    expect(limiter.reserve(60_000)).toBe(500);
  });

  it('hands out slots to concurrent callers in order', () => {
    const limiter = new RateLimiter({ count: 10, periodMs: 1000 });
    expect([limiter.reserve(0), limiter.reserve(0), limiter.reserve(0)]).toEqual([0, 100, 200]);
  });
});

describe('DomainSlots', () => {
  it('caps messages in flight per domain', () => {
    const slots = new DomainSlots(2);
    const d = domainOf('Head@School.Example.org');
    expect(d).toBe('school.example.org');
    expect(slots.tryAcquire(d)).toBe(true);
    expect(slots.tryAcquire(d)).toBe(true);
    expect(slots.tryAcquire(d)).toBe(false);
    expect(slots.tryAcquire('other.example.org')).toBe(true);
    slots.release(d);
    expect(slots.hasRoom(d)).toBe(true);
    expect(slots.count(d)).toBe(1);
  });

  it('is unlimited without a cap', () => {
    const slots = new DomainSlots(undefined);
    for (let i = 0; i < 100; i++) expect(slots.tryAcquire('example.org')).toBe(true);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    const options = { baseMs: 1000, maxMs: 8000 };
    expect(backoffDelay(1, options, () => 0)).toBe(500);
    expect(backoffDelay(1, options, () => 1)).toBe(1000);
    expect(backoffDelay(3, options, () => 1)).toBe(4000);
    expect(backoffDelay(10, options, () => 1)).toBe(8000);
    expect(backoffDelay(10, options, () => 0)).toBe(4000);
  });
});
