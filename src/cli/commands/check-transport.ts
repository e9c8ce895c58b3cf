import chalk from '../output/color.js';
import { checkCampaignTransport } from '../../check-transport.js';
import { EXIT, type ExitCode } from '../errors.js';
import { out, printJson } from '../output/terminal.js';

export interface CheckTransportOptions {
  transport?: string;
  json?: boolean;
}

export async function checkTransportCommand(dir: string, options: CheckTransportOptions): Promise<ExitCode> {
  const { check, source } = await checkCampaignTransport({ dir, ...(options.transport ? { transport: options.transport } : {}), processEnv: process.env, now: () => new Date() });
  if (options.json) {
    printJson({ ...check, source });
    return check.ok ? EXIT.ok : EXIT.problems;
  }
  out(`transport    ${check.transport} ${chalk.dim(`(from ${source})`)}`);
  for (const step of check.steps) out(`  ${chalk.green('✔')} ${step}`);
  if (check.ok) {
    out(chalk.green('✔ ready: bulletin can sign in and send with this transport. Nothing was sent.'));
    return EXIT.ok;
  }
  out(`  ${chalk.red('✖')} ${check.problem ?? 'the check failed'}`);
  if (check.fix) out(`  what to do: ${check.fix}`);
  if (check.reply) out(chalk.dim(`  the service said: ${check.reply}`));
  out(chalk.red('✖ not ready. Nothing was sent.'));
  return EXIT.problems;
}
