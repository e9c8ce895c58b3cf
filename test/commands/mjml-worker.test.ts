import mjml2html from 'mjml';
import { describe, expect, it } from 'vitest';
import { openMjmlCompiler, startMjmlCompiler, takeStartedMjmlCompiler } from '../../src/io/mjml-worker.js';

const OPTIONS = { validationLevel: 'soft' } as const;
const VALID = '<mjml><mj-body><mj-section><mj-column><mj-text>Dear {{name}},</mj-text></mj-column></mj-section></mj-body></mjml>';
const UNKNOWN_TAG = '<mjml><mj-body><mj-section><mj-column><mj-txet>Hi</mj-txet></mj-column></mj-section></mj-body></mjml>';

describe('MJML in a worker thread', () => {
  it('gives the same HTML and errors as mjml in this thread, and the same failure for malformed MJML', async () => {
    const compiler = openMjmlCompiler();
    try {
      for (const source of [VALID, UNKNOWN_TAG]) {
        const here = await mjml2html(source, OPTIONS);
        const there = await compiler.mjml2html(source, OPTIONS);
        expect(there.html).toBe(here.html);
        expect(there.errors).toEqual(here.errors.map((e) => ({ line: e.line, message: e.message, tagName: e.tagName })));
      }
      const failure = (promise: Promise<unknown>) => promise.then(() => 'no error', (e: unknown) => (e instanceof Error ? e.message : String(e)));
      const malformed = '<mj-body></mj-body>';
      expect(await failure(compiler.mjml2html(malformed, OPTIONS))).toContain('Malformed MJML');
      expect(await failure(compiler.mjml2html(malformed, OPTIONS))).toBe(await failure(mjml2html(malformed, OPTIONS)));
    } finally {
      await compiler.close();
    }
  });

  it('hands a worker started early to one campaign only', async () => {
    expect(takeStartedMjmlCompiler()).toBeUndefined();
    startMjmlCompiler();
    const compiler = takeStartedMjmlCompiler();
    expect(compiler).toBeDefined();
    expect(takeStartedMjmlCompiler()).toBeUndefined();
    try {
      expect((await compiler!.mjml2html(VALID, OPTIONS)).html).toBe((await mjml2html(VALID, OPTIONS)).html);
    } finally {
      await compiler!.close();
    }
  });

  it('fails a compile asked of a worker that has stopped, instead of waiting for ever', async () => {
    const compiler = openMjmlCompiler();
    await compiler.close();
    await expect(compiler.mjml2html(VALID, OPTIONS)).rejects.toThrow('the MJML worker stopped');
  });
});
