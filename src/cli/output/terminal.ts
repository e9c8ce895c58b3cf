let colorWanted = true;
let applyColor: ((wanted: boolean) => void) | undefined;

/**
 * NO_COLOR and --no-color win over everything; chalk already goes plain when stdout is not a TTY.
 * Recorded here and applied by `./color.js`, which loads chalk only when a command needs it.
 */
export function configureColor(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  colorWanted = !(argv.includes('--no-color') || (env.NO_COLOR !== undefined && env.NO_COLOR !== ''));
  applyColor?.(colorWanted);
}

export function whenColorConfigured(apply: (wanted: boolean) => void): void {
  applyColor = apply;
  apply(colorWanted);
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
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** 12,345: what toLocaleString('en-GB') gives for a count, without loading ICU (~8 MB, see compareText). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}
