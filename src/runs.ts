import path from 'node:path';
import { stat } from 'node:fs/promises';
import { foldInbox, type RecipientInbox } from './core/inbox.js';
import { reportRows, summarizeRun, type ExtraColumns, type ManifestRecord, type RunSummary } from './core/manifest.js';
import { readInboxRecords } from './io/inbox-store.js';
import { CampaignError, loadCampaign } from './io/campaign.js';
import { listRuns, manifestPath, readManifest, runDir, type RunInfo } from './io/manifest-store.js';
import { forEachRecipient } from './campaign-recipients.js';

export interface LoadedRun {
  info: RunInfo;
  dir: string;
  records: ManifestRecord[];
  summary: RunSummary;
  /** Lines of the manifest that could not be read (a torn last line after a crash). */
  unreadable: number;
  /** What `bulletin inbox` found for each recipient (by key); empty before it ran. */
  inbox: Map<string, RecipientInbox>;
}

/** A run by id, or the latest real (non-test) run, or the latest test run if there is no other. */
export async function loadRun(campaignDir: string, id?: string): Promise<LoadedRun> {
  const dir = path.resolve(campaignDir);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new CampaignError(`campaign folder "${campaignDir}" does not exist`);
  const runs = await listRuns(dir);
  if (runs.length === 0) throw new CampaignError('this campaign has no runs yet', 'send it with `bulletin send` (or try `bulletin send --test-to you@example.org`)');
  const info = id === undefined || id === 'latest' ? (runs.filter((r) => !r.test).at(-1) ?? runs.at(-1)) : runs.find((r) => r.id === id);
  if (!info) throw new CampaignError(`there is no run "${id}"`, `runs: ${runs.map((r) => r.id).join(', ')}`);
  const folder = runDir(dir, info.id);
  const { records, skipped } = await readManifest(manifestPath(folder));
  const inbox = foldInbox(await readInboxRecords(dir, info.id));
  return { info, dir: folder, records, summary: summarizeRun(records), unreadable: skipped.length, inbox };
}

/** Report rows, with chosen CSV columns looked up in the campaign's recipient list. */
export async function runReport(campaignDir: string, run: LoadedRun, columns: string[]): Promise<string[][]> {
  if (columns.length === 0) return reportRows(run.records, undefined, run.inbox);
  const { campaign } = await loadCampaign(campaignDir);
  if (!campaign) throw new CampaignError('cannot read the campaign to look up --columns', 'run `bulletin validate` to see why');
  const byKey = new Map<string, Record<string, string>>();
  let header: string[] = [];
  const summary = await forEachRecipient(campaign, [], (row) => {
    byKey.set(row.key, row.fields);
  });
  header = summary.header;
  const missing = columns.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new CampaignError(`no column ${missing.map((m) => `"${m}"`).join(', ')} in ${campaign.recipients.path}`, `columns: ${header.join(', ')}`);
  const extra: ExtraColumns = { names: columns, byKey };
  return reportRows(run.records, extra, run.inbox);
}
