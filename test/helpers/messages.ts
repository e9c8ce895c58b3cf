/** OutgoingMessage values as the planner would build them, with nodemailer's MailComposer. */
import MailComposer from 'nodemailer/lib/mail-composer';
import type { OutgoingMessage } from '../../src/core/outgoing.js';

export const FROM = 'Hartmoor Community Safety <community@example.org>';

export async function buildMessage(email: string, line: number, options: { bodyBytes?: number } = {}): Promise<OutgoingMessage> {
  const messageId = `<${line}.test@example.org>`;
  const text = options.bodyBytes ? 'x'.repeat(75).concat('\n').repeat(Math.ceil(options.bodyBytes / 76)) : `Dear colleague at line ${line},\n\nA statement.\n`;
  const raw = await new MailComposer({
    from: FROM,
    to: email,
    subject: `Statement for line ${line}`,
    messageId,
    text,
    html: `<p>Statement for line ${line}</p>`,
    headers: { 'Auto-Submitted': 'auto-generated' },
  })
    .compile()
    .build();
  return { key: email.toLowerCase(), email, line, messageId, envelope: { from: 'community@example.org', to: [email] }, raw };
}

export async function buildMessages(count: number, domain = 'example.com'): Promise<OutgoingMessage[]> {
  const out: OutgoingMessage[] = [];
  for (let i = 0; i < count; i++) out.push(await buildMessage(`head${i}@${domain}`, i + 2));
  return out;
}

export async function* lazily<T>(items: Iterable<T>): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}
