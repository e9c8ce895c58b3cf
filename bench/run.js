/**
 * `npm run bench`: measures bulletin against the targets of BENCHMARKS.md and prints a table.
 *   --json        print the results as JSON on stdout instead (`npm run -s bench -- --json`, or
 *                 `node bench/run.js --json`: npm itself prints a header line on stdout)
 *   --only NAME   run one figure module (startup, validate-large, preview-large, render, send-sink, send-e2e, outbox-memory, inbox)
 *   --quick       smaller sizes, for a quick look (the targets are meant for the full sizes)
 * Always exits 0 when the benchmarks ran, even when a target is missed: benchmarks never fail CI.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuilt } from './harness.js';

const MODULES = ['startup', 'validate-large', 'preview-large', 'render', 'send-sink', 'send-e2e', 'outbox-memory', 'inbox'];

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, only: { type: 'string' }, quick: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
});
if (values.help) {
  process.stdout.write(`usage: npm run bench -- [--json] [--quick] [--only ${MODULES.join('|')}]\n`);
  process.exit(0);
}
if (values.only && !MODULES.includes(values.only)) {
  process.stderr.write(`bench: unknown figure "${values.only}"; one of: ${MODULES.join(', ')}\n`);
  process.exit(2);
}

ensureBuilt();
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  date: new Date().toISOString(),
  loadBefore: loadavg()[0].toFixed(2),
};
const log = (line) => process.stderr.write(`${line}\n`);
if (Number(machine.loadBefore) > 0.5 * machine.cores) log(`bench: the machine is busy (load ${machine.loadBefore} on ${machine.cores} cores): timings will be slower than usual`);

const results = [];
for (const name of values.only ? [values.only] : MODULES) {
  log(`bench: ${name}…`);
  const started = performance.now();
  try {
    const module = await import(`./${name}.js`);
    results.push(...(await module.run({ quick: values.quick })).map((r) => ({ module: name, ...r })));
  } catch (error) {
    // one broken figure must not hide the others
    results.push({ module: name, name, value: null, unit: '', target: '', ok: false, notes: `error: ${error instanceof Error ? error.message : String(error)}` });
  }
  log(`bench: ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
machine.loadAfter = loadavg()[0].toFixed(2);

if (values.json) {
  process.stdout.write(JSON.stringify({ machine, quick: values.quick, results }, null, 2) + '\n');
} else {
  printTable();
}

function printTable() {
  const status = (r) => (r.pending ? 'pending' : r.ok === null ? '' : r.ok ? 'ok' : 'MISSED');
  const rows = results.map((r) => [r.name, r.value === null ? '—' : r.value.toLocaleString('en-GB'), r.unit, r.target, status(r), r.notes]);
  const header = ['figure', 'value', 'unit', 'target', '', 'notes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 1 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ').trimEnd();
  const out = [
    `bulletin benchmarks${values.quick ? ' (--quick sizes)' : ''}: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, load ${machine.loadBefore} → ${machine.loadAfter}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  const missed = results.filter((r) => r.ok === false);
  const waiting = results.filter((r) => r.pending);
  out.push('');
  if (missed.length > 0) out.push(`MISSED ${missed.length} target(s):`, ...missed.map((r) => `  ✖ ${r.name}: ${r.value ?? '—'} ${r.unit} (target ${r.target || 'ran'}) ${r.notes}`));
  else out.push('every measured target met');
  if (waiting.length > 0) out.push(`${waiting.length} pending: ${waiting.map((r) => r.name).join('; ')}`);
  process.stdout.write(out.join('\n') + '\n');
}
