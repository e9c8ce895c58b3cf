import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatLocation } from '../../src/core/diagnostics.js';
import { planCampaign, type PlanResult, type PlannedMessage } from '../../src/plan.js';
import { validateCampaign } from '../../src/validate.js';
import { WORKER_FROM_CHARS } from '../../src/io/csv-worker.js';
import { exampleCampaign, schoolRows } from '../helpers/cli.js';

async function plan(recipients: string, settings: Record<string, unknown> = {}) {
  const campaign = await exampleCampaign({ recipients, settings });
  const messages: PlannedMessage[] = [];
  const result = await planCampaign(campaign, { onMessage: (m) => void messages.push(m) });
  return { result, messages, problems: result.diagnostics.map((d) => `${formatLocation(d)}: ${d.severity}: ${d.message}`) };
}

describe('planCampaign', () => {
  it('makes a line break in a value that reaches the subject an error on that row, never a second header', async () => {
    const rows = `${schoolRows(2)}head3@school3.example.org,Head 3,"Evil School\r\nBcc: everyone@example.com",Area,HS-3,en,\n`;
    const { result, messages, problems } = await plan(rows);
    expect(result.ok).toBe(false);
    expect(problems).toContain('recipients.csv:4: error: the subject for this row contains a line break, and a subject is a header');
    expect(messages.map((m) => m.row.line)).toEqual([2, 3]);
  });

  it('warns about a blank value the message shows, naming the rows, but not about values inside a block or a block argument', async () => {
    const rows = 'email,contact_name,school,area,school_ref,language,note\na@example.org,Ann,Oak School,,HS-1,en,\nb@example.org,Bob,Elm School,North,HS-2,en,\n';
    const { result, problems } = await plan(rows);
    expect(result.ok).toBe(true);
    expect(problems.filter((p) => p.includes('warning'))).toEqual([
      expect.stringMatching(/^recipients\.csv:2: warning: "area" is blank on line 2, and the template uses it \(message\.mjml:\d+\)$/) as unknown,
    ]);
  });

  it('makes a blank value in a required column an error', async () => {
    const rows = 'email,contact_name,school,area,school_ref,language,note\na@example.org,Ann,,North,HS-1,en,\n';
    const { problems } = await plan(rows);
    expect(problems).toContain('recipients.csv:2: error: "school" is blank, and bulletin.json marks it required');
  });

  it('reports a template variable no column or default provides at its template line', async () => {
    const rows = 'email,contact_name,school,school_ref,language,note\na@example.org,Ann,Oak,HS-1,en,\n';
    const { problems } = await plan(rows);
    expect(problems.some((p) => /^message\.mjml:\d+:\d+: error: the template uses "area", but recipients\.csv has no such column and bulletin\.json no default$/.test(p))).toBe(true);
  });

  it('skips the plain-text part when asked, as validate does', async () => {
    const campaign = await exampleCampaign();
    const texts: string[] = [];
    await planCampaign(campaign, { text: false, onMessage: (m) => void texts.push(m.content.text) });
    expect(texts.every((t) => t === '')).toBe(true);
    await planCampaign(campaign, { onMessage: (m) => void texts.push(m.content.text) });
    expect(texts.at(-1)).toContain('Dear ');
  });

  it('checks without rendering most HTML (html: false) and finds exactly what a full render finds', async () => {
    const huge = 'Extra patrols near the gates &amp; "crossings". '.repeat(2600); // ~125 KB once escaped
    const rows = [
      schoolRows(6).trimEnd(),
      `head7@school7.example.org,Head 7,School 7,Area 7,HS-7,cy,`,
      `head8@school8.example.org,Head 8,School 8,Area 8,HS-8,en,"${huge.replace(/"/g, '""')}"`,
      `head9@school9.example.org,Head 9,School {{9}},Area 9,HS-9,en,A short note`,
      `head10@school10.example.org,Head 10,School 10,Area 10,HS-10,en,A short note`,
      `head11@school11.example.org,Head 11,"School 11\r\nBcc: everyone@example.com",Area 11,HS-11,en,`,
    ].join('\n');
    const campaign = await exampleCampaign({ recipients: `${rows}\n` });
    const run = async (html: boolean) => {
      const shown: boolean[] = [];
      const result = await planCampaign(campaign, { text: false, html, onMessage: (m) => void shown.push(m.content.html !== '') });
      return { shown, problems: result.diagnostics.map((d) => `${formatLocation(d)}: ${d.severity}: ${d.message}`) };
    };
    const full = await run(true);
    const checked = await run(false);
    expect(checked.problems).toEqual(full.problems);
    expect(full.problems).toContainEqual(expect.stringMatching(/^recipients\.csv:9: warning: the HTML is \d+ KB: Gmail clips/) as unknown);
    expect(full.problems).toContainEqual(expect.stringContaining('still contains Handlebars braces') as unknown);
    expect(full.problems).toContain('recipients.csv:12: error: the subject for this row contains a line break, and a subject is a header');
    // Rendered: the first of each shape (English, Welsh, English with a note), the braces row, the huge one.
    expect(checked.shown).toEqual([true, false, false, false, false, false, true, true, true, false]);

    // fullFirst (preview past preview.maxFiles): the first three in full, HTML and text; the rest
    // as above, their text too. It finds what rendering every part of every message finds.
    const parts: string[] = [];
    const problems = (result: PlanResult) => result.diagnostics.map((d) => `${formatLocation(d)}: ${d.severity}: ${d.message}`);
    const first = await planCampaign(campaign, { text: false, html: false, fullFirst: 3, onMessage: (m) => void parts.push(`${m.content.html !== '' ? 'h' : '-'}${m.content.text !== '' ? 't' : '-'}`) });
    expect(problems(first)).toEqual(problems(await planCampaign(campaign)));
    expect(parts).toEqual(['ht', 'ht', 'ht', '--', '--', '--', 'ht', 'ht', 'ht', '--']);
  });

  it('checks a subject written over two lines the same way with and without the HTML', async () => {
    // The line break is in a branch only some rows take, and which rows is not a message shape.
    const campaign = await exampleCampaign({ recipients: schoolRows(4) });
    const file = path.join(campaign, 'message.mjml');
    const subject = 'subject: "{{#if (eq area \\"Area 2\\")}}Urgent:\\n{{/if}}Statement to {{school}}"';
    await writeFile(file, (await readFile(file, 'utf8')).replace(/^subject: .*$/m, subject));
    const problems = async (html: boolean) => (await planCampaign(campaign, { text: false, html })).diagnostics.map((d) => `${formatLocation(d)}: ${d.severity}: ${d.message}`);
    const full = await problems(true);
    expect(full.filter((p) => p.includes('the subject for this row contains a line break'))).toEqual([
      'recipients.csv:3: error: the subject for this row contains a line break, and a subject is a header',
    ]);
    expect(await problems(false)).toEqual(full);
  });
});

describe('validateCampaign on a large recipients file', () => {
  it('parses it in a worker (from the file\'s bytes), says once that worker runs, and finds what parsing here finds', async () => {
    // over WORKER_FROM_CHARS, with a duplicate and a bad address far into the file
    const rows = `${schoolRows(16_000)}not-an-address,Bad,School,Area,HS-1,en,\nhead5@school5.example.org,Again,School,Area,HS-2,en,\n`;
    expect(rows.length).toBeGreaterThan(WORKER_FROM_CHARS);
    const campaign = await exampleCampaign({ recipients: rows });
    let started = 0;
    const there = await validateCampaign(campaign, { onCsvWorkerStarted: () => void started++ });
    expect(started).toBe(1);
    const here = await planCampaign(campaign, { text: false, html: false, accessibility: true });
    expect(there.recipients).toBe(16_000);
    expect(there.diagnostics.map(formatLocation)).toEqual(here.diagnostics.map(formatLocation));
    expect(there.diagnostics.some((d) => d.line === 16_002 && d.severity === 'error')).toBe(true);

    let startedSmall = 0;
    await validateCampaign(await exampleCampaign({ recipients: schoolRows(3) }), { onCsvWorkerStarted: () => void startedSmall++ });
    expect(startedSmall).toBe(0);
  });
});
