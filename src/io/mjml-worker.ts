/**
 * MJML's compiler in a worker thread. Loading mjml (juice, cheerio, js-beautify, lodash…) costs
 * ~40 MB of resident memory that stays for the life of the process, yet it is needed only to
 * compile each template once. Run there and terminated after, it gives that memory back before
 * a single message is rendered. (`send` uses it; see PrepareOptions.)
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Mjml2Html } from '../core/template.js';

export interface MjmlCompiler {
  mjml2html: Mjml2Html;
  close(): Promise<void>;
}

/**
 * Modules mjml loads at its start but calls only to fetch (cheerio's fromURL, juice's resource
 * inliner) or to minify, which bulletin never asks: in the worker they are loaded on first use.
 * undici alone, twice over (two cheerio versions), was about a third of mjml's loading time and
 * ~10 MB of the worker's memory.
 */
export const DEFERRED_MODULES = ['undici', 'htmlnano', 'cssnano-preset-lite', 'web-resource-inliner'];

// CommonJS evaluated in a worker whose `workerData.deferred` lists DEFERRED_MODULES: each is a
// stand-in that loads the real module (the copy its requirer would have got) when first touched.
// It reads as an ES module's namespace, so that TypeScript's and Babel's import helpers hand it
// back as it is: `.default` is then the real module's default export, or the real module itself
// when it has none, as those helpers would have made it.
export const DEFERRED_LOADING = `
const Module = require('node:module');
const loadModule = Module._load;
const deferred = new Set(require('node:worker_threads').workerData.deferred);
Module._load = function (request, parent, isMain) {
  if (!deferred.has(request)) return loadModule.apply(this, arguments);
  let real;
  const target = () => (real ??= loadModule.call(Module, request, parent, isMain));
  return new Proxy(() => {}, {
    get(_, key) {
      if (key === '__esModule') return true;
      const module = target();
      if (key === 'default') return module && module.__esModule ? module.default : module;
      return Reflect.get(module, key);
    },
    has: (_, key) => key === '__esModule' || Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => { const d = Reflect.getOwnPropertyDescriptor(target(), key); return d && { ...d, configurable: true }; },
    apply: (_, self, args) => Reflect.apply(target(), self, args),
  });
};
`;

// CommonJS evaluated in the worker: `workerData.mjml` is mjml's resolved path, so it loads the same
// copy as this package would, whatever the current directory.
const WORKER_SOURCE = `${DEFERRED_LOADING}
const { parentPort, workerData } = require('node:worker_threads');
const load = import(require('node:url').pathToFileURL(workerData.mjml).href).then((m) => m.default.default ?? m.default);
parentPort.on('message', async ({ id, mjml, options }) => {
  try {
    const result = await (await load)(mjml, options);
    const errors = result.errors.map((e) => ({ line: e.line, message: e.message, tagName: e.tagName }));
    parentPort.postMessage({ id, html: result.html, errors });
  } catch (error) {
    parentPort.postMessage({ id, failure: error instanceof Error ? error.message : String(error) });
  }
});
`;

interface Reply {
  id: number;
  html?: string;
  errors?: { line: number; message: string; tagName: string }[];
  failure?: string;
}

let started: { worker: Worker; compiler: MjmlCompiler } | undefined;

/**
 * Start the worker now, so that mjml loads (about half a second) while the command loads its
 * other modules and reads the campaign; the next prepareCampaign compiles with it
 * (takeStartedMjmlCompiler). Left unused, it does not keep the process alive. `onRunning` is
 * called once the worker's thread is running (see cli/heap.ts).
 */
export function startMjmlCompiler(onRunning?: () => void): void {
  if (started) return;
  const worker = newWorker();
  if (onRunning) worker.once('online', onRunning);
  started = { worker, compiler: compilerOn(worker) };
  worker.unref(); // after compilerOn: adding its listeners refs the worker again
}

/** The compiler startMjmlCompiler started, if one is waiting: for one campaign. */
export function takeStartedMjmlCompiler(): MjmlCompiler | undefined {
  const taken = started;
  started = undefined;
  taken?.worker.ref(); // a compile under way keeps the process alive
  return taken?.compiler;
}

export function openMjmlCompiler(): MjmlCompiler {
  return compilerOn(newWorker());
}

function newWorker(): Worker {
  return new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { mjml: createRequire(import.meta.url).resolve('mjml'), deferred: DEFERRED_MODULES },
    // A small young generation: the worker compiles a few templates, and its peak adds to the
    // main thread's. (The old generation is left unlimited: a large template must not fail.)
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
}

/** Listening from the worker's start: an error before the first compile is that compile's error. */
function compilerOn(worker: Worker): MjmlCompiler {
  const waiting = new Map<number, { resolve: (value: Awaited<ReturnType<Mjml2Html>>) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let stopped: Error | undefined;
  const failAll = (error: Error): void => {
    stopped ??= error;
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  };
  worker.on('message', (reply: Reply) => {
    const pending = waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id);
    if (reply.failure !== undefined) pending.reject(new Error(reply.failure));
    else pending.resolve({ html: reply.html ?? '', errors: reply.errors ?? [] });
  });
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('the MJML worker stopped')));
  return {
    mjml2html: (mjml, options) =>
      new Promise((resolve, reject) => {
        if (stopped) return reject(stopped);
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, mjml, options });
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}
