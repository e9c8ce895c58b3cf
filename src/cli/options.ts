import { UsageError } from './errors.js';

/** A whole-number option of 1 or more (--limit, --concurrency). */
export function parsePositive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} needs a whole number of 1 or more, not "${value}"`);
  return n;
}
