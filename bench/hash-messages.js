/**
 * Proof that MIME assembly did not change a byte: builds every message of the bench campaign
 * (10,000 rows), of a campaign of awkward values, of the init examples and of every fixture
 * that renders, through `buildMessageBytes` with a fixed Message-ID and Date, and prints one
 * sha256 per campaign (and, with --each, per message). The random part of nodemailer's MIME
 * boundaries (`--_NmP-<16 hex>-Part_N`) is normalised to `X`; everything else is compared as is.
 * Run it before and after a change and diff the output:
 *   node bench/hash-messages.js > before.txt; …; node bench/hash-messages.js | diff before.txt -
 * `--dump DIR` writes each campaign's first messages as .eml files, `--rows N` sizes the bench campaign.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCampaign } from './campaign.js';
import { ROOT, fromDist } from './harness.js';

const { values } = parseArgs({ options: { dump: { type: 'string' }, rows: { type: 'string', default: '10000' }, each: { type: 'boolean', default: false } } });
const { prepareCampaign, planMessages, buildMessageBytes } = await fromDist('plan.js');
const DATE = new Date('2026-11-30T09:15:00Z');
const BOUNDARY = /_NmP-[0-9a-f]{16}-Part_/g;

/** Values that exercise header encoding, folding and quoted-printable: accents, CJK, emoji, quotes, dots, long words, trailing space. */
const AWKWARD = [
  ['zoe@example.org', 'Zoë Ødegård-Ní Bhriain', 'Ysgol Gynradd Llanfair Pwllgwyngyll', 'cy', 'Nodyn: ffôn 01632 960123 — diolch!'],
  ['li.lei@example.com', '李雷', '北京 School 第一', 'en', '.leading dot\n.second line starts with a dot\nFrom here on'],
  ['obrien@example.net', '"O\'Brien, Jr." (Head)', 'St. Mary\'s "RC" Primary, Eastfield', 'en', 'a=b and =3D and trailing space   '],
  ['long@example.org', 'Bartholomew Fitzwilliam-Montgomery-Huntingdon Ashworth-Carrington', 'The Very Long Named Federation of Kestlebury, Marrowford and Eastfield Primary Schools Academy Trust', 'en', 'x'.repeat(230)],
  ['emoji@example.com', 'Amaka 🌍 Okafor', 'Southmoor 🎓 Academy', 'en', 'Tabs\there and a line\r\nwith CRLF, then 👩‍👩‍👧 and ½ ¼ ¾ €'],
  ['plain@example.org', 'Plain Name', 'Plain School', 'en', ''],
  ['mix@example.net', 'Ånne-Marie', 'Ærø Skole — ﬁne “quotes”', 'cy', 'Line one\n\n\nLine four after blank lines\n'],
];

function csvValue(v) {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function awkwardCampaign(dir) {
  await createCampaign(dir, 0);
  const rows = AWKWARD.map(([email, name, school, language, note], i) => [email, name, school, 'Northgate', `HS-${i}`, language, note].map(csvValue).join(','));
  await writeFile(join(dir, 'recipients.csv'), `email,contact_name,school,area,school_ref,language,note\n${rows.join('\n')}\n`);
  const config = JSON.parse(await readFile(join(dir, 'bulletin.json'), 'utf8'));
  config.unsubscribe = { mailto: 'unsubscribe@example.org', url: 'https://example.org/unsubscribe?e={{email}}&s={{school}}' };
  config.replyTo = 'Tîm Cyswllt <liaison.team@example.org>';
  await writeFile(join(dir, 'bulletin.json'), JSON.stringify(config, null, 2));
  return dir;
}

async function hashCampaign(label, dir) {
  // a fixture whose settings are unusable has no messages to hash
  const prepared = (await prepareCampaign(dir).catch(() => ({}))).prepared;
  if (!prepared?.template) return;
  const hash = createHash('sha256');
  const each = [];
  let n = 0;
  const dumpDir = values.dump ? join(values.dump, label.replace(/[^\w.-]+/g, '_')) : undefined;
  if (dumpDir) await mkdir(dumpDir, { recursive: true });
  await planMessages(prepared, {
    onMessage: async (m) => {
      const i = n++;
      const variants = i < 3 ? [undefined, 'tester@example.org'] : [undefined];
      for (const testTo of variants) {
        const raw = await buildMessageBytes(prepared.campaign, m, { messageId: `<hash.${i}@example.org>`, date: DATE, ...(testTo ? { testTo } : {}) });
        const text = raw.toString('latin1').replace(BOUNDARY, '_NmP-X-Part_');
        const digest = createHash('sha256').update(text, 'latin1').digest('hex');
        hash.update(digest);
        if (values.each) each.push(`  ${i}${testTo ? ' test' : ''} ${digest}`);
        if (dumpDir && i < 20) await writeFile(join(dumpDir, `${i}${testTo ? '-test' : ''}.eml`), text, 'latin1');
      }
    },
  });
  process.stdout.write(`${label}: ${n} messages ${hash.digest('hex')}\n${each.map((l) => `${l}\n`).join('')}`);
}

const work = await mkdtemp(join(tmpdir(), 'bulletin-hash-'));
try {
  await hashCampaign(`bench campaign of ${values.rows}`, await createCampaign(join(work, 'bench'), Number(values.rows)));
  await hashCampaign('awkward values', await awkwardCampaign(join(work, 'awkward')));
  for (const example of await readdir(join(ROOT, 'templates'))) {
    const dir = join(work, 'example', example);
    await cp(join(ROOT, 'templates', example), dir, { recursive: true });
    await hashCampaign(`templates/${example}`, dir);
  }
  for (const fixture of (await readdir(join(ROOT, 'fixtures'), { withFileTypes: true })).filter((d) => d.isDirectory())) {
    await hashCampaign(`fixtures/${fixture.name}`, join(ROOT, 'fixtures', fixture.name));
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
