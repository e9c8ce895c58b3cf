import mjml2html from 'mjml';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { DEFERRED_LOADING, DEFERRED_MODULES, openMjmlCompiler, startMjmlCompiler, takeStartedMjmlCompiler } from '../../src/io/mjml-worker.js';

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

  it('hands a worker started early to one campaign only, and says once its thread runs', async () => {
    expect(takeStartedMjmlCompiler()).toBeUndefined();
    let running = 0;
    startMjmlCompiler(() => void running++);
    const compiler = takeStartedMjmlCompiler();
    expect(compiler).toBeDefined();
    expect(takeStartedMjmlCompiler()).toBeUndefined();
    try {
      expect((await compiler!.mjml2html(VALID, OPTIONS)).html).toBe((await mjml2html(VALID, OPTIONS)).html);
      expect(running).toBe(1);
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

/** Run `script` (CommonJS, after DEFERRED_LOADING) in a worker and return what it posts. */
async function inDeferringWorker(script: string, workerData: Record<string, unknown> = {}): Promise<unknown> {
  const worker = new Worker(`${DEFERRED_LOADING}\nconst { workerData } = require('node:worker_threads');\n(async () => { ${script} })().then((r) => require('node:worker_threads').parentPort.postMessage(r));`, {
    eval: true,
    workerData: { deferred: DEFERRED_MODULES, ...workerData },
  });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

describe('modules mjml loads but a compile never calls', () => {
  it('are not loaded in the worker while mjml loads and compiles', async () => {
    const loaded = await inDeferringWorker(
      `const m = require(workerData.mjml);
       const mjml2html = m.default ?? m;
       const { html } = await mjml2html(${JSON.stringify(VALID)}, { validationLevel: 'soft' });
       const files = Object.keys(require.cache);
       return { html, deferredLoaded: workerData.names.filter((name) => files.some((f) => f.includes('/node_modules/' + name + '/'))), cheerio: files.some((f) => f.includes('/node_modules/cheerio/')) };`,
      { mjml: createRequire(import.meta.url).resolve('mjml'), names: DEFERRED_MODULES },
    );
    expect(loaded).toEqual({ html: (await mjml2html(VALID, OPTIONS)).html, deferredLoaded: [], cheerio: true });
  });

  it('load on first use and behave as the real module, through the import helpers compilers emit', async () => {
    const seen = await inDeferringWorker(`
      const inCache = (name) => Object.keys(require.cache).some((f) => f.includes('/node_modules/' + name + '/'));
      const undici = require('undici');
      const before = inCache('undici');
      const Client = undici.Client;
      const realUndici = require.cache[require.resolve('undici')].exports;
      // TypeScript's __importStar and Babel's _interopRequireDefault
      const importStar = (mod) => (mod && mod.__esModule ? mod : { ...mod, default: mod });
      const interopDefault = (obj) => (obj && obj.__esModule ? obj : { default: obj });
      const htmlnano = interopDefault(require('htmlnano')).default;
      const realHtmlnano = require.cache[require.resolve('htmlnano')].exports;
      return {
        before,
        after: inCache('undici'),
        sameClient: Client === realUndici.Client,
        starClient: importStar(undici).Client === realUndici.Client,
        keys: Object.keys(undici).length === Object.keys(realUndici).length,
        htmlnanoDefault: htmlnano.process === realHtmlnano.process,
        callable: typeof require('htmlnano')({}, {}, {}) === typeof realHtmlnano({}, {}, {}),
        others: require('entities') === require.cache[require.resolve('entities')].exports,
      };`);
    expect(seen).toEqual({ before: false, after: true, sameClient: true, starClient: true, keys: true, htmlnanoDefault: true, callable: true, others: true });
  });
});
