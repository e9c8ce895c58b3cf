import { describe, expect, it } from 'vitest';
import { foldManifest, isRunFinished, reportRows, resumeDecision, summarizeRun, toCsv, type ManifestRecord } from '../../src/core/manifest.js';

function record(key: string, state: ManifestRecord['state'], extra: Partial<ManifestRecord> = {}): ManifestRecord {
  return { email: key, key, line: 2, messageId: `<${key}@example.org>`, state, attempt: 1, at: '2026-11-27T19:41:32.000Z', ...extra };
}

const records: ManifestRecord[] = [
  record('a@example.org', 'sending'),
  record('a@example.org', 'sent', { code: 250, response: '250 OK queued' }),
  record('b@example.org', 'sending'),
  record('b@example.org', 'failed', { code: 550, response: '550 5.1.1 no such user' }),
  record('c@example.org', 'sending'),
  record('d@example.org', 'sending'),
  record('d@example.org', 'deferred', { code: 451, response: '451 try later', nextTry: '2026-11-27T19:42:00.000Z' }),
];

describe('foldManifest / summarizeRun', () => {
  it('keeps the last record per recipient', () => {
    const last = foldManifest(records);
    expect([...last.keys()]).toEqual(['a@example.org', 'b@example.org', 'c@example.org', 'd@example.org']);
    expect(last.get('a@example.org')?.state).toBe('sent');
  });

  it('counts states and lists failures with the reply, uncertain and deferred recipients', () => {
    const summary = summarizeRun(records);
    expect(summary.recipients).toBe(4);
    expect(summary.counts).toEqual({ sending: 1, sent: 1, failed: 1, deferred: 1, suppressed: 0 });
    expect(summary.failures).toEqual([expect.objectContaining({ email: 'b@example.org', code: 550, response: '550 5.1.1 no such user' })]);
    expect(summary.uncertain.map((u) => u.email)).toEqual(['c@example.org']);
    expect(summary.deferred.map((u) => u.email)).toEqual(['d@example.org']);
  });

  it('calls a run finished only when delivery completed and nobody is deferred', () => {
    const summary = summarizeRun(records);
    expect(isRunFinished(summary, {})).toBe(false);
    expect(isRunFinished(summary, { finishedAt: '2026-11-27T20:00:00Z' })).toBe(false);
    expect(isRunFinished(summarizeRun(records.slice(0, 6)), { finishedAt: '2026-11-27T20:00:00Z' })).toBe(true);
  });

  it('decides what resume does with each last state', () => {
    const last = foldManifest(records);
    expect(resumeDecision(last.get('a@example.org'))).toBe('skip-sent');
    expect(resumeDecision(last.get('b@example.org'))).toBe('skip-failed');
    expect(resumeDecision(last.get('b@example.org'), { retryFailed: true })).toBe('send');
    expect(resumeDecision(last.get('c@example.org'))).toBe('skip-uncertain');
    expect(resumeDecision(last.get('c@example.org'), { resendUncertain: true })).toBe('send');
    expect(resumeDecision(last.get('d@example.org'))).toBe('send');
    expect(resumeDecision(undefined)).toBe('send');
  });
});

describe('report CSV', () => {
  it('has one row per recipient, extra columns, and uncertain for a last `sending`', () => {
    const rows = reportRows(records, { names: ['organisation'], byKey: new Map([['a@example.org', { organisation: 'Hartmoor Primary' }]]) });
    expect(rows[0]).toEqual(['email', 'organisation', 'line', 'state', 'attempts', 'messageId', 'code', 'response', 'at', 'inbox', 'bounceStatus', 'bounceDiagnostic']);
    expect(rows[1]).toEqual(['a@example.org', 'Hartmoor Primary', '2', 'sent', '1', '<a@example.org@example.org>', '250', '250 OK queued', '2026-11-27T19:41:32.000Z', 'sent', '', '']);
    expect(rows[3]?.[3]).toBe('uncertain');
    expect(rows).toHaveLength(5);
  });

  it('shows what came back per recipient, with the bounce status and diagnostic', () => {
    const inbox = new Map([
      ['a@example.org', { outcome: 'bounced' as const, status: '5.1.1', diagnostic: '550 5.1.1 user unknown', softBounces: 0, at: '2026-11-28T10:00:00.000Z' }],
      ['b@example.org', { outcome: 'replied' as const, softBounces: 0, at: '2026-11-28T10:00:00.000Z' }],
    ]);
    const rows = reportRows(records, undefined, inbox);
    expect(rows[1]?.slice(-3)).toEqual(['bounced', '5.1.1', '550 5.1.1 user unknown']);
    expect(rows[2]?.slice(-3)).toEqual(['replied', '', '']);
    // uncertain, nothing back: no claim that it was sent
    expect(rows[3]?.slice(-3)).toEqual(['', '', '']);
  });

  it('neutralises spreadsheet formulas and quotes properly', () => {
    const csv = toCsv([
      ['=HYPERLINK("http://x.example.com")', '+1', '-2', '@SUM(A1)', '\tx', '\rx', 'plain'],
      ['a,b', 'say "hi"', 'two\nlines', ' padded ', ''],
    ]);
    expect(csv).toBe(
      `"'=HYPERLINK(""http://x.example.com"")",'+1,'-2,'@SUM(A1),'\tx,"'\rx",plain\r\n` + `"a,b","say ""hi""","two\nlines"," padded ",\r\n`,
    );
  });
});
