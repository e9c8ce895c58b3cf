/**
 * `bulletin inbox` on a mailbox of 10,000 messages (bounces with the returned message, delay
 * warnings, out-of-office replies, replies, unknown mail) against a run of 10,000 recipients,
 * read from a folder of .eml files and from an mbox: messages classified and recorded per
 * second, end to end through the CLI, and peak RSS.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BIN, measureProcess, result, round, withTempDir } from './harness.js';

export const name = 'inbox';
const RUN = '2026-11-27T10-02-11Z-ab12';

export async function run({ quick }) {
  const count = quick ? 2_000 : 10_000;
  return withTempDir('inbox', async (dir) => {
    const campaign = join(dir, 'campaign');
    const { messages } = await createMailbox(campaign, count);
    const folder = join(dir, 'mail');
    await mkdir(folder);
    await Promise.all(messages.map((m, i) => writeFile(join(folder, `${String(i + 1).padStart(5, '0')}.eml`), m)));
    const mbox = join(dir, 'mail.mbox');
    await writeFile(mbox, messages.map((m) => `From MAILER-DAEMON Fri Nov 27 10:05:00 2026\n${m.toString('utf8').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1')}\n`).join(''));

    const out = [];
    for (const [label, source] of [
      ['folder of .eml', folder],
      ['mbox', mbox],
    ]) {
      // each source into a fresh copy of the run, so every message is new (recorded, not skipped)
      await writeFile(join(campaign, 'runs', RUN, 'inbox.jsonl'), '');
      await rm(join(campaign, 'inbox'), { recursive: true, force: true });
      const m = await measureProcess(process.execPath, [BIN, 'inbox', campaign, '--from', source, '--json'], { env: { NODE_EXTRA_CA_CERTS: '' } });
      const report = parse(m.stdout);
      if (m.code !== 0 || report?.summary?.messages !== count) throw new Error(`inbox exited ${m.code} with ${report?.summary?.messages} messages: ${m.stderr.slice(0, 400)}`);
      if (report.summary.new !== count) throw new Error(`expected ${count} new, got ${report.summary.new}`);
      const perSecond = count / (m.ms / 1000);
      out.push(
        result(`inbox ${count.toLocaleString('en-GB')} messages, ${label}`, round(perSecond), 'msg/s', { op: '>=', value: 2000 }, `classified, matched and recorded, end to end with start-up (${round(m.ms)} ms); kinds ${JSON.stringify(report.summary.byKind)}`),
        result(`inbox ${count.toLocaleString('en-GB')} messages, ${label}: peak RSS`, round(m.peakMb, 1), 'MB', undefined, 'whole CLI process'),
      );
    }
    return out;
  });
}

async function createMailbox(campaign, count) {
  const runDir = join(campaign, 'runs', RUN);
  await mkdir(runDir, { recursive: true });
  await writeFile(join(campaign, 'bulletin.json'), JSON.stringify({ from: 'Hartmoor Community Safety <community@hartmoor.example.org>', unsubscribe: { mailto: 'unsubscribe@hartmoor.example.org' } }));
  await writeFile(join(runDir, 'run.json'), JSON.stringify({ id: RUN, startedAt: '2026-11-27T10:02:11.000Z', toolVersion: 'bench', digests: {}, transport: 'smtp://relay.example.org:587', finishedAt: '2026-11-27T10:30:00.000Z' }));
  const manifest = [];
  const messages = [];
  const body = 'We are writing to every school in the county following this week\'s events. '.repeat(40);
  for (let i = 1; i <= count; i++) {
    const email = `head${i}@school${i % 97}.example.org`;
    const messageId = `<${RUN}.${createHash('sha256').update(email).digest('hex').slice(0, 20)}@hartmoor.example.org>`;
    manifest.push(JSON.stringify({ email, key: email, line: i + 1, messageId, state: 'sent', attempt: 1, code: 250, response: '250 2.0.0 queued', at: '2026-11-27T10:03:00.000Z' }));
    const original = `From: Hartmoor Community Safety <community@hartmoor.example.org>\r\nTo: ${email}\r\nSubject: A statement to schools\r\nMessage-ID: ${messageId}\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
    const kind = i % 20;
    let raw;
    if (kind < 12) raw = dsn(i, email, original, 'failed');
    else if (kind < 13) raw = dsn(i, email, original, 'delayed');
    else if (kind < 16) raw = `From: Head ${i} <${email}>\r\nTo: community@hartmoor.example.org\r\nSubject: Automatic reply: A statement to schools\r\nMessage-ID: <oof-${i}@school${i % 97}.example.org>\r\nIn-Reply-To: ${messageId}\r\nAuto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n\r\nI am away until Monday.\r\n`;
    else if (kind < 19) raw = `From: Head ${i} <${email}>\r\nTo: community@hartmoor.example.org\r\nSubject: Re: A statement to schools\r\nMessage-ID: <reply-${i}@school${i % 97}.example.org>\r\nIn-Reply-To: ${messageId}\r\nReferences: ${messageId}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThank you, we will share this with staff.\r\n\r\nOn Fri, 27 Nov 2026 Hartmoor Community Safety wrote:\r\n> ${body.slice(0, 400)}\r\n`;
    else raw = `From: Newsletter <news@elsewhere.example.com>\r\nTo: community@hartmoor.example.org\r\nSubject: This week in the county\r\nMessage-ID: <news-${i}@elsewhere.example.com>\r\nContent-Type: text/plain\r\n\r\n${body.slice(0, 600)}\r\n`;
    messages.push(Buffer.from(raw));
  }
  await writeFile(join(runDir, 'manifest.jsonl'), manifest.join('\n') + '\n');
  return { messages };
}

function dsn(i, email, original, action) {
  const boundary = `b${i}`;
  const status = action === 'failed' ? '5.1.1' : '4.4.7';
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>',
    'To: community@hartmoor.example.org',
    `Subject: ${action === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)'}`,
    `Message-ID: <dsn-${i}@mx.example.net>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain',
    '',
    `This is the mail system at host mx.example.net.\r\n\r\n<${email}>: host store.example.net said: 550 5.1.1 User unknown`,
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    '',
    `Final-Recipient: rfc822; ${email}`,
    `Action: ${action}`,
    `Status: ${status}`,
    `Diagnostic-Code: smtp; ${action === 'failed' ? '550 5.1.1 User unknown' : '451 4.4.7 still trying'}`,
    '',
    `--${boundary}`,
    'Content-Type: message/rfc822',
    '',
    original,
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
