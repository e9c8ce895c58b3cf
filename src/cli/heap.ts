import { setFlagsFromString } from 'node:v8';

/**
 * For a long send, which renders every message twice and keeps ~50 MB live, and for validate and
 * preview. V8 reads both flags as it collects, so setting them at run time takes effect, but a
 * worker thread resets V8's flags to the command line's as it starts up, a moment after
 * `new Worker` returns: call this again once each worker runs (its 'online' event). Set only when
 * the worker was created, the reset came after it in some runs and not others, and validate's
 * peak of 100,000 rows swung between ~128 and ~156 MB. Neither flag is a limit: the heap may still
 * grow as far as it must, so no send runs out of memory.
 * - Each message leaves garbage that reaches the old generation, which by default grows to up to
 *   4 x its live size before a full collection: 100,000 recipients peaked near 250 MB that way.
 *   Growing 20% at a time collects sooner.
 * - The young generation doubles whenever enough objects survive it, up to 32 MB, and never gives
 *   that back during a send. Not growing it keeps it at the size it has when this runs (at the
 *   command's start, before its modules load: 1 MB), which saves ~16 MB of the peak.
 */
export function limitHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=20');
  setFlagsFromString('--semi-space-growth-factor=1');
}
