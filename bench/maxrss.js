/**
 * Fallback for measuring peak RSS where GNU time is missing: runs the command and prints
 * `maxrss-kb: N` on stderr, then exits with its code. N is the child's VmHWM (its own peak RSS,
 * kept by the kernel) read from /proc every 10 ms, or `ps -o rss` samples where /proc is absent.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: 'inherit' });
let peakKb = 0;

function sample() {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    peakKb = Math.max(peakKb, Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0));
  } catch {
    try {
      peakKb = Math.max(peakKb, Number(execFileSync('ps', ['-o', 'rss=', '-p', String(child.pid)]).toString().trim()) || 0);
    } catch {
      // the child has gone
    }
  }
}

const timer = setInterval(sample, 10);
child.on('exit', (code) => {
  clearInterval(timer);
  process.stderr.write(`maxrss-kb: ${peakKb}\n`);
  process.exit(code ?? 1);
});
