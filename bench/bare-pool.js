/**
 * The yardstick for bench/send-e2e.js: a bare nodemailer pool (pool: true, 10 connections,
 * maxMessages Infinity) in its own process, sending `count` messages with one recipient each,
 * all with the same HTML, text, headers and attachment (one rendered message of the campaign),
 * to the bench's recipient addresses. No checks, no manifest: what a hand-written script does.
 * `node bench/bare-pool.js SPEC.json PORT COUNT`
 */
import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { recipientRow } from './campaign.js';

const [specPath, port, count] = process.argv.slice(2);
const spec = JSON.parse(await readFile(specPath, 'utf8'));
const attachments = await Promise.all(spec.attachments.map(async (a) => ({ filename: a.filename, content: await readFile(a.path) })));
const transporter = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port: Number(port), secure: false, maxConnections: 10, maxMessages: Infinity, logger: false });
const sends = [];
for (let i = 0; i < Number(count); i++) {
  sends.push(
    transporter.sendMail({
      from: spec.from,
      replyTo: spec.replyTo,
      to: recipientRow(i).split(',')[0],
      subject: spec.subject,
      html: spec.html,
      text: spec.text,
      headers: spec.headers,
      attachments,
      textEncoding: 'quoted-printable',
    }),
  );
}
const results = await Promise.all(sends);
transporter.close();
process.stdout.write(`${results.length}\n`);
