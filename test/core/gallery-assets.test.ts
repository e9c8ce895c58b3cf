import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

describe('the gallery page script and stylesheet', () => {
  it('src/core/gallery-assets.ts is what src/gallery-client/ compiles to (run npm run build and commit it if not)', async () => {
    const result = await promisify(execFile)(process.execPath, ['scripts/gallery-assets.js', '--check'], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result).toEqual({ code: 0, stderr: '' });
  });
});
