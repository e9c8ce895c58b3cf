import { setFlagsFromString } from 'node:v8';

/**
 * For a long send, which renders every message twice and keeps ~50 MB live, and for validate and
 * preview. V8 reads both flags as it collects, so setting them at run time takes effect, but a
 * worker thread resets V8's flags to the command line's as it starts up, a moment after
 * `new Worker` returns: call this again once each worker runs (its 'online' event). Set again
 * only just after `new Worker`, they were lost (a standalone check: the young generation then
 * grew to 32 MB all the same). Neither flag is a limit: the heap may still grow as far as it
 * must, so no send runs out of memory.
 * - Each message leaves garbage that reaches the old generation, which by default grows to up to
 *   4 x its live size before a full collection: 100,000 recipients peaked near 250 MB that way.
 *   Growing 20% at a time collects sooner.
 * - The young generation doubles whenever enough objects survive it, up to 32 MB, and never gives
 *   that back during a send. Not growing it keeps it at the size it has when this runs (at the
 *   command's start, before its modules load: a few MB, as Node's own start grows it once or
 *   twice), which saves ~16 MB of the peak.
 */
export function limitHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=20');
  setFlagsFromString('--semi-space-growth-factor=1');
}
