import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulletin, exampleCampaign, requireBuild, schoolRows } from '../helpers/cli.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

let sink: SmtpSink | undefined;
beforeAll(() => requireBuild());
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

describe('send.rate', () => {
  it('does not pace the outbox: 40 files at 1/sec are written in seconds, and the pace line says why', async () => {
    const campaign = await exampleCampaign({ recipients: schoolRows(40), settings: { requireApproval: false, send: { rate: '1/sec' } } });
    const started = Date.now();
    const result = await bulletin(['send', campaign, '--yes']);
    const seconds = (Date.now() - started) / 1000;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('pace         not paced: outbox (files on this machine); 1/sec applies only to mail that leaves it');
    const runs = await readdir(path.join(campaign, 'runs'));
    expect(await readdir(path.join(campaign, 'runs', runs[0]!, 'outbox'))).toHaveLength(40);
    // Paced, the 40 messages would need at least 39 s.
    expect(seconds).toBeLessThan(25);
  });

  it('still paces SMTP: 12 messages at 5/sec arrive over at least a second and a half', async () => {
    sink = await startSmtpSink();
    const campaign = await exampleCampaign({ recipients: schoolRows(12), settings: { requireApproval: false, send: { rate: '5/sec' } } });
    const result = await bulletin(['send', campaign, '--yes', '--transport', sink.url]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('pace         5 at once, at most 5/sec');
    const times = sink.received.map((m) => m.receivedAt);
    expect(sink.received).toHaveLength(12);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(1_500);
  });
});
