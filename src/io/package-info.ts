import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The installed package's root: dist/io/ → ../../ */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const SCHEMA_PATH = path.join(PACKAGE_ROOT, 'schema', 'bulletin.schema.json');

export const TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates');

let version: string | undefined;

export function toolVersion(): string {
  version ??= (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
