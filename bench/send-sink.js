/**
 * Send N messages to a loopback smtp-server in its own process: through our delivery layer
 * (runDelivery + openTransport's pool + a real ManifestStore that fdatasyncs every append batch) at
 * concurrency 1, 5 and 10; then the sink's own ceiling, twice, with no manifest: nodemailer's
 * pooled sendMail, and 10 of nodemailer's SMTPConnections sending in turn (the least work
 * nodemailer can do per message). Each measurement gets a fresh sink process and a warm-up first.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { fromDist, result, round, withTempDir } from './harness.js';
import { buildOutgoing, startSink } from './smtp-messages.js';

export const name = 'send-sink';
const CONCURRENCIES = [1, 5, 10];
const CEILING_CONNECTIONS = 10;

export async function run({ quick }) {
  const count = quick ? 1_000 : 5_000;
  const warmup = quick ? 100 : 300;
  const { messages, bytes } = await buildOutgoing(count + warmup);
  const warm = messages.slice(count);
  const timed = messages.slice(0, count);
  const rates = new Map();
  for (const concurrency of CONCURRENCIES) rates.set(concurrency, await ours(timed, warm, concurrency));
  const pooled = await bare(timed, warm);
  const connections = await bareConnections(timed, warm);
  const ceiling = Math.max(pooled, connections);

  const out = [];
  const note = `${count.toLocaleString('en-GB')} msgs of ${round(bytes / 1024, 1)} KB, manifest fdatasync per batch`;
  for (const [concurrency, rate] of rates) out.push(result(`send to SMTP sink, concurrency ${concurrency}`, round(rate), 'msg/s', undefined, note));
  const [bestConcurrency, best] = [...rates].reduce((a, b) => (b[1] > a[1] ? b : a));
  out.push(result('send to SMTP sink, best setting', round(best), 'msg/s', { op: '>=', value: 1000 }, `concurrency ${bestConcurrency}`));
  out.push(result('SMTP sink ceiling: bare nodemailer pool (sendMail)', round(pooled), 'msg/s', undefined, `maxConnections ${CEILING_CONNECTIONS}, maxMessages Infinity, no manifest`));
  out.push(result('SMTP sink ceiling: bare SMTPConnection loops', round(connections), 'msg/s', undefined, `${CEILING_CONNECTIONS} of nodemailer's SMTPConnection, each sending in turn, no manifest`));
  out.push(result('our send / sink ceiling', round((100 * best) / ceiling), '%', { op: '>=', value: 70 }, `best ${round(best)} vs the faster ceiling, ${round(ceiling)} msg/s`));
  return out;
}

async function ours(messages, warmup, concurrency) {
  const { runDelivery } = await fromDist('io/deliver.js');
  const { openTransport, parseTransport } = await fromDist('io/transport.js');
  const { ManifestStore } = await fromDist('io/manifest-store.js');
  return withTempDir('send', async (dir) => {
    const sink = await startSink();
    const transport = await openTransport(parseTransport(sink.url), { concurrency });
    const options = { concurrency, retries: 0, maxConsecutiveFailures: 10 };
    try {
      const deliver = async (batch, folder) => {
        const runDir = join(dir, folder);
        await mkdir(runDir, { recursive: true });
        const store = await ManifestStore.open(runDir);
        try {
          return await runDelivery({ messages: batch, transport, store, options });
        } finally {
          await store.close();
        }
      };
      const send = async (batch, folder) => {
        const delivery = await deliver(batch, folder);
        if (delivery.sent !== batch.length) throw new Error(`concurrency ${concurrency}: sent ${delivery.sent}, expected ${batch.length}`);
      };
      return await rateInto(sink, `concurrency ${concurrency}`, send, messages, warmup);
    } finally {
      await transport.close();
      await sink.close();
    }
  });
}

async function bare(messages, warmup) {
  const sink = await startSink();
  const transporter = nodemailer.createTransport({
    pool: true,
    host: '127.0.0.1',
    port: sink.port,
    secure: false,
    maxConnections: CEILING_CONNECTIONS,
    maxMessages: Infinity,
    logger: false,
  });
  try {
    const send = (batch) => Promise.all(batch.map((m) => transporter.sendMail({ envelope: m.envelope, raw: m.raw })));
    return await rateInto(sink, 'bare nodemailer', send, messages, warmup);
  } finally {
    transporter.close();
    await sink.close();
  }
}

/** The floor of nodemailer's own cost: SMTPConnections sending the raw bytes one after another, nothing else. */
async function bareConnections(messages, warmup) {
  const { default: SMTPConnection } = await import('nodemailer/lib/smtp-connection/index.js');
  const sink = await startSink();
  const connections = [];
  try {
    for (let i = 0; i < CEILING_CONNECTIONS; i++) {
      const connection = new SMTPConnection({ host: '127.0.0.1', port: sink.port, secure: false, logger: false });
      await new Promise((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
      connections.push(connection);
    }
    const send = (connection, m) => new Promise((resolve, reject) => connection.send(m.envelope, m.raw, (error) => (error ? reject(error) : resolve())));
    const loops = (batch) => {
      let next = 0;
      return Promise.all(connections.map(async (connection) => {
        while (next < batch.length) await send(connection, batch[next++]);
      }));
    };
    return await rateInto(sink, 'bare SMTPConnection', loops, messages, warmup);
  } finally {
    for (const connection of connections) connection.quit();
    await sink.close();
  }
}

/** Sends the warm-up, resets the sink's count, then times `send` over the messages; the sink must have every one. */
async function rateInto(sink, label, send, messages, warmup) {
  await send(warmup, 'warmup');
  await sink.reset();
  const started = performance.now();
  await send(messages, 'run');
  const seconds = (performance.now() - started) / 1000;
  const received = await sink.count();
  if (received !== messages.length) throw new Error(`${label}: sink received ${received}, expected ${messages.length}`);
  return messages.length / seconds;
}
