/**
 * Pre-built OutgoingMessage values for the send benchmarks: one ~12 KB multipart message
 * (text, HTML, a small attachment) composed once by nodemailer's MailComposer, then copied per
 * recipient with its own To and Message-ID spliced in. Same bytes on the wire as composing each
 * one, without measuring MailComposer here (the MIME figure does that).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { ROOT } from './harness.js';
import { recipientRow } from './campaign.js';

const FROM = 'Hartmoor Constabulary Community Liaison <community.liaison@hartmoor-police.example.org>';
const TO_MARK = 'to-placeholder@example.org';
const ID_MARK = '<id-placeholder@example.org>';

function paragraphs(count, words) {
  const text = 'Hate crime has no place in our county and we will respond firmly to every incident that is reported to us by schools';
  return Array.from({ length: count }, (_, i) => `${i}. ${text.split(' ').slice(0, words).join(' ')}.`);
}

export async function composeTemplateMessage() {
  const paras = paragraphs(27, 22);
  const html = `<!doctype html><html><body style="background:#eef1f4"><table role="presentation" width="640"><tr><td>${paras
    .map((p) => `<p style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:24px;color:#1f2933">${p}</p>`)
    .join('\n')}</td></tr></table></body></html>`;
  return new MailComposer({
    from: FROM,
    to: TO_MARK,
    subject: 'Statement to your school following the national vote',
    messageId: ID_MARK,
    date: new Date('2026-11-27T10:00:00Z'),
    text: paras.join('\n\n'),
    html,
    attachments: [{ filename: 'how-to-report.txt', content: 'How to report a hate crime.\n'.repeat(55) }],
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'OOF, AutoReply' },
  })
    .compile()
    .build();
}

/** `count` OutgoingMessages, each its own recipient and Message-ID. */
export async function buildOutgoing(count) {
  const template = await composeTemplateMessage();
  const text = template.toString('latin1');
  const [head, rest] = splitOnce(text, TO_MARK);
  const [middle, tail] = splitOnce(rest, ID_MARK);
  const messages = [];
  for (let i = 0; i < count; i++) {
    const email = recipientRow(i).split(',')[0];
    const messageId = `<bench.${i}@hartmoor-police.example.org>`;
    messages.push({
      key: email.toLowerCase(),
      email,
      line: i + 2,
      messageId,
      envelope: { from: 'community.liaison@hartmoor-police.example.org', to: [email] },
      raw: Buffer.from(head + email + middle + messageId + tail, 'latin1'),
    });
  }
  return { messages, bytes: template.length };
}

function splitOnce(text, mark) {
  const at = text.indexOf(mark);
  if (at === -1 || text.indexOf(mark, at + 1) !== -1) throw new Error(`expected ${mark} once in the composed message`);
  return [text.slice(0, at), text.slice(at + mark.length)];
}

/** Starts bench/sink-server.js in its own process; resolves once it listens. */
export function startSink() {
  const child = fork(join(ROOT, 'bench', 'sink-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (message) =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send(message);
    });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', ({ port }) =>
      resolve({
        port,
        url: `smtp://127.0.0.1:${port}`,
        count: async () => (await ask('count')).count,
        reset: () => ask('reset'),
        close: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.send('close');
          }),
      }),
    );
  });
}
