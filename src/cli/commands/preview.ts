import chalk from '../output/color.js';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { previewCampaign, type PreviewVersion } from '../../preview.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { diagnosticsJson, printDiagnostics, problemSummary } from '../output/diagnostics.js';
import { log, out, plural, printJson } from '../output/terminal.js';
import { parsePositive } from '../options.js';

export interface PreviewCommandOptions {
  out?: string;
  limit?: string;
  only?: string;
  all?: boolean;
  open?: boolean;
  json?: boolean;
  watch?: boolean;
  port?: string;
  strict?: boolean;
}

export async function previewCommand(dir: string, options: PreviewCommandOptions): Promise<ExitCode> {
  if (options.watch) return (await import('./preview-watch.js')).previewWatchCommand(dir, options);
  if (options.port !== undefined) throw new UsageError('--port is for --watch', 'add --watch to serve the gallery, or leave out --port');
  const limit = options.limit === undefined ? undefined : parsePositive(options.limit, '--limit');
  const result = await previewCampaign(dir, {
    ...(options.out ? { out: options.out } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(options.only ? { only: options.only } : {}),
    all: options.all ?? false,
    strict: options.strict ?? false,
    now: new Date(),
  });
  const { plan } = result;
  const exitCode = !plan.configLoaded ? EXIT.cannotStart : plan.ok ? EXIT.ok : EXIT.problems;
  if (options.only && result.previewed === 0 && plan.ok) {
    throw new UsageError(`no recipient ${options.only} in the list`, 'check the address, or leave out --only to preview everyone', EXIT.problems);
  }
  const index = result.outDir ? path.join(result.outDir, 'index.html') : undefined;
  if (options.json) {
    printJson({
      ok: plan.ok,
      recipients: plan.messages,
      previewed: result.previewed,
      written: result.written,
      suppressed: plan.suppressed.length,
      languages: plan.languages,
      gallery: index,
      digest: result.digest?.digest,
      approval: result.approval?.state,
      versions: result.versions.map(({ members: _members, key: _key, ...v }) => v),
      diagnostics: diagnosticsJson(plan.diagnostics),
    });
    return exitCode;
  }
  printDiagnostics(plan.diagnostics);
  if (plan.diagnostics.length > 0) out();
  if (index) {
    const languages = Object.entries(plan.languages)
      .map(([lang, n]) => `${lang} ${n}`)
      .join(', ');
    out(`Rendered ${plural(plan.messages, 'message')} (${languages || 'none'}); ${plural(result.written, 'recipient')} written; ${problemSummary(plan.diagnostics)}.`);
    if (plan.suppressed.length > 0) out(`${plural(plan.suppressed.length, 'recipient')} on the suppression list left out.`);
    printVersions(result.versions);
    out(`Gallery: ${chalk.bold(path.relative(process.cwd(), index) || index)}`);
    if (result.approval?.state === 'approved') out(chalk.green(`Approved by ${result.approval.approval.by} on ${result.approval.approval.at}.`));
    else if (result.approval?.state === 'changed') out(chalk.yellow(`Changed since ${result.approval.approval.by} approved it: ${result.approval.changes.join('; ')}.`));
    out('Nothing was sent.');
    if (options.open) openInBrowser(index);
  } else {
    out(`${chalk.red('✖')} nothing rendered: ${problemSummary(plan.diagnostics)}. Nothing was sent.`);
  }
  return exitCode;
}

/** One line per version (the first ten), each described against the most common one. */
function printVersions(versions: PreviewVersion[]): void {
  if (versions.length <= 1) return;
  out(`${versions.length} versions of the message:`);
  for (const v of versions.slice(0, 10)) {
    const what = v.number === 1 ? 'the most common' : v.differences.map((d) => `${d.what} ${d.here}`).join('; ');
    out(`  ${v.number}. ${plural(v.count, 'recipient')} (${v.language}): ${what}`);
  }
  if (versions.length > 10) out(`  … and ${versions.length - 10} more in the gallery.`);
}

export function openInBrowser(file: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [file], { detached: true, stdio: 'ignore' });
  child.on('error', () => log(`Could not open a browser; open ${file} yourself.`));
  child.unref();
}
