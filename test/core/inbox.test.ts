import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { foldInbox, matchMessage, RecipientIndex, suppressionReason, verpAddress, verpToken, verpTokenFor, type ClassifiedMessage, type InboxRecord } from '../../src/core/inbox.js';
import type { ManifestRecord } from '../../src/core/manifest.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const RUN_A = '2026-11-20T09-00-00Z-aaaa';
const RUN_B = '2026-11-27T10-02-11Z-ab12';

function record(run: string, email: string, line: number, state: ManifestRecord['state'], messageId = `<${run}.${sha256(email).slice(0, 20)}@example.org>`): ManifestRecord {
  return { email, key: email.toLowerCase(), line, messageId: state === 'suppressed' ? '' : messageId, state, attempt: 1, at: '2026-11-27T10:00:00.000Z' };
}

function index(verp?: string): RecipientIndex {
  const idx = new RecipientIndex(verp ? { pattern: verp, token: (run, key) => verpTokenFor(run, key, sha256) } : undefined);
  idx.addRun(RUN_A, [record(RUN_A, 'head1@oakfield.example.org', 2, 'sent'), record(RUN_A, 'head2@elm.example.org', 3, 'sent')]);
  idx.addRun(RUN_B, [
    record(RUN_B, 'head1@oakfield.example.org', 2, 'sending'),
    record(RUN_B, 'head1@oakfield.example.org', 2, 'sent'),
    record(RUN_B, 'head3@ash.example.org', 4, 'deferred'),
    record(RUN_B, 'head4@birch.example.org', 5, 'suppressed'),
  ]);
  return idx;
}

function classified(partial: Partial<ClassifiedMessage>): ClassifiedMessage {
  return { kind: 'bounce', recipients: [], referencedMessageIds: [], deliveredTo: [], ...partial };
}

describe('matching what came back to a run and a recipient', () => {
  it('matches the original Message-ID first, whatever address the bounce names', () => {
    const id = `<${RUN_A}.${sha256('head2@elm.example.org').slice(0, 20)}@example.org>`;
    const match = matchMessage(classified({ originalMessageId: id, referencedMessageIds: [id.toUpperCase()], recipients: [{ email: 'forwarded@elsewhere.example.net', status: '5.1.1', action: 'failed', diagnostic: '550 5.1.1 no such user' }] }), index());
    expect(match).toMatchObject({ run: RUN_A, matchedBy: 'message-id', recipients: [{ email: 'head2@elm.example.org', line: 3, status: '5.1.1', action: 'failed' }], unmatched: [] });
  });

  it('matches a reply by In-Reply-To without taking the sender as a bounce detail', () => {
    const id = `<${RUN_B}.${sha256('head1@oakfield.example.org').slice(0, 20)}@example.org>`;
    const match = matchMessage(classified({ kind: 'reply', referencedMessageIds: [id], recipients: [{ email: 'deputy@oakfield.example.org' }] }), index());
    expect(match).toMatchObject({ run: RUN_B, matchedBy: 'message-id', recipients: [{ email: 'head1@oakfield.example.org', line: 2 }], unmatched: [] });
  });

  it('matches by the VERP token when the bounce quotes nothing', () => {
    const pattern = 'bounces+{token}@example.org';
    const to = verpAddress(pattern, verpTokenFor(RUN_A, 'head2@elm.example.org', sha256));
    const match = matchMessage(classified({ deliveredTo: ['comms@example.org', to.toUpperCase()], recipients: [{ email: 'head2@elm.example.org', status: '5.1.1' }] }), index(pattern));
    expect(match).toMatchObject({ run: RUN_A, matchedBy: 'verp', recipients: [{ email: 'head2@elm.example.org', status: '5.1.1' }] });
  });

  it('matches by address to the latest run that handed a message over', () => {
    const match = matchMessage(classified({ recipients: [{ email: 'HEAD1@oakfield.example.org', status: '5.2.2' }, { email: 'nobody@example.com', status: '5.1.1' }] }), index());
    expect(match.run).toBe(RUN_B);
    expect(match.matchedBy).toBe('address');
    expect(match.recipients.map((r) => r.email)).toEqual(['head1@oakfield.example.org']);
    expect(match.unmatched.map((r) => r.email)).toEqual(['nobody@example.com']);
  });

  it('never matches a bounce of another tool\'s message by address', () => {
    const match = matchMessage(classified({ referencedMessageIds: ['<abc123@mailer.example.com>'], recipients: [{ email: 'head1@oakfield.example.org', status: '5.1.1' }] }), index());
    expect(match.run).toBeUndefined();
    expect(match.recipients).toEqual([]);
    expect(match.note).toMatch(/did not send/);
  });

  it('never matches a forged bounce naming a recipient who was never sent anything', () => {
    // head3 is only deferred, head4 suppressed: neither was handed to a server
    for (const email of ['head3@ash.example.org', 'head4@birch.example.org', 'stranger@example.net']) {
      const match = matchMessage(classified({ recipients: [{ email, status: '5.1.1' }] }), index());
      expect(match.run, email).toBeUndefined();
    }
    const deferredId = `<${RUN_B}.${sha256('head3@ash.example.org').slice(0, 20)}@example.org>`;
    const match = matchMessage(classified({ referencedMessageIds: [deferredId], recipients: [{ email: 'head3@ash.example.org', status: '5.1.1' }] }), index());
    expect(match.run).toBeUndefined();
    expect(match.note).toMatch(/never handed to a server/);
  });

  it('reads VERP tokens only from addresses made by the pattern', () => {
    expect(verpToken('bounces+{token}@example.org', 'Bounces+AB12@Example.org')).toBe('ab12');
    expect(verpToken('bounces+{token}@example.org', 'bounces+@example.org')).toBeUndefined();
    expect(verpToken('bounces+{token}@example.org', 'comms@example.org')).toBeUndefined();
  });
});

describe("a recipient's outcome after the inbox", () => {
  const base = { source: 'x.eml', at: '2026-11-28T10:00:00.000Z', id: '<x@example.org>' };
  const r = (kind: InboxRecord['kind'], status?: string): InboxRecord => ({ ...base, kind, recipients: [{ email: 'a@example.org', key: 'a@example.org', line: 2, ...(status ? { status } : {}) }] });

  it('a delay is superseded by a bounce, a bounce by an unsubscribe request', () => {
    expect(foldInbox([r('delay', '4.4.7'), r('bounce', '5.1.1')]).get('a@example.org')).toMatchObject({ outcome: 'bounced', status: '5.1.1', softBounces: 1 });
    expect(foldInbox([r('bounce', '5.1.1'), r('delay')]).get('a@example.org')?.outcome).toBe('bounced');
    expect(foldInbox([r('bounce', '5.1.1'), r('unsubscribe')]).get('a@example.org')?.outcome).toBe('unsubscribed');
    expect(foldInbox([r('auto-reply'), r('reply')]).get('a@example.org')?.outcome).toBe('replied');
  });

  it('soft bounces are counted, not suppressed; hard bounces, complaints and unsubscribes are', () => {
    const soft = foldInbox([r('bounce', '4.2.2'), r('delay')]).get('a@example.org')!;
    expect(soft).toMatchObject({ outcome: 'delayed', softBounces: 2 });
    expect(suppressionReason(soft)).toBeUndefined();
    expect(suppressionReason(foldInbox([r('bounce', '5.1.1')]).get('a@example.org')!)).toMatch(/^bounced 5\.1\.1/);
    expect(suppressionReason(foldInbox([r('complaint')]).get('a@example.org')!)).toMatch(/complained/);
    expect(suppressionReason(foldInbox([r('unsubscribe')]).get('a@example.org')!)).toMatch(/unsubscribe/);
    expect(suppressionReason(foldInbox([r('reply')]).get('a@example.org')!)).toBeUndefined();
  });
});
