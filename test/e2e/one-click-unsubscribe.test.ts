import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatLocation } from '../../src/core/diagnostics.js';
import { planCampaign } from '../../src/plan.js';
import { bulletin, exampleCampaign, requireBuild, schoolRows } from '../helpers/cli.js';

beforeAll(() => requireBuild());

/** Line and column of "unsubscribe"'s value in the campaign's bulletin.json. */
async function unsubscribeAt(campaign: string): Promise<string> {
  const lines = (await readFile(path.join(campaign, 'bulletin.json'), 'utf8')).split('\n');
  const line = lines.findIndex((l) => l.includes('"unsubscribe":'));
  return `bulletin.json:${line + 1}:${lines[line]!.indexOf('{') + 1}`;
}

async function oneClickWarnings(rows: number, settings: Record<string, unknown> = {}) {
  const campaign = await exampleCampaign({ recipients: schoolRows(rows), settings });
  const plan = await planCampaign(campaign, { text: false, html: false });
  return plan.diagnostics.filter((d) => d.message.includes('one-click')).map((d) => `${formatLocation(d)}: ${d.severity}`);
}

describe('a long list whose only unsubscribe is a mailto', () => {
  it('is a warning from 5,000 recipients on, at the "unsubscribe" line of bulletin.json, not below, and not with an https URL', async () => {
    expect(await oneClickWarnings(4_999)).toEqual([]);
    const campaign = await exampleCampaign({ recipients: schoolRows(5_000) });
    const plan = await planCampaign(campaign, { text: false, html: false });
    expect(plan.diagnostics.filter((d) => d.message.includes('one-click')).map((d) => `${formatLocation(d)}: ${d.severity}`)).toEqual([`${await unsubscribeAt(campaign)}: warning`]);
    expect(await oneClickWarnings(5_000, { unsubscribe: { mailto: 'unsubscribe@example.org', url: 'https://example.org/u?e={{email}}' } })).toEqual([]);
    // A plain http URL cannot be one-click either.
    expect(await oneClickWarnings(5_000, { unsubscribe: { mailto: 'unsubscribe@example.org', url: 'http://example.org/u?e={{email}}' } })).toHaveLength(1);
  });

  it('validate and send say why and which setting to add', async () => {
    const campaign = await exampleCampaign({ recipients: schoolRows(5_000), settings: { requireApproval: false } });
    const at = await unsubscribeAt(campaign);
    const validate = await bulletin(['validate', campaign]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain(
      `${at}: warning: unsubscribe is only a mailto, and this list has 5,000 recipients: Gmail and Yahoo require one-click unsubscribe (RFC 8058, an https URL) from senders of about 5,000 or more messages a day`,
    );
    expect(validate.stdout).toMatch(/hint: add "url" to "unsubscribe" in bulletin\.json/);

    // No terminal and no --yes: send shows its summary, with the warning, then refuses.
    const send = await bulletin(['send', campaign]);
    expect(send.code).toBe(2);
    expect(send.stderr).toContain(`${at}: warning: unsubscribe is only a mailto`);
    expect(send.stderr).toMatch(/hint: add "url" to "unsubscribe"/);
  });
});
