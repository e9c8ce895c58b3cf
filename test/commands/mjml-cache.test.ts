import { describe, expect, it } from 'vitest';
import { MjmlCache } from '../../src/plan.js';
import type { Mjml2Html } from '../../src/core/template.js';

describe('MjmlCache (preview --watch runs MJML only for what changed)', () => {
  it('runs MJML once per input while it is in use, lets go of inputs a round did not use, and tries a failure again', async () => {
    const runs: string[] = [];
    const fail = new Set(['<mjml>broken</mjml>']);
    const mjml: Mjml2Html = (text) => {
      runs.push(text);
      return fail.has(text) ? Promise.reject(new Error('the worker ended')) : Promise.resolve({ html: `html of ${text}`, errors: [] });
    };
    const cache = new MjmlCache();
    const run = cache.wrap(mjml);
    const options = { validationLevel: 'soft' } as const;

    cache.round();
    expect((await run('<mjml>en</mjml>', options)).html).toBe('html of <mjml>en</mjml>');
    await run('<mjml>cy</mjml>', options);
    // The next round: the main message changed, the Welsh variant did not.
    cache.round();
    await run('<mjml>en, edited</mjml>', options);
    await run('<mjml>cy</mjml>', options);
    expect(runs).toEqual(['<mjml>en</mjml>', '<mjml>cy</mjml>', '<mjml>en, edited</mjml>']);
    // Two rounds without the first English text: it is run again.
    cache.round();
    await run('<mjml>cy</mjml>', options);
    cache.round();
    await run('<mjml>en</mjml>', options);
    expect(runs.slice(3)).toEqual(['<mjml>en</mjml>']);

    await expect(run('<mjml>broken</mjml>', options)).rejects.toThrow('the worker ended');
    fail.clear();
    expect((await run('<mjml>broken</mjml>', options)).html).toBe('html of <mjml>broken</mjml>');
  });
});
