import type { DeliveryEvent } from '../../io/deliver.js';
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number): void;
  update(event: DeliveryEvent): void;
  /**
   * A line of its own (the Ctrl-C notice, a note) while the bar may be showing: the bar's line
   * is cleared first and the bar drawn again below it. Writing to the stream directly instead
   * leaves the bar drawing over that line, and stop() returning the cursor above it.
   */
  log(line: string): void;
  /** Clears the bar's line, so what is printed next (the summary) starts on a clean line. */
  stop(): void;
}

const PLAIN_EVERY_MS = 5_000;

/**
 * On a terminal, a live bar (sent, failed, remaining, rate, ETA). Elsewhere (CI, a log file),
 * a plain line every few seconds, so logs stay readable.
 */
export function createProgress(stream: NodeJS.WriteStream): Progress {
  const counts = { sent: 0, failed: 0, deferred: 0, uncertain: 0 };
  let total = 0;
  let startedAt = 0;
  let bar: cliProgress.SingleBar | undefined;
  let lastPlain = 0;
  const done = () => counts.sent + counts.failed + counts.uncertain;
  const rate = () => {
    const seconds = (Date.now() - startedAt) / 1000;
    return seconds > 0 ? done() / seconds : 0;
  };
  const payload = () => ({ sent: counts.sent, failed: counts.failed, uncertain: counts.uncertain, remaining: Math.max(0, total - done()), perSec: rate().toFixed(1) });

  const startBar = () => {
    bar = new cliProgress.SingleBar(
      {
        stream,
        format: '{bar} {percentage}% | {sent} sent, {failed} failed, {uncertain} uncertain, {remaining} to go | {perSec}/s | ETA {eta_formatted}',
        hideCursor: true,
        // The summary printed after the run says the same, on a line of its own.
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, done(), payload());
  };

  return {
    start(n) {
      total = n;
      startedAt = Date.now();
      if (stream.isTTY) startBar();
    },
    log(line) {
      if (!bar) {
        stream.write(`${line}\n`);
        return;
      }
      // cli-progress redraws relative to where it started: stop it (clearing its line), write
      // the line, and start a bar again underneath.
      bar.stop();
      stream.write(`${line}\n`);
      startBar();
    },
    update(event) {
      if (event.type === 'sent') counts.sent++;
      else if (event.type === 'failed') counts.failed++;
      else if (event.type === 'uncertain') counts.uncertain++;
      else if (event.type === 'deferred') counts.deferred++;
      else return;
      if (bar) {
        bar.update(done(), payload());
        return;
      }
      const now = Date.now();
      if (now - lastPlain >= PLAIN_EVERY_MS || done() === total) {
        lastPlain = now;
        const p = payload();
        stream.write(`${done()}/${total}: ${p.sent} sent, ${p.failed} failed, ${p.uncertain} uncertain, ${counts.deferred} retries; ${p.perSec}/s\n`);
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
