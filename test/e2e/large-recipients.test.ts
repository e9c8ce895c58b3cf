import { createWriteStream } from 'node:fs';
import { cp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, bulletin, requireBuild } from '../helpers/cli.js';
import { scratchDir } from '../helpers/scratch.js';

const ROWS = 100_000;

/**
 * 100,000 rows of 9 columns (~14.5 MB). On Node 20.20, validating them needs under 36 MB of heap;
 * keeping every row's fields as well (an array of row objects) runs out of memory at 64 MB.
 * The last row is written in Windows-1252 (0xEB is ë), so the whole file is read that way, with a warning.
 */
async function writeRecipients(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('email,name,school,area,phone,officer,ref,language,note\n');
  for (let i = 1; i < ROWS; i++) {
    const n = String(i).padStart(6, '0');
    const row = `head.${n}@school-${n.slice(0, 4)}.example.org,Head ${n},"Brindle School ${n}, Hartmoor",Area ${i % 17},07700 900${n.slice(3)},PC Officer ${i % 41},HS-${n},en,Row ${n}\n`;
    if (!out.write(row)) await once(out, 'drain');
  }
  out.write(Buffer.from('zoe.lefevre@example.net,Zo\xeb Lef\xe8vre,Sedgecombe Infants,Area 1,07700 900999,PC Officer 1,HS-100000,en,last\n', 'latin1'));
  out.end();
  await once(out, 'finish');
}

let scratch: string;

beforeAll(async () => {
  requireBuild();
  scratch = await scratchDir('bulletin-large-');
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('100,000 recipients', () => {
  it('validates them all in a 64 MB heap, counting every row and naming the last line', async () => {
    const dir = path.join(scratch, 'large');
    await cp(path.join(FIXTURES, 'ok-minimal'), dir, { recursive: true });
    await writeRecipients(path.join(dir, 'recipients.csv'));

    const result = await bulletin(['validate', dir, '--json'], { nodeArgs: ['--max-old-space-size=64'] });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { ok: boolean; recipients: number; diagnostics: { location: string; severity: string }[] };
    expect(json.ok).toBe(true);
    expect(json.recipients).toBe(ROWS);
    expect(json.diagnostics.map((d) => [d.location, d.severity])).toEqual([[`recipients.csv:${ROWS + 1}`, 'warning']]);
  }, 20_000);

  it('sends from them in a 48 MB heap: a send keeps no per-recipient state it does not need', async () => {
    const dir = path.join(scratch, 'large-send');
    await cp(path.join(FIXTURES, 'ok-minimal'), dir, { recursive: true });
    await writeRecipients(path.join(dir, 'recipients.csv'));

    // Every row goes through the checking pass; only the first 100 are built and written out.
    const result = await bulletin(['send', dir, '--yes', '--limit', '100', '--transport', 'outbox:out'], { nodeArgs: ['--max-old-space-size=48'] });
    expect(result.stderr).not.toContain('heap out of memory');
    expect(result.code).toBe(0);
    expect((await readdir(path.join(dir, 'out'))).filter((name) => name.endsWith('.eml'))).toHaveLength(100);
  }, 120_000);
});
