import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SCHEMA_PATH, TEMPLATES_DIR } from './package-info.js';

export const DEFAULT_EXAMPLE = 'headteachers';

export interface ExampleInfo {
  name: string;
  description: string;
}

export interface ScaffoldResult {
  dir: string;
  created: string[];
  kept: string[];
}

export async function listExamples(): Promise<ExampleInfo[]> {
  const names = (await readdir(TEMPLATES_DIR, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  const examples: ExampleInfo[] = [];
  for (const name of names.sort()) {
    const config = JSON.parse(await readFile(path.join(TEMPLATES_DIR, name, 'bulletin.json'), 'utf8')) as { name?: string };
    examples.push({ name, description: config.name ?? name });
  }
  return examples;
}

/**
 * Copy an example campaign into dir. An existing file is never overwritten: it is kept and
 * listed, so running init twice, or in a folder with the user's own files, loses nothing.
 */
export async function scaffoldCampaign(dir: string, example: string): Promise<ScaffoldResult> {
  const source = path.join(TEMPLATES_DIR, example);
  const result: ScaffoldResult = { dir: path.resolve(dir), created: [], kept: [] };
  for (const rel of await walk(source)) {
    const target = path.join(result.dir, rel);
    if (await stat(target).catch(() => undefined)) {
      result.kept.push(rel);
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    if (rel === 'bulletin.json') {
      const text = await readFile(path.join(source, rel), 'utf8');
      const schema = path.relative(path.dirname(target), SCHEMA_PATH).split(path.sep).join('/');
      await writeFile(target, text.replace('__SCHEMA__', schema), { flag: 'wx' });
    } else {
      await copyFile(path.join(source, rel), target);
    }
    result.created.push(rel);
  }
  return result;
}

async function walk(root: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? path.join(prefix, entry.name) : entry.name;
    if (entry.isDirectory()) files.push(...(await walk(root, rel)));
    else files.push(rel);
  }
  return files.sort();
}
