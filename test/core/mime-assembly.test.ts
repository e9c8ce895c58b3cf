import { describe, expect, it } from 'vitest';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Options as MailOptions } from 'nodemailer/lib/mailer';
import { Encoder as QpEncoder } from 'nodemailer/lib/qp/index.js';
import { Encoder as Base64Encoder } from 'nodemailer/lib/base64/index.js';
import { PassThrough } from 'node:stream';
import MimeNode from 'nodemailer/lib/mime-node/index.js';
import { hasLongerLines, isPlainText } from 'nodemailer/lib/mime-funcs/index.js';
import { assembleMessage, MessageSkeletons } from '../../src/core/mime-assembly.js';
import { encodeTextQp } from '../../src/core/quoted-printable.js';

const encoders = { QpEncoder, Base64Encoder };

/** Both ways from the same options, with the random part of the boundaries fixed. */
async function both(options: MailOptions): Promise<{ ours: Buffer | undefined; theirs: Buffer }> {
  const fixed = { ...options, baseBoundary: 'b0a1c2d3e4f5a6b7' } as MailOptions;
  const ours = assembleMessage(new MailComposer(fixed).compile(), encoders);
  const theirs = await new MailComposer(fixed).compile().build();
  return { ours, theirs };
}

/** A small generator, seeded, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['word', ' ', '  ', '\t', '\n', '\r\n', '\r', '.', '=', '=3D', 'é', 'Siân', '李雷', '🌍', '👩‍👩‍👧', '—', 'x'.repeat(90), 'From ', '<p style="color:#1f2933">', '&amp;', '?', ',', '\u0000', '\u00a0'];

function text(next: () => number, length: number): string {
  let out = '';
  while (out.length < length) out += PIECES[Math.floor(next() * PIECES.length)];
  return out;
}

describe('assembleMessage', () => {
  it('writes the same bytes as MailComposer for the kinds of message bulletin builds', async () => {
    const base: MailOptions = {
      from: 'Hartmoor Constabulary Community Liaison <community.liaison@hartmoor-police.example.org>',
      replyTo: 'Tîm Cyswllt <liaison.team@example.org>',
      to: { name: 'Zoë Ødegård-Ní Bhriain', address: 'zoe@example.org' },
      subject: 'Statement to Ysgol Gynradd 李雷 following the national vote',
      date: new Date('2026-11-30T09:15:00Z'),
      messageId: '<run.1@hartmoor-police.example.org>',
      headers: { 'Auto-Submitted': 'auto-generated', 'List-Unsubscribe': '<mailto:unsubscribe@example.org?subject=unsubscribe>' },
      textEncoding: 'quoted-printable',
      disableFileAccess: true,
      disableUrlAccess: true,
      xMailer: false,
    };
    const next = random(18);
    const cases: MailOptions[] = [
      { ...base, text: 'Plain ASCII, short lines.\nSecond line.\n', html: '<p>Plain</p>' },
      { ...base, text: '', html: '<p>HTML only</p>' },
      { ...base, text: 'Text only, no HTML' },
      { ...base, text: 'trailing space at the very end   ', html: 'trailing tab\t' },
      // over 64 KB: nodemailer's QP encoder works in slices of that size
      { ...base, text: text(next, 70_000), html: text(next, 140_000) },
      { ...base, text: 'with attachments', html: '<p>x</p>', attachments: [{ filename: 'how-to-report.txt', content: Buffer.from('How to report.\n'.repeat(300)) }, { filename: 'data.bin', content: Buffer.from([0, 13, 10, 13, 255, 10, 32, 13]) }, { filename: 'Adroddiad ­— ffôn.txt', content: Buffer.from('cy\r\n') }] },
    ];
    for (let i = 0; i < 60; i++) cases.push({ ...base, subject: text(next, 5 + Math.floor(next() * 120)), to: { name: text(next, Math.floor(next() * 60)).replace(/[\r\n\0]/g, ''), address: `head${i}@example.net` }, text: text(next, Math.floor(next() * 3000)), html: text(next, Math.floor(next() * 6000)), attachments: [{ filename: 'a.txt', content: Buffer.from(text(next, 200)) }] });
    for (const options of cases) {
      const { ours, theirs } = await both(options);
      expect(ours?.toString('latin1')).toBe(theirs.toString('latin1'));
    }
  });

  it('leaves a message with streamed content to MailComposer', async () => {
    const stream = new PassThrough();
    stream.end('streamed');
    const { ours } = await both({ from: 'a@example.org', to: 'b@example.org', text: 'x', attachments: [{ filename: 's.txt', content: stream }] });
    expect(ours).toBeUndefined();
  });

  it('encodes an attachment Buffer once however many messages carry it', () => {
    const content = Buffer.from('How to report.\n'.repeat(300));
    const first = assembleMessage(new MailComposer({ from: 'a@example.org', to: 'b@example.org', text: 'one', attachments: [{ filename: 'r.txt', content }] }).compile(), encoders)!;
    content.write('CHANGED', 0); // the same Buffer, changed behind the cache's back: the cached encoding shows through
    const second = assembleMessage(new MailComposer({ from: 'a@example.org', to: 'c@example.org', text: 'two', attachments: [{ filename: 'r.txt', content }] }).compile(), encoders)!;
    const part = (m: Buffer) => m.toString('latin1').split('filename=r.txt')[1]!.split('--')[0];
    expect(part(second)).toBe(part(first));
  });
});

describe('MessageSkeletons', () => {
  /** A MailComposer that counts the trees it compiles: each is a message built the long way. */
  function counting(): { skeletons: MessageSkeletons; compiled: () => number } {
    let compiled = 0;
    class Counted extends MailComposer {
      override compile(): MimeNode {
        compiled++;
        return super.compile();
      }
    }
    return { skeletons: new MessageSkeletons({ MailComposer: Counted, MimeNode, isPlainText, hasLongerLines, encoders }), compiled: () => compiled };
  }

  const base = {
    from: 'Hartmoor Constabulary Community Liaison <community.liaison@hartmoor-police.example.org>',
    replyTo: 'Tîm Cyswllt <liaison.team@example.org>',
    date: new Date('2026-11-30T09:15:00Z'),
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'OOF, AutoReply', 'List-Unsubscribe': '<mailto:unsubscribe@example.org?subject=unsubscribe>', 'List-Id': 'Hartmoor <statements.hartmoor.example.org>' },
    textEncoding: 'quoted-printable' as const,
    disableFileAccess: true,
    disableUrlAccess: true,
    xMailer: false as const,
  };

  it('writes the same bytes as MailComposer for every message, and compiles one tree per shape', async () => {
    const { skeletons, compiled } = counting();
    const next = random(7);
    const leaflet = { filename: 'how-to-report.pdf', content: Buffer.from('%PDF-1.4 fictional\n'.repeat(200)) };
    const welsh = { filename: 'Adroddiad — ffôn.txt', content: Buffer.from('cy\r\n') };
    // what a text or HTML can be: empty, 7bit, ASCII with a long line, non-ASCII, control characters
    const bodies = ['', 'Plain ASCII.\nShort lines.\n', `${'x'.repeat(90)}\n`, 'Siân and 李雷 🌍', 'tab\tand \u0000 nul'];
    const attachmentLists = [[], [leaflet], [leaflet, welsh]];
    let shapes = 0;
    let singles = 0;
    for (const t of bodies) {
      for (const h of bodies) {
        for (const attachments of attachmentLists) {
          if (t === '' && h === '' && attachments.length === 0) continue;
          // a message of one part is not multipart: it is always built by MailComposer
          const single = (t === '' ? 0 : 1) + (h === '' ? 0 : 1) + attachments.length === 1;
          if (single) singles++;
          else shapes++;
          // several recipients of this shape: different names, subjects, per-recipient words in the texts, tokens
          for (let i = 0; i < 4; i++) {
            const word = text(next, 3 + Math.floor(next() * 40)).replace(/[\r\n\0]/g, '');
            const options = {
              ...base,
              to: i % 2 ? { name: word, address: `head${i}@school${i}.example.net` } : `head${i}@example.org`,
              subject: i === 3 ? `Statement ${word}`.slice(0, 200) : 'Statement following the national vote',
              messageId: `<run.${i}@hartmoor-police.example.org>`,
              text: t === '' ? '' : `${t}${i}`,
              html: h === '' ? '' : `${h}${i}`,
              attachments: attachments.map((a) => ({ ...a })),
              baseBoundary: (0x1000000000000000n + BigInt((shapes + singles) * 10 + i)).toString(16),
            };
            const theirs = await new MailComposer(options).compile().build();
            expect(skeletons.build(options)?.toString('latin1')).toBe(theirs.toString('latin1'));
          }
        }
      }
    }
    // a shape's first message builds its skeleton; the other three reuse it
    expect(compiled()).toBe(shapes + 4 * singles);
  });

  it('builds generated messages of one campaign, many recipients, as MailComposer does, with a handful of trees', async () => {
    const { skeletons, compiled } = counting();
    const next = random(31);
    const attachments = [{ filename: 'how-to-report.txt', content: Buffer.from('How to report.\n'.repeat(300)) }];
    for (let i = 0; i < 150; i++) {
      const name = text(next, Math.floor(next() * 60)).replace(/[\r\n\0]/g, '');
      const options = {
        ...base,
        to: { name, address: `head${i}@example.net` },
        subject: text(next, 5 + Math.floor(next() * 100)),
        messageId: `<run.${i}@hartmoor-police.example.org>`,
        text: `Dear ${name},\n${text(next, Math.floor(next() * 3000))}`,
        html: `<p>Dear ${name},</p>\n${text(next, Math.floor(next() * 6000))}`,
        attachments,
        baseBoundary: randomToken(next),
      };
      const theirs = await new MailComposer(options).compile().build();
      expect(skeletons.build(options)?.toString('latin1')).toBe(theirs.toString('latin1'));
    }
    expect(compiled()).toBeLessThan(20);
  });

  it('keeps the text and the HTML apart when the first message of a shape has the same string for both', async () => {
    const { skeletons } = counting();
    const same = 'Same words in both parts.';
    for (const [i, [t, h]] of [[same, same], ['The text part.', '<p>The HTML part.</p>']].entries()) {
      const options = { ...base, to: `head${i}@example.org`, subject: 'Statement', messageId: `<same.${i}@example.org>`, text: t, html: h, baseBoundary: `a0a1c2d3e4f5a6b${i}` };
      expect(skeletons.build(options)?.toString('latin1')).toBe((await new MailComposer(options).compile().build()).toString('latin1'));
    }
  });

  it('leaves a message with options it does not know to MailComposer', async () => {
    const { skeletons } = counting();
    const options = { ...base, to: 'b@example.org', text: 'x', html: '<p>x</p>', cc: 'c@example.org', messageId: '<cc.1@example.org>', baseBoundary: 'b0a1c2d3e4f5a6b7' };
    const ours = skeletons.build(options);
    expect(ours?.toString('latin1')).toBe((await new MailComposer(options).compile().build()).toString('latin1'));
    expect(ours?.toString('latin1')).toContain('Cc: c@example.org');
  });
});

function randomToken(next: () => number): string {
  let out = '';
  for (let i = 0; i < 16; i++) out += '0123456789abcdef'[Math.floor(next() * 16)];
  return out;
}

describe('encodeTextQp', () => {
  /** nodemailer's encoder on a text part, fed as MimeNode feeds it: one chunk, then the flush. */
  function theirs(content: Buffer): string {
    const encoder = new QpEncoder({ binary: false });
    const out: Buffer[] = [];
    encoder.push = (chunk: unknown): boolean => {
      if (typeof chunk === 'string') out.push(Buffer.from(chunk, 'latin1'));
      else if (Buffer.isBuffer(chunk)) out.push(chunk);
      return true;
    };
    encoder._transform(content, 'buffer' as BufferEncoding, () => undefined);
    encoder._flush(() => undefined);
    return Buffer.concat(out).toString('latin1');
  }

  it('writes what nodemailer writes for 3,000 generated texts', () => {
    const next = random(2045);
    // escapes at line ends, UTF-8 runs, break characters near the margin, CR/LF in every mix
    const pieces = [...PIECES, '=', 'ÿ', 'ü', '€', '中文字', 'a'.repeat(75), 'b'.repeat(76), 'c'.repeat(77), ' '.repeat(30), '\n\n', '\r\r\n', 'é'.repeat(30)];
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      let value = '';
      const length = Math.floor(next() * (i % 10 === 0 ? 5000 : 400));
      while (value.length < length) value += pieces[Math.floor(next() * pieces.length)];
      // one in four ends in spaces or tabs, which nodemailer's encoder holds back to its flush
      if (i % 4 === 0) value += ['  ', '\t', ' \t ', ' '.repeat(80), '\n  '][i % 5]!;
      const content = Buffer.from(value, 'utf8');
      const ours = encodeTextQp(content);
      if (ours === undefined) continue; // over 64 KB: nodemailer's own encoder writes it
      checked++;
      expect(ours.toString('latin1'), `text ${i}`).toBe(theirs(content));
    }
    expect(checked).toBeGreaterThan(2000);
  });

  it('leaves a text over 64 KB to nodemailer', () => {
    expect(encodeTextQp(Buffer.from('x'.repeat(64 * 1024 + 1)))).toBeUndefined();
  });
});
