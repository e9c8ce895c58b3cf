// `npm run demo`: the main job end to end on the built-in outbox, in ./demo (recreated each time).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/bulletin.js', import.meta.url));
const dir = 'demo';

const steps = [
  ['init', dir],
  ['validate', dir],
  ['preview', dir],
  ['approve', dir, '--by', 'Demo Reviewer', '--note', 'npm run demo'],
  ['send', dir, '--yes'],
  ['status', dir],
];

rmSync(new URL(`../${dir}`, import.meta.url), { recursive: true, force: true });
for (const args of steps) {
  process.stderr.write(`\n$ bulletin ${args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')}\n`);
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, BULLETIN_TRANSPORT: '' } });
  if (result.status !== 0) {
    process.stderr.write(`\ndemo stopped: \`bulletin ${args[0]}\` exited with ${result.status}\n`);
    process.exit(result.status ?? 1);
  }
}
process.stderr.write(`\nDone. Open ${dir}/preview/index.html to browse the messages; the sent .eml files are in ${dir}/runs/*/outbox/.\n`);
