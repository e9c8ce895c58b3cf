#!/usr/bin/env node
// `bulletin --version`, and `--help` printed to a pipe, answer without loading the CLI and its
// libraries (start-up time, BENCHMARKS.md). The help text is written at build from the CLI itself;
// on a terminal (whose width and colours the help follows) the CLI prints it.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { toolVersion } = await import('../dist/io/package-info.js');
  process.stdout.write(`${toolVersion()}\n`);
} else if (args.length === 1 && (args[0] === '--help' || args[0] === '-h') && !process.stdout.isTTY && (await printSavedHelp())) {
  // printed
} else {
  const { main } = await import('../dist/cli/main.js');
  await main(process.argv);
}

async function printSavedHelp() {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL('../dist/cli/help.txt', import.meta.url), 'utf8').catch(() => undefined);
  if (text !== undefined) process.stdout.write(text);
  return text !== undefined;
}
