import { writeFile } from 'node:fs/promises';
import { toCsv } from '../../core/manifest.js';
import { loadRun, runReport } from '../../runs.js';
import { EXIT, type ExitCode } from '../errors.js';
import { log } from '../output/terminal.js';

export interface ReportOptions {
  run?: string;
  out?: string;
  columns?: string;
}

export async function reportCommand(dir: string, options: ReportOptions): Promise<ExitCode> {
  const run = await loadRun(dir, options.run);
  const columns = (options.columns ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  const csv = toCsv(await runReport(dir, run, columns));
  if (options.out) {
    await writeFile(options.out, csv);
    log(`Wrote ${run.summary.recipients} recipients of run ${run.info.id} to ${options.out}`);
  } else process.stdout.write(csv);
  return EXIT.ok;
}
