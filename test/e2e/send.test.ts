import { readFile, readdir, writeFile, appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulletin, exampleCampaign, requireBuild, schoolRows, startBulletin, STACK_TRACE } from '../helpers/cli.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

let sink: SmtpSink | undefined;

beforeAll(() => requireBuild());
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function manifestLines(campaign: string): Promise<Array<Record<string, unknown>>> {
  const runs = (await readdir(path.join(campaign, 'runs'))).sort();
  const text = await readFile(path.join(campaign, 'runs', runs.at(-1)!, 'manifest.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('bulletin send over SMTP', () => {
  it('delivers every message exactly once with the headers PRODUCT.md promises, and records each recipient', async () => {
    sink = await startSmtpSink();
    const campaign = await exampleCampaign({ settings: { requireApproval: false, send: { concurrency: 3 }, unsubscribe: { mailto: 'unsubscribe@example.org', url: 'https://example.org/unsubscribe?e={{email}}' } } });
    const result = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`transport    smtp://127.0.0.1:${sink.port}`);
    const csv = await readFile(path.join(campaign, 'recipients.csv'), 'utf8');
    const emails = csv.trim().split('\n').slice(1).map((l) => l.split(',')[0]!.toLowerCase());
    expect(emails).toHaveLength(12);
    for (const email of emails) expect(sink.receivedFor(email)).toHaveLength(1);
    expect(sink.received).toHaveLength(12);

    const welsh = sink.receivedFor(emails.find((e) => csv.includes(`${e},`) && /,cy,/.test(csv.split('\n').find((l) => l.toLowerCase().startsWith(e)) ?? ''))!)[0]!;
    const welshMail = await sink.parse(welsh);
    expect(welshMail.html || '').toMatch(/Annwyl|ysgol/i);

    const first = sink.receivedFor(emails[0]!)[0]!;
    const mail = await sink.parse(first);
    expect(mail.from?.text).toContain('community.liaison@hartmoor-police.example.org');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0] : undefined).toMatchObject({ address: emails[0], name: 'Joanna Pettifer' });
    expect(mail.subject).toBe('Statement to Kestlebury Primary School following the national vote');
    expect(mail.text).toContain('Joanna Pettifer');
    expect(mail.html).toContain('Joanna Pettifer');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.headers.get('x-auto-response-suppress')).toBe('OOF, AutoReply');
    const rawHeaders = first.raw.toString().split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
    expect(rawHeaders).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    const unsubscribe = rawHeaders.match(/^List-Unsubscribe: (.*)$/m)?.[1];
    expect(unsubscribe).toContain('<mailto:unsubscribe@example.org?subject=unsubscribe>');
    expect(unsubscribe).toContain(`<https://example.org/unsubscribe?e=${encodeURIComponent(emails[0]!)}>`);
    expect(mail.attachments.map((a) => a.filename)).toEqual(['how-to-report.txt']);
    expect(first.raw.toString()).toMatch(/Content-Type: multipart\/alternative/);

    const records = await manifestLines(campaign);
    const sent = records.filter((r) => r.state === 'sent');
    expect(sent).toHaveLength(12);
    const record = sent.find((r) => r.email === emails[0])!;
    expect(record.messageId).toBe(mail.messageId);
    expect(record.line).toBe(2);
    expect(record.code).toBe(250);
    // the sending line was written before the sent line
    const lines = records.filter((r) => r.email === emails[0]).map((r) => r.state);
    expect(lines).toEqual(['sending', 'sent']);

    const status = await bulletin(['status', campaign, '--json']);
    expect(status.code).toBe(0);
    const summary = JSON.parse(status.stdout) as { finished: boolean; counts: Record<string, number> };
    expect(summary.finished).toBe(true);
    expect(summary.counts.sent).toBe(12);
  });

  it('never starts over by accident: a finished run needs --new-run, an unfinished one --resume', async () => {
    sink = await startSmtpSink();
    const campaign = await exampleCampaign({ settings: { requireApproval: false } });
    const partial = await bulletin(['send', campaign, '--yes', '--transport', sink.url, '--limit', '5']);
    expect(partial.code).toBe(0);
    expect(sink.received).toHaveLength(5);

    const again = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/unfinished: 5 sent so far/);
    expect(again.stderr).toContain('--resume');
    expect(sink.received).toHaveLength(5);

    const resumed = await bulletin(['send', campaign, '--yes', '--resume', '--transport', sink.url]);
    expect(resumed.code).toBe(0);
    expect(sink.received).toHaveLength(12);
    expect(new Set(sink.received.map((m) => m.to[0])).size).toBe(12);

    const third = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
    expect(third.code).toBe(2);
    expect(third.stderr).toMatch(/already sent: run .* finished .* reached 12 recipients/);
    expect(third.stderr).toContain('--new-run');
    expect(sink.received).toHaveLength(12);
  });

  it('takes the transport from a .env file in the campaign folder, and never shows its password', async () => {
    sink = await startSmtpSink({ auth: { user: 'comms', pass: 's3cret-pass' } });
    const campaign = await exampleCampaign({ settings: { requireApproval: false }, recipients: schoolRows(3) });
    await writeFile(path.join(campaign, '.env'), `# mail server\nBULLETIN_TRANSPORT=${sink.url}\n`);
    const result = await bulletin(['send', campaign, '--yes']);
    expect(result.code).toBe(0);
    expect(sink.received).toHaveLength(3);
    expect(sink.logins).toContain('comms');
    expect(result.stderr).toContain(`transport    smtp://comms:***@127.0.0.1:${sink.port}`);
    expect(result.stderr).toContain('.env)');
    const everything = result.stdout + result.stderr + (await readFile(path.join(campaign, 'runs', (await readdir(path.join(campaign, 'runs')))[0]!, 'run.json'), 'utf8'));
    expect(everything).not.toContain('s3cret-pass');
  });

  it('refuses to send without a terminal and without --yes, after showing the summary', async () => {
    sink = await startSmtpSink();
    const campaign = await exampleCampaign({ settings: { requireApproval: false } });
    const result = await bulletin(['send', campaign, '--transport', sink.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('to send now  12');
    expect(result.stderr).toContain('--yes');
    expect(sink.received).toHaveLength(0);
  });

  it('sends nothing when any recipient has an error', async () => {
    sink = await startSmtpSink();
    const campaign = await exampleCampaign({ settings: { requireApproval: false }, recipients: `${schoolRows(3)}not-an-address,X,Y,Z,HS-1,en,\n` });
    const result = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('recipients.csv:5: error: invalid address');
    expect(result.stdout).toContain('nothing was sent');
    expect(sink.received).toHaveLength(0);
  });

  it('fails 550 recipients, goes on with the rest, reports the reply, and can add them to the suppression list', async () => {
    sink = await startSmtpSink();
    const campaign = await exampleCampaign({ settings: { requireApproval: false, suppress: 'suppressed.csv' }, recipients: schoolRows(6) });
    sink.behave('head2@school2.example.org', 'reject');
    const result = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed head2@school2\.example\.org \(line 3\): 550/);
    expect(sink.received).toHaveLength(5);

    const status = await bulletin(['status', campaign]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/head2@school2\.example\.org \(line 3\): 550 .*No such user/);

    const added = await bulletin(['suppress', 'add', campaign, '--from-run', 'latest']);
    expect(added.code).toBe(0);
    expect(await readFile(path.join(campaign, 'suppressed.csv'), 'utf8')).toMatch(/^email,reason\nhead2@school2\.example\.org,/);

    const validate = await bulletin(['validate', campaign]);
    expect(validate.stdout).toContain('recipients.csv:3: warning: line 3 is on the suppression list (suppressed.csv) and will not be mailed');
  });

  it('stops on a wrong password, says what the server said, and can be resumed', async () => {
    sink = await startSmtpSink({ auth: { user: 'comms', pass: 'right' } });
    const campaign = await exampleCampaign({ settings: { requireApproval: false }, recipients: schoolRows(4) });
    const wrong = sink.url.replace('comms:right', 'comms:wrong');
    const result = await bulletin(['send', campaign, '--yes', '--transport', wrong]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Stopped: the server refused the login/);
    expect(result.stdout + result.stderr).not.toContain('wrong');
    expect(sink.received).toHaveLength(0);
    const resumed = await bulletin(['send', campaign, '--yes', '--resume', '--transport', sink.url]);
    expect(resumed.code).toBe(0);
    expect(sink.received).toHaveLength(4);
  });

  it('a test send goes to one address, marked [TEST], and leaves the real run untouched', async () => {
    sink = await startSmtpSink();
    const campaign = await exampleCampaign();
    const result = await bulletin(['send', campaign, '--yes', '--transport', sink.url, '--test-to', 'reviewer@example.net', '--limit', '2']);
    expect(result.code).toBe(0);
    expect(sink.received).toHaveLength(2);
    for (const m of sink.received) expect(m.to).toEqual(['reviewer@example.net']);
    const mail = await sink.parse(sink.received[0]!);
    expect(mail.subject).toMatch(/^\[TEST\] Statement to /);
    // requireApproval is on in the example: the real send is still refused, and not blocked by the test run
    const real = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('approval');
  });
});

describe('approval gates the real send', () => {
  it('refuses unapproved content, sends approved content, and names what changed since approval', async () => {
    const campaign = await exampleCampaign();
    const none = await bulletin(['send', campaign, '--yes']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/needs a reviewer's approval/);

    const early = await bulletin(['approve', campaign, '--by', 'Priya Shah']);
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('no preview');

    expect((await bulletin(['preview', campaign])).code).toBe(0);
    const approved = await bulletin(['approve', campaign, '--by', 'Priya Shah', '--note', 'checked']);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('approved by Priya Shah');

    await appendFile(path.join(campaign, 'recipients.csv'), 'new.head@example.org,New Head,New School,Kestlebury,HS-9999,en,\n');
    const changed = await bulletin(['send', campaign, '--yes']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/changed since Priya Shah approved it.*recipients\.csv changed: 1 row added/);

    expect((await bulletin(['preview', campaign])).code).toBe(0);
    expect((await bulletin(['approve', campaign, '--by', 'Priya Shah'])).code).toBe(0);
    const sent = await bulletin(['send', campaign, '--yes']);
    expect(sent.code).toBe(0);
    const status = await bulletin(['status', campaign]);
    expect(status.stdout).toMatch(/approved by\s+Priya Shah/);
    const runs = await readdir(path.join(campaign, 'runs'));
    const run = JSON.parse(await readFile(path.join(campaign, 'runs', runs[0]!, 'run.json'), 'utf8')) as { approval: { by: string } };
    expect(run.approval.by).toBe('Priya Shah');
    const outbox = await readdir(path.join(campaign, 'runs', runs[0]!, 'outbox'));
    expect(outbox).toHaveLength(13);
  });
});

describe('crash safety', () => {
  it('after SIGKILLs at random moments and resumes, nobody is received twice and nobody is missing but the reported uncertain', async () => {
    sink = await startSmtpSink({ replyDelayMs: 15 });
    const n = 60;
    const campaign = await exampleCampaign({ settings: { requireApproval: false, send: { concurrency: 4 } }, recipients: schoolRows(n) });
    let finished = false;
    const kills = [150, 400, 250, 600, 350];
    for (let round = 0; round < 12 && !finished; round++) {
      // A kill can land between creating a run folder and writing its run.json: such a folder is no run.
      const runs = await readdir(path.join(campaign, 'runs')).catch(() => [] as string[]);
      const started = (await Promise.all(runs.map((r) => readFile(path.join(campaign, 'runs', r, 'run.json')).then(() => true, () => false)))).some(Boolean);
      const args = ['send', campaign, '--yes', '--transport', sink.url, ...(started ? ['--resume'] : [])];
      const { child, done } = startBulletin(args);
      const delay = kills[round];
      const timer = delay === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), delay + Math.floor(Math.random() * 150));
      const result = await done;
      if (timer) clearTimeout(timer);
      expect(result.stderr).not.toMatch(STACK_TRACE);
      if (result.signal === 'SIGKILL') continue;
      const status = JSON.parse((await bulletin(['status', campaign, '--json'])).stdout) as { finished: boolean };
      finished = status.finished;
    }
    const status = JSON.parse((await bulletin(['status', campaign, '--json'])).stdout) as { finished: boolean; uncertain: Array<{ email: string }>; counts: Record<string, number> };
    expect(status.finished).toBe(true);
    const uncertain = new Set(status.uncertain.map((u) => u.email));
    for (let i = 1; i <= n; i++) {
      const email = `head${i}@school${i % 7}.example.org`;
      const count = sink.receivedFor(email).length;
      expect(count, email).toBeLessThanOrEqual(1);
      if (!uncertain.has(email)) expect(count, email).toBe(1);
    }
    expect((status.counts.sent ?? 0) + (status.counts.uncertain ?? 0)).toBe(n);
  }, 120_000);

  it('Ctrl-C finishes the messages in flight, records them, and exits 130', async () => {
    sink = await startSmtpSink({ replyDelayMs: 40 });
    const campaign = await exampleCampaign({ settings: { requireApproval: false, send: { concurrency: 2 } }, recipients: schoolRows(40) });
    const { child, done } = startBulletin(['send', campaign, '--yes', '--transport', sink.url]);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (sink!.received.length >= 3) {
          clearInterval(check);
          resolve();
        }
      }, 10);
    });
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(130);
    const records = await manifestLines(campaign);
    const last = new Map(records.map((r) => [r.email, r.state]));
    // everything handed over was finished and recorded: no recipient is left uncertain
    expect([...last.values()].filter((s) => s === 'sending')).toHaveLength(0);
    expect([...last.values()].filter((s) => s === 'sent').length).toBe(sink.received.length);
    expect(sink.received.length).toBeLessThan(40);
    const resumed = await bulletin(['send', campaign, '--yes', '--resume', '--transport', sink.url]);
    expect(resumed.code).toBe(0);
    expect(sink.received).toHaveLength(40);
  });

  it('one send per campaign: a live lock is refused naming its process, a stale one is reported and replaced', async () => {
    const campaign = await exampleCampaign({ settings: { requireApproval: false }, recipients: schoolRows(2) });
    const lock = path.join(campaign, '.bulletin.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'bulletin send' }));
    const refused = await bulletin(['send', campaign, '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`process ${process.pid}`);

    await writeFile(lock, JSON.stringify({ pid: 999_999, host: hostname(), startedAt: new Date().toISOString(), command: 'bulletin send' }));
    const ok = await bulletin(['send', campaign, '--yes']);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/stale lock/i);
  });

  it('resume refuses when the campaign changed since the run began, and says what changed', async () => {
    const campaign = await exampleCampaign({ settings: { requireApproval: false } });
    expect((await bulletin(['send', campaign, '--yes', '--limit', '3'])).code).toBe(0);
    const template = path.join(campaign, 'message.mjml');
    await writeFile(template, (await readFile(template, 'utf8')).replace('Dear {{contact_name}},', 'Dear {{contact_name}}, hello,'));
    const result = await bulletin(['send', campaign, '--yes', '--resume']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/changed since run .* began: message\.mjml changed/);
  });
});

describe('bulletin report', () => {
  it('gives one row per recipient with chosen columns, formulas neutralised', async () => {
    const rows = `${schoolRows(2)}head3@school3.example.org,"=HYPERLINK(""http://evil.example.com"")",School 3,Area,HS-3,en,\n`;
    const campaign = await exampleCampaign({ settings: { requireApproval: false }, recipients: rows });
    expect((await bulletin(['send', campaign, '--yes'])).code).toBe(0);
    const report = await bulletin(['report', campaign, '--columns', 'contact_name,school']);
    expect(report.code).toBe(0);
    const lines = report.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('email,contact_name,school,line,state,attempts,messageId,code,response,at,inbox,bounceStatus,bounceDiagnostic');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toContain(`"'=HYPERLINK(""http://evil.example.com"")"`);
    expect(lines[1]).toMatch(/^head1@school1\.example\.org,Head Teacher 1,School number 1,2,sent,1,<.+>,250,/);
  });
});
