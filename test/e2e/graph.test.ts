/**
 * The Microsoft Graph transport end to end, with no internet: the real bin, a fake Entra token
 * endpoint and a fake Graph sendMail endpoint, both real HTTP servers on 127.0.0.1.
 */
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulletin, exampleCampaign, requireBuild, schoolRows, startBulletin, STACK_TRACE } from '../helpers/cli.js';
import { startFakeEntra, type FakeEntra } from '../helpers/fake-entra.js';
import { startFakeGraph, type FakeGraph } from '../helpers/fake-graph.js';

const TENANT = 'contoso-test-tenant';
const CLIENT_ID = '1234abcd-0000-4000-8000-00000000c1d0';
const SECRET = 'Sx8Q~graph-test-client-secret';

const cleanup: (() => Promise<void>)[] = [];
beforeAll(() => requireBuild());
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Graph accepts exactly the tokens the fake Entra issued and has not revoked. */
class IssuedTokens extends Set<string> {
  constructor(private readonly entra: FakeEntra) {
    super();
  }
  override has(token: string): boolean {
    return this.entra.accepts(token);
  }
}

async function setup(rows: number): Promise<{ entra: FakeEntra; graph: FakeGraph; campaign: string; emails: string[] }> {
  const entra = await startFakeEntra({ tenant: TENANT, clientId: CLIENT_ID, secret: SECRET });
  const graph = await startFakeGraph();
  graph.tokens = new IssuedTokens(entra);
  cleanup.push(() => entra.close(), () => graph.close());
  const recipients = schoolRows(rows);
  const campaign = await exampleCampaign({ settings: { requireApproval: false }, recipients });
  cleanup.push(() => rm(path.dirname(campaign), { recursive: true, force: true }));
  const env = { BULLETIN_TRANSPORT: 'graph', BULLETIN_GRAPH_HOST: graph.url, BULLETIN_TENANT_ID: TENANT, BULLETIN_CLIENT_ID: CLIENT_ID, BULLETIN_CLIENT_SECRET: SECRET, BULLETIN_AUTHORITY_HOST: entra.authorityHost };
  await writeFile(path.join(campaign, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const emails = recipients.trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
  return { entra, graph, campaign, emails };
}

async function manifest(campaign: string): Promise<Array<Record<string, unknown>>> {
  const runs = (await readdir(path.join(campaign, 'runs'))).sort();
  const text = await readFile(path.join(campaign, 'runs', runs.at(-1)!, 'manifest.jsonl'), 'utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('sending through Microsoft Graph', () => {
  it('kill -9 in the middle of a Graph send, then resume: nobody gets it twice, nobody is skipped silently', async () => {
    const { graph, campaign, emails } = await setup(16);
    graph.answerDelayMs = 150;
    const { child, done } = startBulletin(['send', campaign, '--yes', '--rate', '100/sec']);
    const started = Date.now();
    while (graph.accepted.length < 5 && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await done;
    expect(graph.accepted.length).toBeGreaterThanOrEqual(5);
    expect(graph.accepted.length).toBeLessThan(emails.length);

    graph.answerDelayMs = 0;
    const resumed = await bulletin(['send', campaign, '--yes', '--resume', '--rate', '100/sec']);
    expect(resumed.stderr).not.toMatch(STACK_TRACE);
    const last = new Map<string, Record<string, unknown>>();
    for (const record of await manifest(campaign)) last.set(record.key as string, record);
    for (const email of emails) {
      const got = graph.acceptedFor(email).length;
      expect(got, email).toBeLessThanOrEqual(1);
      const state = last.get(email)?.state;
      // sent exactly once, or uncertain (killed while Graph had the whole request) and listed, never silently dropped
      if (got === 0) expect(state, email).toBe('sending');
      else expect(['sent', 'sending'], email).toContain(state);
    }
    const sent = [...last.values()].filter((r) => r.state === 'sent');
    // at most one request per worker (Graph allows 4) was open when the process died
    expect(sent.length).toBeGreaterThanOrEqual(emails.length - 4);
    for (const record of sent) expect(String(record.response)).toMatch(/request-id [0-9a-f-]{36}/);
    if ([...last.values()].some((r) => r.state === 'sending')) expect(resumed.stdout).toMatch(/uncertain/);
  });

  it("honours Graph's Retry-After on 429 and sends everyone exactly once", async () => {
    const { graph, campaign, emails } = await setup(6);
    graph.next({ kind: 'answer', status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.', retryAfter: '1' });
    const result = await bulletin(['send', campaign, '--yes', '--rate', '100/sec']);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.code, result.stderr).toBe(0);
    for (const email of emails) expect(graph.acceptedFor(email), email).toHaveLength(1);
    const records = await manifest(campaign);
    const deferred = records.find((r) => r.state === 'deferred');
    expect(deferred).toMatchObject({ code: 429 });
    const retryAt = Date.parse(String(deferred!.nextTry));
    const retried = records.find((r) => r.key === deferred!.key && r.state === 'sent')!;
    expect(Date.parse(String(retried.at))).toBeGreaterThanOrEqual(retryAt - 50);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });
});
