/**
 * Wall time of `bulletin --help` and `bulletin --version`, spawned like a user would (median of
 * several runs), next to bare `node -e ""`: on a busy machine the difference, and the CPU time
 * (user + sys, from GNU time where present), say more about our own cost than the wall time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, ROOT, median, result, round } from './harness.js';

export const name = 'startup';
const TIME = '/usr/bin/time';

function once(args) {
  const timed = existsSync(TIME);
  const [cmd, argv] = timed ? [TIME, ['-f', 'cpu %U %S', process.execPath, ...args]] : [process.execPath, args];
  const started = performance.now();
  const child = spawnSync(cmd, argv, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = performance.now() - started;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${child.status}: ${child.stderr.toString()}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(child.stderr.toString());
  return { wall, cpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN };
}

function medians(runs, args) {
  once(args); // warm the file cache
  const samples = Array.from({ length: runs }, () => once(args));
  return { wall: median(samples.map((s) => s.wall)), cpu: median(samples.map((s) => s.cpu)) };
}

const signed = (n) => (n >= 0 ? `+${n}` : `${n}`);

export function run({ quick }) {
  const runs = quick ? 5 : 11;
  const node = medians(runs, ['-e', '']);
  const target = { op: '<', value: 150 };
  return [
    ['bulletin --help', [BIN, '--help']],
    ['bulletin --version', [BIN, '--version']],
  ].map(([label, args]) => {
    const m = medians(runs, args);
    const cpu = Number.isNaN(m.cpu) ? '' : `, CPU ${round(m.cpu)} ms (node ${round(node.cpu)})`;
    return result(label, round(m.wall), 'ms', target, `median of ${runs}; bare node ${round(node.wall)} ms, difference ${signed(round(m.wall - node.wall))} ms${cpu}`);
  });
}
