import chalk from '../output/color.js';
import path from 'node:path';
import { DEFAULT_EXAMPLE, listExamples, scaffoldCampaign } from '../../io/scaffold.js';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { out } from '../output/terminal.js';

export interface InitOptions {
  example?: string;
  listExamples?: boolean;
}

export async function initCommand(dir: string, options: InitOptions): Promise<ExitCode> {
  const examples = await listExamples();
  if (options.listExamples) {
    for (const e of examples) out(`${e.name.padEnd(16)} ${e.description}${e.name === DEFAULT_EXAMPLE ? chalk.dim(' (default)') : ''}`);
    return EXIT.ok;
  }
  const example = options.example ?? DEFAULT_EXAMPLE;
  if (!examples.some((e) => e.name === example)) {
    throw new UsageError(`there is no example called "${example}"`, `choose one of: ${examples.map((e) => e.name).join(', ')}`);
  }
  const result = await scaffoldCampaign(dir, example);
  const shown = path.relative(process.cwd(), result.dir) || '.';
  for (const file of result.created) out(`${chalk.green('created')} ${path.join(shown, file)}`);
  for (const file of result.kept) out(`${chalk.yellow('kept')}    ${path.join(shown, file)} ${chalk.dim('(already there; not overwritten)')}`);
  if (result.created.length === 0) {
    out('Nothing to do: every file of the example is already there.');
    return EXIT.ok;
  }
  const cd = shown === '.' ? '' : ` ${shown}`;
  out('');
  out(`A ${example} example campaign is ready in ${shown}. Next:`);
  out(`  1. edit message.mjml, partials/ and recipients.csv (see bulletin.json for settings)`);
  out(`  2. bulletin validate${cd}        check every recipient and the template`);
  out(`  3. bulletin preview${cd}         render every message; open preview/index.html`);
  out(`  4. bulletin approve${cd} --by "Your Name"   a reviewer signs off what they saw`);
  out(`  5. bulletin send${cd}            send (to the outbox/ folder until you give --transport)`);
  return EXIT.ok;
}
