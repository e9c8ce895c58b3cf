import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import MimeNode from 'nodemailer/lib/mime-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulletin, exampleCampaign, requireBuild, STACK_TRACE } from '../helpers/cli.js';
import { findDovecot, imapFlags, seedImap, startDovecot, type Dovecot } from '../helpers/dovecot.js';
import { buildDsn, buildOutOfOffice, buildReply, toMbox } from '../helpers/dsn.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

let sink: SmtpSink | undefined;
let dovecot: Dovecot | undefined;

beforeAll(() => requireBuild());
afterEach(async () => {
  await sink?.close();
  sink = undefined;
  await dovecot?.stop();
  dovecot = undefined;
});

interface JsonMessage {
  source: string;
  kind: string;
  recipients: { email: string; line?: number; status?: string; action?: string; diagnostic?: string }[];
  originalMessageId?: string;
  run?: string;
  line?: number;
  matchedBy?: string;
  recorded: string;
  note?: string;
}

interface JsonInbox {
  messages: JsonMessage[];
  summary: { messages: number; new: number; already: number; unmatched: number; byKind: Record<string, number> };
}

function headerOf(raw: Buffer, name: string): string {
  const head = raw.toString('utf8').split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
  return new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1]?.trim() ?? '';
}

async function sentCampaign(settings: Record<string, unknown> = {}): Promise<{ campaign: string; emails: string[]; run: string }> {
  sink = await startSmtpSink();
  const campaign = await exampleCampaign({ settings: { requireApproval: false, suppress: 'suppressed.csv', unsubscribe: { mailto: 'unsubscribe@hartmoor-police.example.org' }, ...settings } });
  const sent = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
  expect(sent.code, sent.stderr).toBe(0);
  const csv = await readFile(path.join(campaign, 'recipients.csv'), 'utf8');
  const emails = csv.trim().split('\n').slice(1).map((l) => l.split(',')[0]!.toLowerCase());
  const run = (await readdir(path.join(campaign, 'runs'))).sort().at(-1)!;
  return { campaign, emails, run };
}

describe('bulletin inbox: what came back after a send', () => {
  it('marks exactly the bounced recipients, lists what matches nothing, changes nothing the second time, and feeds status, report and suppress', async () => {
    const { campaign, emails, run } = await sentCampaign();
    const received = (email: string) => sink!.receivedFor(email)[0]!;
    const [hard, headersOnly, delayed, replied, away, unsubscribed, other] = emails;
    const subject = headerOf(received(replied!).raw, 'Subject');
    const mail: Record<string, Buffer> = {
      '01-bounce.eml': await buildDsn({ to: received(hard!).from, recipient: hard!, original: received(hard!).raw }),
      '02-bounce-headers.eml': await buildDsn({ to: received(headersOnly!).from, recipient: headersOnly!, original: received(headersOnly!).raw, headersOnly: true, status: '5.2.1', diagnostic: '550 5.2.1 mailbox disabled' }),
      '03-delay.eml': await buildDsn({ to: received(delayed!).from, recipient: delayed!, original: received(delayed!).raw, action: 'delayed' }),
      '04-reply.eml': await buildReply({ from: replied!, to: received(replied!).from, inReplyTo: headerOf(received(replied!).raw, 'Message-ID'), subject, text: 'Thank you, we will share this with staff.\r\nCould the liaison officer visit on Tuesday?' }),
      '05-away.eml': await buildOutOfOffice({ from: away!, to: received(away!).from, inReplyTo: headerOf(received(away!).raw, 'Message-ID'), subject }),
      '06-unsubscribe.eml': await new MimeNode('text/plain').setHeader({ From: unsubscribed!, To: 'unsubscribe@hartmoor-police.example.org', Subject: 'unsubscribe' }).setContent('unsubscribe\r\n').build(),
      // a bounce of another tool's message to one of our recipients: must not mark them
      '07-foreign.eml': await buildDsn({ to: 'newsletter@example.org', recipient: other!, original: Buffer.from(`Message-ID: <weekly-42@mailer.example.com>\r\nSubject: Weekly news\r\n\r\nhello\r\n`) }),
      // forged: names an address this campaign never sent to, quoting nothing
      '08-forged.eml': await buildDsn({ to: received(hard!).from, recipient: 'never-sent@oakfield.example.org', original: Buffer.alloc(0), withoutOriginal: true }),
    };
    const folder = path.join(campaign, '..', 'came-back');
    await mkdir(folder);
    for (const [name, raw] of Object.entries(mail)) await writeFile(path.join(folder, name), raw);

    const first = await bulletin(['inbox', campaign, '--from', folder, '--json']);
    expect(first.stderr).not.toMatch(STACK_TRACE);
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as JsonInbox;
    const by = (source: string) => result.messages.find((m) => m.source === source)!;
    expect(by('01-bounce.eml')).toMatchObject({ kind: 'bounce', run, matchedBy: 'message-id', recipients: [{ email: hard, status: '5.1.1', action: 'failed' }], recorded: 'new' });
    expect(by('01-bounce.eml').recipients[0]!.diagnostic).toContain('User unknown');
    expect(by('02-bounce-headers.eml')).toMatchObject({ kind: 'bounce', run, matchedBy: 'message-id', recipients: [{ email: headersOnly, status: '5.2.1' }] });
    expect(by('03-delay.eml')).toMatchObject({ kind: 'delay', run, recipients: [{ email: delayed }] });
    expect(by('04-reply.eml')).toMatchObject({ kind: 'reply', run, matchedBy: 'message-id', recipients: [{ email: replied }] });
    expect(by('05-away.eml')).toMatchObject({ kind: 'auto-reply', run, recipients: [{ email: away }] });
    expect(by('06-unsubscribe.eml')).toMatchObject({ kind: 'unsubscribe', run, matchedBy: 'address', recipients: [{ email: unsubscribed }] });
    expect(by('07-foreign.eml')).toMatchObject({ kind: 'bounce', recorded: 'new' });
    expect(by('07-foreign.eml').run).toBeUndefined();
    expect(by('08-forged.eml').run).toBeUndefined();
    expect(result.summary).toMatchObject({ messages: 8, new: 8, already: 0, unmatched: 2 });
    expect(by('01-bounce.eml').line).toBeGreaterThan(1);

    const inboxFile = path.join(campaign, 'runs', run, 'inbox.jsonl');
    const before = await readFile(inboxFile, 'utf8');
    expect(before.trim().split('\n')).toHaveLength(6);
    const unmatched = await readFile(path.join(campaign, 'inbox', 'unmatched.jsonl'), 'utf8');
    expect(unmatched.trim().split('\n')).toHaveLength(2);

    // the same mail again, from a folder and as an mbox export: nothing changes
    const again = await bulletin(['inbox', campaign, '--from', folder, '--json']);
    expect((JSON.parse(again.stdout) as JsonInbox).summary).toMatchObject({ new: 0, already: 8 });
    const mbox = path.join(campaign, '..', 'export.mbox');
    await writeFile(mbox, toMbox(Object.values(mail)));
    const fromMbox = await bulletin(['inbox', campaign, '--from', mbox, '--json']);
    expect(fromMbox.code, fromMbox.stderr).toBe(0);
    const mboxResult = JSON.parse(fromMbox.stdout) as JsonInbox;
    expect(mboxResult.summary).toMatchObject({ messages: 8, new: 0, already: 8 });
    expect(mboxResult.messages.map((m) => m.source)).toContain('mbox:1');
    expect(await readFile(inboxFile, 'utf8')).toBe(before);

    const exported = path.join(campaign, '..', 'replies');
    const human = await bulletin(['inbox', campaign, '--from', folder, '--replies', '--export', exported]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/1 reply/);
    expect(human.stdout).toContain(replied);
    expect(human.stdout).toContain('Could the liaison officer visit on Tuesday?');
    // the reply's CSV row is shown, and the reply is saved as it came, for the team
    expect(human.stdout).toMatch(/school: /);
    const saved = await readdir(exported);
    expect(saved).toHaveLength(1);
    expect(await readFile(path.join(exported, saved[0]!))).toEqual(mail['04-reply.eml']);

    const status = JSON.parse((await bulletin(['status', campaign, '--json'])).stdout) as { inbox: { counts: Record<string, number> } };
    expect(status.inbox.counts).toMatchObject({ bounced: 2, delayed: 1, replied: 1, 'auto-replied': 1, unsubscribed: 1, complained: 0, sentNothingBack: emails.length - 6 });

    const report = (await bulletin(['report', campaign])).stdout.split('\r\n');
    expect(report[0]).toMatch(/,inbox,bounceStatus,bounceDiagnostic$/);
    expect(report.find((l) => l.startsWith(`${hard},`))).toMatch(/,bounced,5\.1\.1,"?550 5\.1\.1/);
    expect(report.find((l) => l.startsWith(`${emails.at(-1)},`))).toMatch(/,sent,,$/);

    const suppressed = await bulletin(['suppress', 'add', campaign, '--from-run', 'latest']);
    expect(suppressed.code, suppressed.stderr).toBe(0);
    const list = await readFile(path.join(campaign, 'suppressed.csv'), 'utf8');
    for (const email of [hard, headersOnly, unsubscribed]) expect(list).toContain(email);
    for (const email of [delayed, replied, away, other]) expect(list).not.toContain(email);
  });

  it('matches a bounce that quotes nothing by its VERP envelope sender', async () => {
    const { campaign, emails, run } = await sentCampaign({ returnPath: 'bounces+{token}@hartmoor-police.example.org' });
    const target = emails[3]!;
    const envelopeFrom = sink!.receivedFor(target)[0]!.from;
    expect(envelopeFrom).toMatch(/^bounces\+[0-9a-f]{16}@hartmoor-police\.example\.org$/);
    expect(new Set(sink!.received.map((m) => m.from)).size).toBe(emails.length);
    const folder = path.join(campaign, '..', 'verp');
    await mkdir(folder);
    // a server that reports a rewritten address and returns nothing of the message
    await writeFile(path.join(folder, 'bounce.eml'), await buildDsn({ to: envelopeFrom, recipient: 'forwarded-head@elsewhere.example.net', original: Buffer.alloc(0), withoutOriginal: true }));
    const result = await bulletin(['inbox', campaign, '--from', folder, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as JsonInbox).messages[0]).toMatchObject({ kind: 'bounce', run, matchedBy: 'verp', recipients: [{ email: target, status: '5.1.1' }] });
  });

  it('says plainly what is wrong with the source, and refuses to change files it cannot', async () => {
    const campaign = await exampleCampaign();
    const missing = await bulletin(['inbox', campaign, '--from', 'no-such-folder']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toMatch(STACK_TRACE);
    expect(missing.stderr).toMatch(/no-such-folder/);
    const none = await bulletin(['inbox', campaign]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--from/);
    const folder = path.join(campaign, '..', 'eml');
    await mkdir(folder);
    const moving = await bulletin(['inbox', campaign, '--from', folder, '--move-to', 'Done']);
    expect(moving.code).toBe(2);
    expect(moving.stderr).toMatch(/IMAP folders and Maildirs/);
    // an mbox with junk before the first message and its last message cut off: what can be read is
    const whole = await buildReply({ from: 'head@oakfield.example.org', to: 'comms@example.org', inReplyTo: '<x@example.org>', subject: 'Statement', text: 'Thanks.' });
    const mbox = path.join(campaign, '..', 'damaged.mbox');
    await writeFile(mbox, Buffer.concat([Buffer.from('garbage before the first message\n'), toMbox([whole, whole]).subarray(0, -40)]));
    const damaged = await bulletin(['inbox', campaign, '--from', mbox]);
    expect(damaged.stderr).not.toMatch(STACK_TRACE);
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.stdout).toMatch(/2 messages read/);
    expect(damaged.stdout).toMatch(/before the first/i);
  });
});

describe.skipIf(!findDovecot())('bulletin inbox on an IMAP mailbox (Dovecot)', () => {
  it('the server takes every message with 250, DSNs arrive later; inbox marks exactly those recipients bounced, read-only, and suppress adds them', async () => {
    const { campaign, emails, run } = await sentCampaign();
    const dead = [emails[1]!, emails[4]!, emails[7]!];
    dovecot = await startDovecot({ comms: 'comms-test-pw' });
    // what the receiving servers send back hours later, into the sender's mailbox
    const dsns = await Promise.all(dead.map(async (email) => ({ raw: await buildDsn({ to: sink!.receivedFor(email)[0]!.from, recipient: email, original: sink!.receivedFor(email)[0]!.raw }) })));
    const newsletter = { raw: 'From: news@elsewhere.example.com\r\nTo: comms@example.org\r\nSubject: County news\r\nMessage-ID: <news-1@elsewhere.example.com>\r\n\r\nhello\r\n', flags: ['\\Flagged'] };
    await seedImap(dovecot, 'INBOX', [...dsns, newsletter], 'comms');
    const flagsBefore = await imapFlags(dovecot, 'INBOX', 'comms');
    const url = `imap://comms@127.0.0.1:${dovecot.port}/INBOX`;
    const env = { BULLETIN_IMAP_PASSWORD: 'comms-test-pw' };

    const read = await bulletin(['inbox', campaign, '--from', url, '--json'], { env });
    expect(read.stderr).not.toMatch(STACK_TRACE);
    expect(read.code, read.stderr).toBe(0);
    const result = JSON.parse(read.stdout) as JsonInbox;
    expect(result.summary).toMatchObject({ messages: 4, new: 4 });
    const bounced = result.messages.filter((m) => m.kind === 'bounce');
    expect(bounced.map((m) => m.recipients[0]!.email).sort()).toEqual([...dead].sort());
    expect(bounced.every((m) => m.run === run && m.matchedBy === 'message-id' && /^uid:\d+$/.test(m.source))).toBe(true);
    // read-only: not a flag changed
    expect(await imapFlags(dovecot, 'INBOX', 'comms')).toEqual(flagsBefore);

    // a second run changes nothing
    const again = JSON.parse((await bulletin(['inbox', campaign, '--from', url, '--json'], { env })).stdout) as JsonInbox;
    expect(again.summary).toMatchObject({ new: 0, already: 4 });

    // --move-to moves only what was classified (the three DSNs), never the unknown newsletter
    await seedImap(dovecot, 'Processed', [], 'comms');
    const moved = await bulletin(['inbox', campaign, '--from', url, '--move-to', 'Processed'], { env });
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(/Moved 3 messages/);
    expect((await imapFlags(dovecot, 'INBOX', 'comms')).size).toBe(1);
    expect((await imapFlags(dovecot, 'Processed', 'comms')).size).toBe(3);

    const status = JSON.parse((await bulletin(['status', campaign, '--json'])).stdout) as { inbox: { counts: Record<string, number> } };
    expect(status.inbox.counts).toMatchObject({ bounced: 3, sentNothingBack: emails.length - 3 });
    expect((await bulletin(['suppress', 'add', campaign, '--from-run', 'latest'])).code).toBe(0);
    const list = await readFile(path.join(campaign, 'suppressed.csv'), 'utf8');
    expect(list.trim().split('\n').slice(1).map((l) => l.split(',')[0]).sort()).toEqual([...dead].sort());
  });

  it('a wrong password gets a clear error without the password in it', async () => {
    const campaign = await exampleCampaign();
    dovecot = await startDovecot({ comms: 'comms-test-pw' });
    const result = await bulletin(['inbox', campaign, '--from', `imap://comms@127.0.0.1:${dovecot.port}/INBOX`], { env: { BULLETIN_IMAP_PASSWORD: 'not-the-password' } });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.stderr).toMatch(/refused the login/);
    expect(result.stderr + result.stdout).not.toContain('not-the-password');
  });
});
