/**
 * The user's path: `bulletin send DIR --yes` spawned like a user would, on a generated campaign
 * of the init example (attachment included), to a loopback SMTP sink in its own process, timed
 * from spawn to exit: start-up, loading, the checking pass, rendering, MIME assembly, manifest
 * and delivery. In the same run, in turns, a bare nodemailer pool in its own process
 * (bench/bare-pool.js) sends as many messages with the same HTML, text and attachment to a
 * fresh sink. Reported: each rate, our rate as a share of the bare pool's (median of the turns'
 * ratios), CPU per message of each process (threads included), and with `BENCH_PROFILE=1`,
 * where bulletin's CPU goes (a `--cpu-prof` of one more send, by package and by function).
 * `BENCH_TURNS` (default 3) and `BENCH_SIZES` (default 2000,10000) change the run.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createCampaign } from './campaign.js';
import { BIN, ROOT, fromDist, median, measureProcess, result, round, withTempDir } from './harness.js';
import { startSink } from './smtp-messages.js';

export const name = 'send-e2e';
const TARGETS = { 2_000: 80, 10_000: 100 };
// this machine's NODE_EXTRA_CA_CERTS costs every node process 0.1–0.25 s (bench/startup.js)
const ENV = { NODE_EXTRA_CA_CERTS: '' };

export async function run({ quick }) {
  const sizes = quick ? [500] : process.env.BENCH_SIZES ? process.env.BENCH_SIZES.split(',').map(Number) : [2_000, 10_000];
  const turns = quick ? 1 : Number(process.env.BENCH_TURNS ?? 3);
  const out = [];
  for (const count of sizes) {
    await withTempDir('e2e', async (dir) => {
      const campaign = await createCampaign(join(dir, 'campaign'), count);
      const spec = join(dir, 'bare.json');
      await writeFile(spec, JSON.stringify(await bareSpec(campaign)));
      const ours = [];
      const bare = [];
      for (let turn = 0; turn < turns; turn++) {
        ours.push(await timeBulletin(campaign, count));
        bare.push(await timeBare(spec, count));
      }
      const ratios = ours.map((o, i) => (100 * bare[i].ms) / o.ms);
      const n = count.toLocaleString('en-GB');
      const rate = (m) => round(count / (m.ms / 1000));
      const cpu = (ms) => round(ms / count, 2);
      const spread = (values) => `${values.map((v) => round(v)).join(', ')}`;
      out.push(
        result(`bulletin send ${n}, end to end`, round(median(ours.map((m) => count / (m.ms / 1000)))), 'msg/s', undefined, `median of ${turns} (${spread(ours.map(rate))}); CPU ${cpu(median(ours.map((m) => m.cpuMs)))} ms/msg, peak RSS ${round(Math.max(...ours.map((m) => m.peakMb)), 1)} MB`),
        result(`bare nodemailer pool ${n}, end to end`, round(median(bare.map((m) => count / (m.ms / 1000)))), 'msg/s', undefined, `median of ${turns} (${spread(bare.map(rate))}); CPU ${cpu(median(bare.map((m) => m.cpuMs)))} ms/msg`),
        result(`bulletin send ÷ bare pool, ${n}`, round(median(ratios)), '%', { op: '>=', value: TARGETS[count] ?? 80 }, `median of ${turns} turns' ratios (${spread(ratios)}); CPU ratio ${round(median(ours.map((o, i) => o.cpuMs / bare[i].cpuMs)), 2)}×`),
      );
      if (process.env.BENCH_PROFILE) out.push(await profile(campaign, count));
    });
  }
  return out;
}

/** What the bare pool sends: the campaign's first message as bulletin renders it. */
async function bareSpec(campaign) {
  const { planCampaign } = await fromDist('plan.js');
  let first;
  await planCampaign(campaign, { onMessage: (m) => void (first ??= m) });
  const config = JSON.parse(await readFile(join(campaign, 'bulletin.json'), 'utf8'));
  return {
    from: config.from,
    replyTo: config.replyTo,
    subject: first.content.subject,
    html: first.content.html,
    text: first.content.text,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'OOF, AutoReply', 'List-Unsubscribe': `<mailto:${config.unsubscribe.mailto}?subject=unsubscribe>`, 'List-Id': config.listId },
    attachments: config.attachments.map((a) => ({ filename: basename(a), path: join(campaign, a) })),
  };
}

async function timeBulletin(campaign, count, nodeArgs = []) {
  const sink = await startSink();
  try {
    const m = await measureProcess(process.execPath, [...nodeArgs, BIN, 'send', campaign, '--yes', '--new-run', '--transport', sink.url], { env: ENV });
    const received = await sink.count();
    if (m.code !== 0 || received !== count) throw new Error(`bulletin send exited ${m.code}, the sink got ${received} of ${count}: ${m.stderr.slice(-500)}`);
    return m;
  } finally {
    await sink.close();
  }
}

async function timeBare(spec, count) {
  const sink = await startSink();
  try {
    const m = await measureProcess(process.execPath, [join(ROOT, 'bench', 'bare-pool.js'), spec, String(sink.port), String(count)], { env: ENV });
    const received = await sink.count();
    if (m.code !== 0 || received !== count) throw new Error(`bare pool exited ${m.code}, the sink got ${received} of ${count}: ${m.stderr.slice(-500)}`);
    return m;
  } finally {
    await sink.close();
  }
}

/** One more send under --cpu-prof (main thread and workers): self time by package and by function. */
async function profile(campaign, count) {
  const dir = await mkdtemp(join(tmpdir(), 'bulletin-bench-prof-'));
  try {
    await timeBulletin(campaign, count, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const summary = summariseProfiles(await Promise.all((await readdir(dir)).map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')))));
    return result(`where bulletin send ${count.toLocaleString('en-GB')}'s CPU goes`, round(summary.totalMs), 'ms sampled', undefined, summary.text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Self time per package (or our own file) and the top functions, across every thread's profile. */
export function summariseProfiles(profiles) {
  const byPlace = new Map();
  const byFunction = new Map();
  let totalMs = 0;
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map();
    for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
    for (const [id, ms] of self) {
      const { functionName, url, lineNumber } = nodes.get(id).callFrame;
      if (functionName === '(idle)') continue;
      totalMs += ms;
      const place = placeOf(url, functionName);
      byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
      const fn = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    }
  }
  // shares, not ms: the profiler samples wall time, which on a loaded machine includes waiting for a core
  const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, ms]) => `${k} ${round((100 * ms) / totalMs, 1)}%`).join('; ');
  return { totalMs, text: `by place: ${top(byPlace, 12)} | by function: ${top(byFunction, 15)}` };
}

function placeOf(url, functionName) {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url;
  const ours = /\/dist\/(.*)$/.exec(url);
  return ours ? ours[1] : url.replace(/^file:\/\//, '');
}
