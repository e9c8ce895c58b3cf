import chalk from 'chalk';

/** NO_COLOR and --no-color win over everything; chalk already goes plain when stdout is not a TTY. */
export function configureColor(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  if (argv.includes('--no-color') || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) chalk.level = 0;
}

export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Logs and progress: stderr, so stdout stays clean for results and --json. */
export function log(line = ''): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}
