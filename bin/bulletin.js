#!/usr/bin/env node
// `bulletin --version` answers without loading the CLI and its libraries (start-up time, BENCHMARKS.md).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { toolVersion } = await import('../dist/io/package-info.js');
  process.stdout.write(`${toolVersion()}\n`);
} else {
  const { main } = await import('../dist/cli/main.js');
  await main(process.argv);
}
