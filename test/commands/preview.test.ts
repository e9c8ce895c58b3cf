import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { approveCampaign } from '../../src/approve.js';
import { previewCampaign, readPreviewRecord } from '../../src/preview.js';
import { exampleCampaign, schoolRows } from '../helpers/cli.js';

const now = new Date('2026-11-27T10:00:00Z');

describe('previewCampaign', () => {
  it('writes a gallery, preview.json and per-recipient .html, .txt and .eml files whose MIME parses with the right parts and headers', async () => {
    const campaign = await exampleCampaign();
    const result = await previewCampaign(campaign, { now });
    expect(result.plan.ok).toBe(true);
    expect(result.previewed).toBe(12);
    expect(result.written).toBe(12);
    const files = (await readdir(path.join(campaign, 'preview', 'messages'))).sort();
    expect(files).toHaveLength(36);
    expect(files[0]).toBe('0001-head@kestlebury-primary.example.org.eml');
    const eml = await readFile(path.join(campaign, 'preview', 'messages', files[0]!));
    const mail = await simpleParser(eml);
    expect(mail.subject).toBe('Statement to Kestlebury Primary School following the national vote');
    expect(mail.text).toContain('Dear Joanna Pettifer,');
    expect(mail.html).toContain('Dear Joanna Pettifer,');
    expect(mail.attachments.map((a) => a.filename)).toEqual(['how-to-report.txt']);
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.headers.get('message-id')).toMatch(/^<preview\.[0-9a-f]{20}@hartmoor-police\.example\.org>$/);
    const headers = eml.toString().split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
    expect(headers).toMatch(/^List-Unsubscribe: <mailto:schools-bulletin-unsubscribe@example\.org\?subject=unsubscribe>/m);
    // a mailto alone cannot be one-click (RFC 8058)
    expect(headers).not.toMatch(/List-Unsubscribe-Post/);
    expect(await readFile(path.join(campaign, 'preview', 'index.html'), 'utf8')).toContain('Joanna Pettifer');
    const record = await readPreviewRecord(campaign);
    expect(record?.complete).toBe(true);
    expect(record?.counts).toMatchObject({ rows: 12, messages: 12, written: 12, errors: 0 });
    expect(Object.keys(record?.rows ?? {})).toHaveLength(12);
  });

  it('renders every recipient but writes files only up to preview.maxFiles unless asked', async () => {
    const campaign = await exampleCampaign({ settings: { preview: { maxFiles: 3 } }, recipients: schoolRows(10) });
    const capped = await previewCampaign(campaign, { now });
    expect(capped.plan.messages).toBe(10);
    // The first three, and the recipient with the longest values (line 11), an extreme of the one version.
    expect(capped.written).toBe(4);
    expect(capped.versions.map((v) => v.count)).toEqual([10]);
    const written = await readdir(path.join(campaign, 'preview', 'messages'));
    expect(written).toHaveLength(12);
    expect(written.filter((f) => f.startsWith('0010-head10@'))).toHaveLength(3);
    const all = await previewCampaign(campaign, { now, all: true });
    expect(all.written).toBe(10);
    expect(await readdir(path.join(campaign, 'preview', 'messages'))).toHaveLength(30);
  });

  it('checks the rows past preview.maxFiles as validate does, finding the same problems and versions as writing them all', async () => {
    // Braces in a value reach the message as text: a leftover-braces warning on that row.
    const rows = schoolRows(10).replace('School number 2,', 'School {{number}} 2,').replace('School number 9,', 'School {{number}} 9,');
    const campaign = await exampleCampaign({ settings: { preview: { maxFiles: 3 } }, recipients: rows });
    const capped = await previewCampaign(campaign, { now });
    const cappedRecord = await readPreviewRecord(campaign);
    const braces = (r: typeof capped) => r.plan.diagnostics.filter((d) => d.message.includes('braces')).map((d) => d.message);
    expect(braces(capped)).toContain('the text part still contains Handlebars braces: "writing to you as headteacher of School {{number}} 9 to share a statement from Har" (the message for line 10)');
    const all = await previewCampaign(campaign, { now, all: true });
    expect(braces(capped)).toEqual(braces(all));
    expect(capped.plan.diagnostics.map((d) => d.message)).toEqual(all.plan.diagnostics.map((d) => d.message));
    expect(capped.versions.map((v) => [v.count, v.digest])).toEqual(all.versions.map((v) => [v.count, v.digest]));
    expect(cappedRecord?.rows).toEqual((await readPreviewRecord(campaign))?.rows);
    // The files written under the limit are whole messages.
    const text = await readFile(path.join(campaign, 'preview', 'messages', '0002-head2@school2.example.org.txt'), 'utf8');
    expect(text).toContain('Dear Head Teacher 2,');
  });

  it('finds the versions of the message, and approve records each one\'s digest', async () => {
    const campaign = await exampleCampaign();
    const result = await previewCampaign(campaign, { now });
    expect(result.versions.reduce((n, v) => n + v.count, 0)).toBe(12);
    // English without a note, English with one, and the Welsh variant.
    expect(result.versions.map((v) => v.language)).toEqual(['en', 'en', 'cy']);
    const [common, withNote, welsh] = result.versions;
    expect(withNote!.differences).toEqual([{ what: '{{#if note}} (message.mjml:30)', here: 'shown', common: 'left out' }]);
    expect(withNote!.lines).toContain(4);
    expect(welsh!.differences[0]).toEqual({ what: 'language', here: 'cy', common: 'en' });
    expect(common!.partials).toEqual(['header', 'signature', 'footer']);
    const outcome = await approveCampaign(campaign, 'Priya Shah', undefined, now);
    expect(outcome.ok && outcome.record.versions).toEqual(result.versions.map((v) => ({ number: v.number, count: v.count, language: v.language, digest: v.digest })));
    // A changed row changes its version's digest, not the other's.
    const csv = await readFile(path.join(campaign, 'recipients.csv'), 'utf8');
    await writeFile(path.join(campaign, 'recipients.csv'), csv.replace('Joanna Pettifer', 'Joanna Pettifer-Hale'));
    const again = await previewCampaign(campaign, { now });
    const digests = (r: typeof result) => r.versions.map((v) => v.digest);
    expect(digests(again)[0]).not.toBe(digests(result)[0]);
  });

  it('--only and --limit preview part of the list, and such a preview cannot be approved', async () => {
    const campaign = await exampleCampaign();
    const only = await previewCampaign(campaign, { now, only: 'HEAD@kestlebury-primary.example.org' });
    expect(only.previewed).toBe(1);
    expect(await readdir(path.join(campaign, 'preview', 'messages'))).toEqual([
      '0001-head@kestlebury-primary.example.org.eml',
      '0001-head@kestlebury-primary.example.org.html',
      '0001-head@kestlebury-primary.example.org.txt',
    ]);
    const refused = await approveCampaign(campaign, 'Priya Shah', undefined, now);
    expect(refused).toMatchObject({ ok: false, reason: expect.stringContaining('only some recipients') as unknown });
    const limited = await previewCampaign(campaign, { now, limit: 2 });
    expect(limited.previewed).toBe(2);
  });

  it('approve refuses content that changed since the preview, naming the file', async () => {
    const campaign = await exampleCampaign();
    await previewCampaign(campaign, { now });
    const template = path.join(campaign, 'message.mjml');
    await writeFile(template, `${await readFile(template, 'utf8')}\n`);
    const refused = await approveCampaign(campaign, 'Priya Shah', undefined, now);
    expect(refused).toMatchObject({ ok: false, reason: expect.stringContaining('message.mjml changed') as unknown });
    await previewCampaign(campaign, { now });
    const gallery = path.join(campaign, 'preview', 'index.html');
    expect(await readFile(gallery, 'utf8')).toContain('data-state="none"');
    const ok = await approveCampaign(campaign, 'Priya Shah', 'looks right', now);
    expect(ok.ok).toBe(true);
    const updated = await readFile(gallery, 'utf8');
    expect(updated).toContain('data-state="approved"');
    expect(updated).toContain('Approved by <strong>Priya Shah</strong>');
    const lines = (await readFile(path.join(campaign, 'approvals.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ by: 'Priya Shah', note: 'looks right', counts: { messages: 12 } });
  });

  it('uses a hand-written message.txt.hbs for the plain-text part when the campaign has one', async () => {
    const campaign = await exampleCampaign();
    await writeFile(path.join(campaign, 'message.txt.hbs'), 'Dear {{contact_name}},\n\nA & B for {{school}}.\n');
    await previewCampaign(campaign, { now, limit: 1 });
    const text = await readFile(path.join(campaign, 'preview', 'messages', '0001-head@kestlebury-primary.example.org.txt'), 'utf8');
    expect(text).toBe('Dear Joanna Pettifer,\n\nA & B for Kestlebury Primary School.\n');
  });
});
