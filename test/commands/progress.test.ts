import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProgress } from '../../src/cli/output/progress.js';
import { renderScreen } from '../helpers/screen.js';

/** A terminal 120 columns wide that records every byte written to it. */
function fakeTerminal(): { stream: NodeJS.WriteStream; output: () => string } {
  let output = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      output += chunk.toString();
      callback();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 120, rows: 40 });
  return { stream, output: () => output };
}

describe('the send progress bar on a terminal', () => {
  // The bar redraws on a timer; fake timers let the test say when time passes.
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const sent = { type: 'sent' } as Parameters<ReturnType<typeof createProgress>['update']>[0];

  it('after Ctrl-C, the notice and then the summary each stand on clean lines, with nothing of the bar left', () => {
    const { stream, output } = fakeTerminal();
    const progress = createProgress(stream);
    stream.write('Ready to send: schools statement\n');
    progress.start(40);
    for (let i = 0; i < 3; i++) progress.update(sent);
    vi.advanceTimersByTime(500);
    expect(renderScreen(output()).at(-1)).toMatch(/3 sent, 0 failed, 0 uncertain, 37 to go/);

    progress.log('Ctrl-C: finishing the messages in flight, then stopping (press Ctrl-C again to quit at once).');
    vi.advanceTimersByTime(500);
    progress.update(sent);
    vi.advanceTimersByTime(500);
    expect(renderScreen(output()).at(-1)).toMatch(/4 sent, 0 failed, 0 uncertain, 36 to go/);
    progress.stop();
    // The summary goes to stdout, on the same terminal.
    stream.write('Run 2026-11-27T10-02-11Z-ab12: 4 sent, 0 failed, 0 deferred, 0 uncertain this time.\n');

    expect(renderScreen(output())).toEqual([
      'Ready to send: schools statement',
      'Ctrl-C: finishing the messages in flight, then stopping (press Ctrl-C again to quit at once).',
      'Run 2026-11-27T10-02-11Z-ab12: 4 sent, 0 failed, 0 deferred, 0 uncertain this time.',
    ]);
  });

  it('without a terminal, writes the notice as a plain line and draws no bar', () => {
    const { stream, output } = fakeTerminal();
    Object.assign(stream, { isTTY: false });
    const progress = createProgress(stream);
    progress.start(2);
    progress.log('Ctrl-C: finishing the messages in flight, then stopping.');
    progress.stop();
    expect(output()).toBe('Ctrl-C: finishing the messages in flight, then stopping.\n');
  });
});
