import { Command, CommanderError } from 'commander';
import { toolVersion } from '../io/package-info.js';
import { CampaignError } from '../io/campaign-error.js';
import { EXIT, UsageError, type ExitCode } from './errors.js';
import { configureColor, log } from './output/terminal.js';

type Action = () => Promise<ExitCode>;

/** The one place that sets process.exitCode. Commands are imported lazily so --help stays instant. */
export async function main(argv: string[]): Promise<void> {
  configureColor(argv, process.env);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportFailure(err);
  }
}

function buildProgram(): Command {
  const program = new Command('bulletin')
    .description('Send one statement to many stakeholders safely: validate, preview, approve, send, track.')
    .version(toolVersion(), '-V, --version', 'print the version')
    .option('--no-color', 'plain output without colours (also: NO_COLOR=1)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  program.addHelpText(
    'after',
    `
Examples:
  $ bulletin init my-campaign
  $ bulletin validate my-campaign
  $ bulletin preview my-campaign
  $ bulletin send my-campaign --transport smtp://relay.example.org:587

Exit codes: 0 done, 1 done with problems, 2 could not start, 130 interrupted.`,
  );

  program
    .command('init')
    .description('create a working example campaign (never overwrites a file)')
    .argument('[dir]', 'folder to create the campaign in', '.')
    .option('--example <name>', 'which example to copy (see --list-examples)')
    .option('--list-examples', 'list the examples and exit')
    .addHelpText('after', examples(['bulletin init my-campaign', 'bulletin init faith --example faith-groups', 'bulletin init --list-examples']))
    .action((dir: string, options: object) =>
      run(async () => (await import('./commands/init.js')).initCommand(dir, options)),
    );

  program
    .command('validate')
    .description('check settings, template, recipients and attachments; nothing is written or sent')
    .argument('[dir]', 'campaign folder', '.')
    .option('--json', 'print {ok, recipients, diagnostics} as JSON on stdout')
    .addHelpText('after', examples(['bulletin validate', 'bulletin validate my-campaign --json']))
    .action((dir: string, options: object) =>
      run(async () => (await import('./commands/validate.js')).validateCommand(dir, options)),
    );

  for (const command of program.commands) {
    command.exitOverride();
    command.configureOutput({ outputError: (text, write) => write(text) });
  }
  return program;
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

async function run(action: Action): Promise<void> {
  process.exitCode = await action();
}

/** Turn any failure into one clear line on stderr and an exit code; a stack only with BULLETIN_DEBUG. */
function reportFailure(err: unknown): ExitCode {
  if (err instanceof CommanderError) {
    // --help and --version end here with code 0; a usage mistake has already been printed.
    return err.exitCode === 0 ? EXIT.ok : EXIT.cannotStart;
  }
  if (err instanceof UsageError || err instanceof CampaignError) {
    log(`bulletin: ${err.message}`);
    if (err.hint) log(`  hint: ${err.hint}`);
    return err instanceof UsageError ? err.exitCode : EXIT.cannotStart;
  }
  const message = err instanceof Error ? err.message : String(err);
  log(`bulletin: unexpected failure: ${message}`);
  log('  hint: this is a bug in bulletin; run again with BULLETIN_DEBUG=1 for details and report it');
  if (process.env.BULLETIN_DEBUG && err instanceof Error) log(err.stack);
  return EXIT.problems;
}


