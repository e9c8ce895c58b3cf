/**
 * Wall time of `bulletin --help` and `bulletin --version`, spawned like a user would (median of
 * several runs), as a ratio to bare `node -e 0` measured in the same run (target < 1.5×). On a
 * busy machine the CPU time (user + sys, from GNU time where present) says more about our own
 * cost than the wall time.
 *
 * NODE_EXTRA_CA_CERTS makes Node 20 read and parse the named certificate bundle before any
 * script runs (+140 ms on the benchmark machine, where it is set machine-wide). The target is
 * checked in Node's default environment, without it; when it is set, the figures with it are
 * reported too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BIN, ROOT, median, result, round } from './harness.js';

export const name = 'startup';
const TIME = '/usr/bin/time';

function once(args, env) {
  const timed = existsSync(TIME);
  const [cmd, argv] = timed ? [TIME, ['-f', 'cpu %U %S', process.execPath, ...args]] : [process.execPath, args];
  const started = performance.now();
  const child = spawnSync(cmd, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const wall = performance.now() - started;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${child.status}: ${child.stderr.toString()}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(child.stderr.toString());
  return { wall, cpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN };
}

function medians(runs, args, env) {
  once(args, env); // warm the file cache
  const samples = Array.from({ length: runs }, () => once(args, env));
  return { wall: median(samples.map((s) => s.wall)), cpu: median(samples.map((s) => s.cpu)) };
}

const signed = (n) => (n >= 0 ? `+${n}` : `${n}`);

export function run({ quick }) {
  const runs = quick ? 5 : 11;
  // a ratio to bare node measured in the same run: absolute times swing with the machine's load
  const target = { op: '<', value: 1.5 };
  const plain = { ...process.env, NO_COLOR: '1' };
  delete plain.NODE_EXTRA_CA_CERTS;
  const environments = [{ env: plain, label: '', target }];
  if (process.env.NODE_EXTRA_CA_CERTS) environments.push({ env: { ...plain, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }, label: ' (with NODE_EXTRA_CA_CERTS)', target: undefined });
  return environments.flatMap(({ env, label, target }) => {
    const node = medians(runs, ['-e', '0'], env);
    return [
      ['bulletin --help', [BIN, '--help']],
      ['bulletin --version', [BIN, '--version']],
    ].map(([command, args]) => {
      const m = medians(runs, args, env);
      const cpu = Number.isNaN(m.cpu) ? '' : `, CPU ${round(m.cpu)} ms (node ${round(node.cpu)})`;
      return result(`${command}${label} ÷ node -e 0`, round(m.wall / node.wall, 2), '×', target, `median of ${runs}: ${round(m.wall)} ms, bare node ${round(node.wall)} ms, difference ${signed(round(m.wall - node.wall))} ms${cpu}`);
    });
  });
}
