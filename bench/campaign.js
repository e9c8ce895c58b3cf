/**
 * Generated campaigns for the benchmarks: the `init` example (templates/headteachers), with its
 * recipients replaced by N fictional rows on example.org / .com / .net, no approval needed and
 * no rate limit, so the figures measure the tool rather than its safety brakes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromDist } from './harness.js';

const FIRST = ['Joanna', 'Kwame', 'Farah', 'Peter', 'Aled', 'Siân', 'Mei', 'Oluwaseun', 'Grace', 'Tomasz', 'Imran', 'Rhiannon'];
const LAST = ['Pettifer', 'Addo-Bright', 'Qureshi-Dunn', 'Lindgren', 'Pryce', 'Whitlow', 'Okafor', 'Marsh', 'Llewellyn', 'Osei'];
const AREAS = ['Kestlebury', 'Marrowford', 'Eastfield', 'Southmoor', 'Northgate', 'Coldwater'];
const TLDS = ['example.org', 'example.com', 'example.net'];
const NOTE = 'Extra patrols are in place near the school gates at the start and end of the day, following last week\'s incident on Station Road.';

/** One CSV row per recipient: every fifth has a note, every tenth asks for Welsh (cy). */
export function recipientRow(i) {
  const area = AREAS[i % AREAS.length];
  const school = `${area} ${i % 3 === 0 ? 'Primary School' : 'Academy'} No. ${i}`;
  const email = `head${i}@school${i % 997}.${TLDS[i % TLDS.length]}`;
  const name = `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]}`;
  const language = i % 10 === 9 ? 'cy' : 'en';
  const note = i % 5 === 4 ? `"${NOTE.replace(/"/g, '""')}"` : '';
  return `${email},${name},"${school}",${area},HS-${10000 + i},${language},${note}\n`;
}

export function recipientsCsv(count) {
  const lines = ['email,contact_name,school,area,school_ref,language,note\n'];
  for (let i = 0; i < count; i++) lines.push(recipientRow(i));
  return lines.join('');
}

/** Creates the example campaign in `dir` with `count` generated recipients; returns dir. */
export async function createCampaign(dir, count) {
  const { scaffoldCampaign, DEFAULT_EXAMPLE } = await fromDist('io/scaffold.js');
  await scaffoldCampaign(dir, DEFAULT_EXAMPLE);
  const configPath = join(dir, 'bulletin.json');
  const config = JSON.parse(await readFile(configPath, 'utf8'));
  config.requireApproval = false;
  config.send = { concurrency: 10 };
  await writeFile(configPath, JSON.stringify(config, null, 2) + '\n');
  await writeFile(join(dir, 'recipients.csv'), recipientsCsv(count));
  return dir;
}
