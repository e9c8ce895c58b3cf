import { Command, CommanderError } from 'commander';
import { toolVersion } from '../io/package-info.js';
import { CampaignError } from '../io/campaign-error.js';
import { LockedError } from '../io/lock.js';
import { EXIT, UsageError, type ExitCode } from './errors.js';
import { configureColor, log } from './output/terminal.js';

type Action = () => Promise<ExitCode>;

/** The one place that sets process.exitCode. Commands are imported lazily so --help stays instant. */
export async function main(argv: string[]): Promise<void> {
  configureColor(argv, process.env);
  if (!process.stdout.listeners('error').includes(endQuietlyOnClosedPipe)) process.stdout.on('error', endQuietlyOnClosedPipe);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportFailure(err);
  }
}

/**
 * The program's help as `bulletin --help` prints it when its output is not a terminal (80
 * columns, no colour). The build writes it to dist/cli/help.txt (scripts/help-text.js), and
 * bin/bulletin.js prints that file for `--help` without loading the CLI: start-up (BENCHMARKS.md).
 */
export function helpText(): string {
  let text = '';
  const program = buildProgram().configureOutput({ writeOut: (s) => (text += s), getOutHelpWidth: () => 80, getOutHasColors: () => false });
  program.outputHelp();
  return text;
}

/** `bulletin report | head`: the reader went away; stop quietly instead of printing a stack. */
function endQuietlyOnClosedPipe(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw err;
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
    .option('--strict', 'treat accessibility and readability warnings as errors (exit 1)')
    .addHelpText('after', examples(['bulletin validate', 'bulletin validate my-campaign --json', 'bulletin validate --strict']))
    .action((dir: string, options: object) =>
      run(async () => {
        await startMjml(true);
        return (await import('./commands/validate.js')).validateCommand(dir, options);
      }),
    );

  program
    .command('preview')
    .description('dry run: render every recipient and write a gallery to browse; never sends')
    .argument('[dir]', 'campaign folder', '.')
    .option('--out <dir>', 'where to write the gallery (default: <campaign>/preview)')
    .option('--limit <n>', 'preview only the first N recipients')
    .option('--only <email>', 'preview only this recipient')
    .option('--all', 'write files for every recipient, past the preview.maxFiles setting')
    .option('--open', 'open the gallery in your browser')
    .option('--watch', 'serve the gallery on 127.0.0.1 and render again on every save (Ctrl-C stops)')
    .option('--port <n>', 'with --watch: the port to serve on (default: any free port)')
    .option('--json', 'print a machine-readable summary on stdout')
    .option('--strict', 'treat accessibility and readability warnings as errors (exit 1)')
    .addHelpText('after', examples(['bulletin preview', 'bulletin preview my-campaign --open', 'bulletin preview --watch --open', 'bulletin preview --only head@oakfield.example.org', 'bulletin preview --limit 20 --json']))
    .action((dir: string, options: object) =>
      run(async () => {
        await startMjml(!(options as { watch?: boolean }).watch);
        return (await import('./commands/preview.js')).previewCommand(dir, options);
      }),
    );

  program
    .command('approve')
    .description('sign off the previewed content as a reviewer (recorded in approvals.jsonl)')
    .argument('[dir]', 'campaign folder', '.')
    .requiredOption('--by <name>', 'who is approving')
    .option('--note <text>', 'a note kept with the approval')
    .addHelpText('after', examples(['bulletin approve --by "Priya Shah"', 'bulletin approve my-campaign --by "Priya Shah" --note "Checked Welsh version with translator"']))
    .action((dir: string, options: { by: string; note?: string }) =>
      run(async () => (await import('./commands/approve.js')).approveCommand(dir, options)),
    );

  program
    .command('send')
    .description('check and render everything, confirm, then deliver and record every recipient')
    .argument('[dir]', 'campaign folder', '.')
    .option('--transport <url>', 'smtp://[user:pass@]host:port, smtps://…, microsoft365, graph, google (each optionally ://host:port), or outbox:DIR (default: BULLETIN_TRANSPORT, .env, bulletin.json "transport", else an outbox in the run folder)')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .option('--test-to <address>', 'send the first message(s) to this address only, subject marked [TEST]; the real run is untouched')
    .option('--limit <n>', 'send at most N messages this time (with --test-to: default 1)')
    .option('--rate <n/period>', "most messages per period across connections: 10/sec, 600/min, 5000/hour (default: send.rate, else the provider's limit: 30/min for Microsoft 365)")
    .option('--concurrency <n>', "SMTP connections at once (default: send.concurrency, 5; at most the provider's: 2 for Microsoft 365 SMTP, 4 for Graph)")
    .option('--resume [run]', 'continue the latest unfinished run (or the one named): sent recipients are skipped')
    .option('--resend-uncertain', 'with --resume: also resend recipients the server may already have accepted')
    .option('--retry-failed', 'with --resume: retry recipients that failed permanently')
    .option('--new-run', 'send the whole campaign again after a finished run')
    .option('--json', 'print the outcome as JSON on stdout')
    .addHelpText(
      'after',
      examples([
        'bulletin send --test-to me@example.org --limit 3',
        'BULLETIN_TRANSPORT=smtp://user:pass@smtp.example.org:587 bulletin send my-campaign',
        'bulletin send --transport outbox:try-out --yes',
        'bulletin send --resume',
        'bulletin send --resume --resend-uncertain',
      ]) +
        `
Microsoft 365 (an app registration with SMTP.SendAsApp; the from address is the mailbox):
  $ export BULLETIN_TRANSPORT=microsoft365 BULLETIN_TENANT_ID=contoso.onmicrosoft.com \\
      BULLETIN_CLIENT_ID=<application id> BULLETIN_CLIENT_CERTIFICATE=bulletin-app.pem
  $ bulletin check-transport my-campaign
  $ bulletin send my-campaign
  (BULLETIN_CLIENT_SECRET instead of a certificate; --transport graph for Microsoft Graph
  with Mail.Send; BULLETIN_AUTHORITY_HOST / BULLETIN_GRAPH_HOST for national clouds)

Google Workspace (a service account with domain-wide delegation for https://mail.google.com/):
  $ export BULLETIN_TRANSPORT=google BULLETIN_GOOGLE_SERVICE_ACCOUNT=service-account.json
  $ bulletin send my-campaign
  (or BULLETIN_GOOGLE_CLIENT_ID, BULLETIN_GOOGLE_CLIENT_SECRET and BULLETIN_GOOGLE_REFRESH_TOKEN)

Sign-in settings go in the environment or the campaign's .env file, never in bulletin.json.
More than a day's limit (10,000 recipients for Microsoft 365, 2,000 for Gmail): send with
--limit N today, then \`bulletin send --resume --limit N\` each following day.
`,
    )
    .action((dir: string, options: object) =>
      run(async () => {
        await startMjml(true);
        return (await import('./commands/send.js')).sendCommand(dir, options);
      }),
    );

  program
    .command('check-transport')
    .description('connect and sign in to the transport send would use, send nothing, and say plainly what is wrong')
    .argument('[dir]', 'campaign folder', '.')
    .option('--transport <url>', 'check this transport instead (default: BULLETIN_TRANSPORT, .env, then bulletin.json\'s "transport")')
    .option('--json', 'print {ok, transport, steps, problem, fix, reply} as JSON on stdout')
    .addHelpText(
      'after',
      examples([
        'bulletin check-transport',
        'BULLETIN_TRANSPORT=microsoft365 bulletin check-transport my-campaign',
        'bulletin check-transport --transport graph --json',
      ]) + '\nSign-in settings come from the environment or the campaign\'s .env file (see `bulletin send --help`).\nExit codes: 0 ready, 1 not ready (with what to do), 2 could not start.\n',
    )
    .action((dir: string, options: object) =>
      run(async () => (await import('./commands/check-transport.js')).checkTransportCommand(dir, options)),
    );

  program
    .command('status')
    .description('summarise a run from its manifest: counts, failures with the server reply, uncertain recipients')
    .argument('[dir]', 'campaign folder', '.')
    .option('--run <id>', 'which run (default: the latest)')
    .option('--json', 'print the summary as JSON on stdout')
    .addHelpText('after', examples(['bulletin status', 'bulletin status my-campaign --run 2026-11-27T10-02-11Z-ab12 --json']))
    .action((dir: string, options: object) =>
      run(async () => (await import('./commands/status.js')).statusCommand(dir, options)),
    );

  program
    .command('report')
    .description('one row per recipient with its outcome, as CSV (safe to open in a spreadsheet)')
    .argument('[dir]', 'campaign folder', '.')
    .option('--run <id>', 'which run (default: the latest)')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--columns <names>', 'also include these CSV columns, comma-separated (e.g. school,area)')
    .addHelpText('after', examples(['bulletin report --out outcome.csv', 'bulletin report my-campaign --columns school,area']))
    .action((dir: string, options: object) =>
      run(async () => (await import('./commands/report.js')).reportCommand(dir, options)),
    );

  program
    .command('inbox')
    .description('read what came back (bounces, delays, auto-replies, complaints, unsubscribe requests, replies), match it to runs and recipients, record it')
    .argument('[dir]', 'campaign folder', '.')
    .option('--from <source>', 'a folder of .eml files, an mbox file, a Maildir, or imaps://user@host[:port]/FOLDER; default: "inbox" in bulletin.json')
    .option('--sign-in <method>', 'IMAP sign-in: password (BULLETIN_IMAP_PASSWORD), microsoft365 or google (OAuth2 with the credentials send uses); default: OAuth2 for outlook.office365.com and imap.gmail.com, else password')
    .option('--mark-seen', 'mark the messages it classified as seen (IMAP, Maildir); otherwise nothing in the mailbox changes')
    .option('--move-to <folder>', 'move the messages it classified to this folder (IMAP, Maildir); the folder must exist')
    .option('--replies', 'list the people who replied: their row, subject, date and first lines')
    .option('--export <dir>', 'write the replies as .eml files into this folder, for the team')
    .option('--json', 'print every message and a summary as JSON on stdout')
    .addHelpText(
      'after',
      examples([
        'bulletin inbox --from ~/Downloads/bounces/',
        'bulletin inbox my-campaign --from exported.mbox --replies',
        'BULLETIN_IMAP_PASSWORD=… bulletin inbox --from imaps://comms@mail.example.org/INBOX',
        'bulletin inbox --from imaps://comms@example.org@outlook.office365.com/INBOX',
        'bulletin inbox --from imaps://comms@mail.example.org/INBOX --move-to Processed',
        'bulletin inbox --replies --export replies/',
      ]),
    )
    .action((dir: string, options: object) =>
      run(async () => (await import('./commands/inbox.js')).inboxCommand(dir, options)),
    );

  const suppress = program.command('suppress').description('manage the suppression list (addresses never to mail)');
  suppress
    .command('add')
    .description("add a run's permanent failures, and the hard bounces, complaints and unsubscribe requests `inbox` found, to the suppression list named by \"suppress\" in bulletin.json")
    .argument('[dir]', 'campaign folder', '.')
    .requiredOption('--from-run <id>', 'the run whose permanent failures to add ("latest" for the latest)')
    .addHelpText('after', examples(['bulletin suppress add --from-run latest']))
    .action((dir: string, options: { fromRun: string }) =>
      run(async () => (await import('./commands/suppress.js')).suppressAddCommand(dir, options)),
    );

  const configure = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({ outputError: (text, write) => write(text) });
    command.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

async function run(action: Action): Promise<void> {
  process.exitCode = await action();
}

/**
 * For the commands that compile the template: mjml then loads in its worker while the command
 * loads its own modules and reads the campaign, instead of after (validate: ~0.5 s sooner).
 * With `limitHeap` (a command that renders every message once, in one go), the heap's growth is
 * limited now, before the command's own modules load, and again once the worker runs, whose
 * start resets it (heap.ts).
 */
async function startMjml(limitHeap = false): Promise<void> {
  const heap = limitHeap ? await import('./heap.js') : undefined;
  (await import('../io/mjml-worker.js')).startMjmlCompiler(heap?.limitHeapGrowth);
  heap?.limitHeapGrowth();
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
  if (err instanceof LockedError) {
    log(`bulletin: ${err.message}`);
    return EXIT.cannotStart;
  }
  const message = err instanceof Error ? err.message : String(err);
  log(`bulletin: unexpected failure: ${message}`);
  log('  hint: this is a bug in bulletin; run again with BULLETIN_DEBUG=1 for details and report it');
  if (process.env.BULLETIN_DEBUG && err instanceof Error) log(err.stack);
  return EXIT.problems;
}


