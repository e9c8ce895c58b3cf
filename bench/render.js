/**
 * Rendering and MIME assembly, on a generated 10,000-recipient campaign, in this process:
 * - render: the real planner (`planCampaign`: load, compile once, render every row with its
 *   text part, check it), messages/s end to end;
 * - MIME: `buildMessageBytes` for each of those messages, messages/s, with a breakdown of where
 *   the time goes (composing the options, MailComposer's compile, its build);
 * - naive: Handlebars on the MJML source, then mjml2html and html-to-text per recipient, on a
 *   sample; reported as how many times slower it is than ours.
 * Render passes and naive samples are measured in turns (ROUNDS), and each figure is the median.
 * Needs the render engine (src/core/template.ts, src/plan.ts); pending until it is built.
 */
import { join } from 'node:path';
import { createCampaign } from './campaign.js';
import { fromDist, hasDist, median, pending, result, round, withTempDir } from './harness.js';

export const name = 'render';
const RENDER_TARGET = { op: '>=', value: 10_000 };
const NAIVE_TARGET = { op: '>=', value: 200 };
const ROUNDS = 5;

export async function run({ quick }) {
  const rows = quick ? 2_000 : 10_000;
  const sample = quick ? 20 : 100;
  const n = rows.toLocaleString('en-GB');
  return withTempDir('render', async (dir) => {
    await createCampaign(dir, rows);
    // The naive way needs only the campaign loader, so it is measured even before the engine lands.
    const { loadCampaign } = await fromDist('io/campaign.js');
    const naive = await prepareNaive(dir, (await loadCampaign(dir)).campaign, sample);
    const naiveLabel = `naive MJML per recipient (sample ${sample}): ours is N× faster`;
    if (!hasDist('core/template.js') || !hasDist('plan.js')) {
      const why = 'pending: src/core/template.ts not built';
      const naiveNote = `naive ${round(await naive.round())} msg/s`;
      return [
        pending(`render ${n} recipients incl. text`, 'msg/s', RENDER_TARGET, why),
        pending(`assemble MIME of ${n} messages`, 'msg/s', undefined, why),
        pending(naiveLabel, '×', NAIVE_TARGET, `${why}; ${naiveNote}`),
      ];
    }
    const { planCampaign, prepareCampaign, planMessages, buildMessageBytes } = await fromDist('plan.js');
    await planCampaign(dir, { onMessage: () => {} }); // warm-up: JIT, file cache, MJML's first compile

    // What users get: load + compile once (prepareCampaign), then planMessages with the text part on.
    let started = performance.now();
    const { prepared } = await prepareCampaign(dir);
    const prepareMs = performance.now() - started;
    // Each message is let go once handed over, as preview and send do: holding all 10,000
    // (~50 KB each) would measure the garbage collector walking them instead.
    const { defaults, language } = prepared.campaign.config;
    const inputs = [];
    const renderPass = async (onMessage) => {
      const t = performance.now();
      const plan = await planMessages(prepared, { text: true, onMessage });
      if (!plan.ok || plan.messages !== rows) throw new Error(`the plan rendered ${plan.messages} of ${rows} messages (ok: ${plan.ok})`);
      return rows / ((performance.now() - t) / 1000);
    };
    // This machine's speed swings by 2x from one second to the next (other tenants), so the
    // passes and the naive samples are measured in turns, and each figure is their median.
    const renderRates = [];
    const naiveRates = [];
    const ratios = [];
    for (let turn = 0; turn < ROUNDS; turn++) {
      const rate = await renderPass(turn === 0 ? (m) => void inputs.push({ data: { ...defaults, ...m.row.fields, email: m.row.email }, language: m.language === language ? undefined : m.language }) : () => {});
      const naiveRate = await naive.round();
      renderRates.push(rate);
      naiveRates.push(naiveRate);
      ratios.push(rate / naiveRate);
    }
    const renderRate = median(renderRates);
    const spread = (rates) => `${round(Math.min(...rates))}–${round(Math.max(...rates))}`;

    // The engine alone, on the same rows: template.render with and without the text part.
    const engineRate = (text) => {
      const t = performance.now();
      for (const { data, language: lang } of inputs) prepared.template.render(data, lang, { text });
      return rows / ((performance.now() - t) / 1000);
    };
    engineRate(true);
    const engineWithText = engineRate(true);
    const engineNoText = engineRate(false);

    const messages = [];
    await planMessages(prepared, { text: true, onMessage: (m) => void messages.push(m) }); // untimed: the MIME figure's input
    const mime = await measureMime(prepared.campaign, messages, buildMessageBytes);
    return [
      result(`render ${n} recipients incl. text`, round(renderRate), 'msg/s', RENDER_TARGET, `planMessages with text (CSV, render, checks), median of ${ROUNDS} passes after a warm-up (${spread(renderRates)}; first ${round(renderRates[0])}), prepareCampaign ${round(prepareMs)} ms; engine alone ${round(engineWithText)} msg/s with text, ${round(engineNoText)} without`),
      result(`assemble MIME of ${n} messages`, round(mime.rate), 'msg/s', undefined, `avg ${round(mime.kb, 1)} KB; ${mime.breakdown}`),
      result(naiveLabel, round(median(ratios)), '×', NAIVE_TARGET, `median of ${ROUNDS} turns of ours then naive (${spread(ratios)}×); naive ${round(median(naiveRates))} msg/s (${spread(naiveRates)}), mjml2html ${naive.mjmlShare()}% of it`),
    ];
  });
}

async function measureMime(campaign, messages, buildMessageBytes) {
  const date = new Date('2026-11-27T10:00:00Z');
  const idOf = (i) => `<bench.${i}@example.org>`;
  for (let i = 0; i < Math.min(200, messages.length); i++) await buildMessageBytes(campaign, messages[i], { messageId: idOf(i), date });
  let bytes = 0;
  const started = performance.now();
  for (let i = 0; i < messages.length; i++) bytes += (await buildMessageBytes(campaign, messages[i], { messageId: idOf(i), date })).length;
  const seconds = (performance.now() - started) / 1000;
  return { rate: messages.length / seconds, kb: bytes / messages.length / 1024, breakdown: await mimeBreakdown(campaign, messages.slice(0, 1000), date) };
}

/** Where one message's assembly goes: options (composeMessage), MailComposer compile, build. */
async function mimeBreakdown(campaign, messages, date) {
  try {
    const { composeMessage } = await fromDist('core/message.js');
    const { default: MailComposer } = await import('nodemailer/lib/mail-composer/index.js');
    const inputs = messages.map((m, i) => ({ config: campaign.config, row: m.row, content: m.content, messageId: `<b.${i}@example.org>`, date, attachments: m.attachments, ...(m.unsubscribeUrl ? { unsubscribeUrl: m.unsubscribeUrl } : {}) }));
    let t = performance.now();
    const options = inputs.map((input) => composeMessage(input));
    const compose = performance.now() - t;
    t = performance.now();
    const nodes = options.map((o) => new MailComposer(o).compile());
    const compile = performance.now() - t;
    t = performance.now();
    for (const node of nodes) await node.build();
    const build = performance.now() - t;
    const per = (ms) => `${round((ms * 1000) / messages.length)} µs`;
    return `per message: compose ${per(compose)}, MailComposer compile ${per(compile)}, build ${per(build)}`;
  } catch (error) {
    return `breakdown unavailable (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** The way without a compiled template: Handlebars over the MJML source, MJML and html-to-text per row. */
async function prepareNaive(dir, campaign, sample) {
  const { default: Handlebars } = await import('handlebars');
  const { default: mjml2html } = await import('mjml');
  const { convert } = await import('html-to-text');
  const { default: matter } = await import('gray-matter');
  const { parse } = await import('csv-parse/sync');
  const { readFile } = await import('node:fs/promises');

  const hb = Handlebars.create();
  for (const [partial, file] of Object.entries(campaign.partials)) hb.registerPartial(partial, file.text);
  const source = matter(campaign.template.text);
  const csv = await readFile(join(dir, campaign.config.recipients), 'utf8');
  const rows = parse(csv, { columns: true, to: sample + 1 });
  const data = (row) => ({ ...campaign.config.defaults, ...Object.fromEntries(Object.entries(row).filter(([, v]) => v !== '')) });

  const one = async (row) => {
    const mjmlSource = hb.compile(source.content)(data(row));
    const t = performance.now();
    const { html } = await mjml2html(mjmlSource, { validationLevel: 'soft' });
    const mjmlMs = performance.now() - t;
    convert(html, { wordwrap: 78 });
    hb.compile(String(source.data.subject ?? ''))(data(row));
    return mjmlMs;
  };
  for (const row of rows.slice(0, 5)) await one(row); // MJML's first compiles in a process are several times slower
  let mjmlMs = 0;
  let allMs = 0;
  return {
    /** Messages/s over the sample, one turn. */
    round: async () => {
      const started = performance.now();
      for (const row of rows.slice(0, sample)) mjmlMs += await one(row);
      const ms = performance.now() - started;
      allMs += ms;
      return sample / (ms / 1000);
    },
    mjmlShare: () => round((100 * mjmlMs) / allMs),
  };
}
