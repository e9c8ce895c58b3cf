import chalk from '../output/color.js';
import path from 'node:path';
import { PreviewServerError } from '../../io/preview-server.js';
import { watchPreview, type WatchRound } from '../../watch.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { problemSummary } from '../output/diagnostics.js';
import { log, plural } from '../output/terminal.js';
import { parsePositive } from '../options.js';
import { openInBrowser, type PreviewCommandOptions } from './preview.js';

/**
 * `bulletin preview --watch`: serve the gallery on 127.0.0.1 and render again on every save.
 * Ctrl-C is the way to stop it, so it ends with exit 0: stopping is its normal end, not an
 * interrupted piece of work (nothing is left half done: each round writes a whole preview).
 */
export async function previewWatchCommand(dir: string, options: PreviewCommandOptions): Promise<ExitCode> {
  if (options.json) throw new UsageError('--json cannot be combined with --watch', 'use `bulletin preview --json` for a one-off machine-readable summary');
  const port = options.port === undefined ? undefined : parsePort(options.port);
  const limit = options.limit === undefined ? undefined : parsePositive(options.limit, '--limit');
  let watch: Awaited<ReturnType<typeof watchPreview>>;
  try {
    watch = await watchPreview(dir, {
      now: () => new Date(),
      onRound: printRound,
      onError: (err) => log(`${chalk.red('could not render')}: ${err instanceof Error ? err.message : String(err)} (saving again retries)`),
      ...(port !== undefined ? { port } : {}),
      ...(options.out ? { out: options.out } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(options.only ? { only: options.only } : {}),
      all: options.all ?? false,
    });
  } catch (err) {
    if (err instanceof PreviewServerError) {
      const taken = err.code === 'EADDRINUSE';
      throw new UsageError(
        taken ? `port ${port} is already in use` : `cannot serve the preview: ${err.message}`,
        taken ? 'pick another with --port, or leave --port out to use any free port' : 'try another --port',
      );
    }
    throw err;
  }
  log('');
  log(`${chalk.bold('Watching')} ${path.relative(process.cwd(), path.resolve(dir)) || '.'} for saves; the gallery is at ${chalk.bold(watch.url)} (this computer only).`);
  log('Nothing is sent. Press Ctrl-C to stop.');
  if (options.open) openInBrowser(watch.url);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log('\nStopping the preview server.');
  await watch.close();
  return EXIT.ok;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`--port must be a port number from 1 to 65535, not "${value}"`, 'for example --port 4173, or leave it out to use any free port');
  return port;
}

function printRound(round: WatchRound): void {
  const time = new Date().toLocaleTimeString('en-GB');
  const what = round.changed.length === 0 ? 'first preview' : round.changed.join(', ');
  for (const problem of round.problems) {
    log(`${chalk.bold(problem.location)}: ${chalk.red(problem.severity)}: ${problem.message}`);
    if (problem.source !== undefined) log(chalk.dim(`  ${problem.source}`));
    if (problem.hint) log(`  ${chalk.dim('hint:')} ${problem.hint}`);
  }
  const counts = problemSummary(round.diagnostics);
  if (round.rendered && round.result) {
    log(`${chalk.dim(time)} ${what}: rendered ${plural(round.result.plan.messages, 'message')}, ${plural(round.result.written, 'recipient')} written; ${counts} (${round.ms} ms)`);
  } else {
    log(`${chalk.dim(time)} ${what}: ${chalk.red('not rendered')}; ${counts}. The page keeps the last good preview and shows the errors until they are fixed.`);
  }
}
