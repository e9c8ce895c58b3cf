import { describe, expect, it } from 'vitest';
import { formatCount, plural } from '../../src/cli/output/terminal.js';

describe('counts in terminal output', () => {
  it('writes a count as en-GB does, with commas between thousands', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 100_000, 1_234_567, 10_000_000]) expect(formatCount(n)).toBe(n.toLocaleString('en-GB'));
    expect(plural(1, 'recipient')).toBe('1 recipient');
    expect(plural(12_000, 'recipient')).toBe('12,000 recipients');
  });
});
