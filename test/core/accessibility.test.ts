import { describe, expect, it } from 'vitest';
import { checkAccessibility } from '../../src/core/accessibility.js';
import { compileTemplate, type CompiledTemplate } from '../../src/core/template.js';
import type { Diagnostic } from '../../src/core/diagnostics.js';

/**
 * Each check with a template that trips it and one that does not, compiled through MJML as
 * validate and preview compile them. Body lines start at line 8 of message.mjml:
 *   1-4 front matter (with a preheader, which MJML hides), 5 <mjml>, 6 <mj-head>, 7 <mj-body>.
 */
const FIRST_BODY_LINE = 8;
const MJML_LINE = 5;
const PROSE = 'The parish council will close Brindle Lane for resurfacing from Monday, and buses will stop on Mill Street until the work is finished at the end of the month.';

interface Options {
  lang?: string | null;
  /** Inside <mj-head>; by default mj-text is 16px, so the font-size check stays quiet elsewhere. */
  head?: string;
  variants?: Record<string, string>;
  partials?: Record<string, string>;
  language?: string;
}

function message(body: string[], options: Options = {}): string {
  const lang = options.lang === null ? '' : ` lang="${options.lang ?? 'en'}"`;
  const head = options.head ?? '<mj-attributes><mj-text font-size="16px" /><mj-button font-size="16px" /></mj-attributes>';
  return ['---', 'subject: "Brindle Lane"', 'preheader: "Road works next week"', '---', `<mjml${lang}>`, `  <mj-head>${head}</mj-head>`, '  <mj-body>', ...body, '  </mj-body>', '</mjml>', ''].join('\n');
}

/** One line: a section holding `content`. */
const section = (content: string, attributes = '') => `    <mj-section${attributes}><mj-column>${content}</mj-column></mj-section>`;
const prose = section(`<mj-text>${PROSE}</mj-text>`);

async function compiled(main: string, options: Options = {}): Promise<CompiledTemplate> {
  const files = (record: Record<string, string> | undefined, path: (name: string) => string) =>
    Object.fromEntries(Object.entries(record ?? {}).map(([name, text]) => [name, { path: path(name), text }]));
  const { template, diagnostics } = await compileTemplate({
    main: { path: 'message.mjml', text: main },
    variants: files(options.variants, (lang) => `message.${lang}.mjml`),
    partials: files(options.partials, (name) => `partials/${name}.mjml`),
    accessibility: true,
    language: options.language ?? 'en',
  });
  if (!template) throw new Error(`expected a template, got:\n${JSON.stringify(diagnostics, null, 2)}`);
  return template;
}

async function check(body: string[], options: Options = {}, data: Record<string, unknown> = {}, language?: string): Promise<Diagnostic[]> {
  return (await compiled(message(body, options), options)).checkAccessibility(data, language);
}

/** `file:line: check: message` for compact assertions. */
function described(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.file}:${d.line}: ${d.check}: ${d.message}`);
}

describe('the template layout used here', () => {
  it('is quiet for a plain message, preheader and all, and puts body lines where the tests expect them', async () => {
    const main = message([prose]);
    expect(main.split('\n')[FIRST_BODY_LINE - 1]).toBe(prose);
    expect(await check([prose])).toEqual([]);
  });
});

describe('colour contrast (WCAG 2.2 AA)', () => {
  it('trips on grey text on white, at the line of the element that sets the colour', async () => {
    const found = await check([prose, section(`<mj-text color="#999999">${PROSE}</mj-text>`)]);
    expect(described(found)).toEqual([
      `message.mjml:${FIRST_BODY_LINE + 1}: accessibility/contrast: accessibility: text "The parish council will close Brindle L…" has a contrast of 2.84:1 (#999999 on #ffffff); WCAG 2.2 AA asks for 4.5:1 for this size of text`,
    ]);
    expect(found[0]!.severity).toBe('warning');
    expect(found[0]!.hint).toMatch(/darker text colour such as #[0-9a-f]{6} \(4\.\d\d:1\)/);
  });

  it('passes dark grey on white, and takes the background from the section', async () => {
    expect(await check([section(`<mj-text color="#595959">${PROSE}</mj-text>`)])).toEqual([]);
    expect(await check([section(`<mj-text color="#ffffff">${PROSE}</mj-text>`, ' background-color="#1b3a5c"')])).toEqual([]);
    const light = await check([section(`<mj-text color="#ffffff">${PROSE}</mj-text>`, ' background-color="#8fb3d9"')]);
    expect(described(light)).toEqual([expect.stringContaining(`message.mjml:${FIRST_BODY_LINE}: accessibility/contrast: accessibility: text "The parish`)]);
    expect(light[0]!.message).toContain('(#ffffff on #8fb3d9)');
  });

  it('asks only 3:1 of large text: 24px, or 18.66px bold', async () => {
    const grey = '#8a8a8a'; // 3.45:1 on white
    expect(await check([prose, section(`<mj-text color="${grey}" font-size="24px">Road closed</mj-text>`)])).toEqual([]);
    expect(await check([prose, section(`<mj-text color="${grey}" font-size="19px" font-weight="bold">Road closed</mj-text>`)])).toEqual([]);
    const small = await check([prose, section(`<mj-text color="${grey}" font-size="19px">Road closed</mj-text>`)]);
    expect(described(small)).toEqual([expect.stringContaining('asks for 4.5:1 for this size of text')]);
  });

  it('reads colours from the <mj-style> stylesheet, such as a pale link colour', async () => {
    const body = [section(`<mj-text><p>${PROSE} See the <a href="https://example.org/brindle-lane">closure map</a>.</p></mj-text>`)];
    expect(await check(body, { head: '<mj-attributes><mj-text font-size="16px" /></mj-attributes><mj-style>a { color: #1b3a5c; }</mj-style>' })).toEqual([]);
    const pale = await check(body, { head: '<mj-attributes><mj-text font-size="16px" /></mj-attributes><mj-style>a { color: #a3c4e6; }</mj-style>' });
    expect(described(pale)).toEqual([expect.stringContaining(`message.mjml:${FIRST_BODY_LINE}: accessibility/contrast: accessibility: text "closure map" has a contrast of`)]);
    expect(pale[0]!.column).toBe(body[0]!.indexOf('<a ') + 1);
  });
});

describe('alt text', () => {
  const image = (attributes: string) => section(`<mj-image src="https://example.org/images/brindle-lane.png" ${attributes} />`);

  it('trips on an mj-image without alt, and on a file name as alt', async () => {
    const found = await check([prose, image(''), image('alt="IMG_0042.jpg"'), image('alt="brindle-lane.png"')]);
    expect(described(found)).toEqual([
      `message.mjml:${FIRST_BODY_LINE + 1}: accessibility/alt-text: accessibility: an image has no alt text (brindle-lane.png): screen readers and mail programs that block images show nothing in its place`,
      `message.mjml:${FIRST_BODY_LINE + 2}: accessibility/alt-text: accessibility: an image's alt text is a file name, "IMG_0042.jpg": that is what a screen reader will read out`,
      `message.mjml:${FIRST_BODY_LINE + 3}: accessibility/alt-text: accessibility: an image's alt text is a file name, "brindle-lane.png": that is what a screen reader will read out`,
    ]);
  });

  it('trips on a raw <img> without alt inside mj-text, at its own line', async () => {
    const found = await check([prose, '    <mj-section><mj-column><mj-text>', '      <img src="https://example.org/map.png" width="300">', '    </mj-text></mj-column></mj-section>']);
    expect(described(found)).toEqual([expect.stringContaining(`message.mjml:${FIRST_BODY_LINE + 2}: accessibility/alt-text: accessibility: an image has no alt text (map.png)`)]);
  });

  it('passes a described image, and alt="" on a decorative image that is not a link', async () => {
    expect(await check([prose, image('alt="Map of the Brindle Lane closure"'), image('alt=""')])).toEqual([]);
  });

  it('trips on alt="" when the image is the only content of a link: the link has no name', async () => {
    const found = await check([prose, image('alt="" href="https://example.org/brindle-lane"')]);
    expect(described(found)).toEqual([
      `message.mjml:${FIRST_BODY_LINE + 1}: accessibility/link-text: accessibility: a link to https://example.org/brindle-lane has no name: its only content is an image with alt="", so a screen reader reads out only "link"`,
    ]);
    expect(await check([prose, image('alt="Brindle Lane closure details" href="https://example.org/brindle-lane"')])).toEqual([]);
  });

  it('reads alt values from the recipient data', async () => {
    const body = [prose, image('alt="{{school}} crest"')];
    expect(await check(body, {}, { school: 'Hartmoor Primary' })).toEqual([]);
  });
});

describe('link text', () => {
  const link = (text: string, href = 'https://example.org/brindle-lane') => section(`<mj-text><p>${PROSE} <a href="${href}">${text}</a></p></mj-text>`);

  it('trips on "click here", "Read more…", Welsh "cliciwch yma" and a bare web address', async () => {
    const found = await check([link('click here'), link('Read more…'), link('cliciwch yma'), link('https://example.org/brindle-lane'), link('www.example.org', 'https://www.example.org')]);
    expect(described(found)).toEqual([
      `message.mjml:${FIRST_BODY_LINE}: accessibility/link-text: accessibility: link text "click here" says nothing out of context (links are often read out as a list)`,
      `message.mjml:${FIRST_BODY_LINE + 1}: accessibility/link-text: accessibility: link text "Read more…" says nothing out of context (links are often read out as a list)`,
      `message.mjml:${FIRST_BODY_LINE + 2}: accessibility/link-text: accessibility: link text "cliciwch yma" says nothing out of context (links are often read out as a list)`,
      `message.mjml:${FIRST_BODY_LINE + 3}: accessibility/link-text: accessibility: link text "https://example.org/brindle-lane" is a web address, which a screen reader spells out`,
      `message.mjml:${FIRST_BODY_LINE + 4}: accessibility/link-text: accessibility: link text "www.example.org" is a web address, which a screen reader spells out`,
    ]);
  });

  it('trips on a vague mj-button', async () => {
    const found = await check([prose, section('<mj-button href="https://example.org/report">Click here</mj-button>')]);
    expect(described(found)).toEqual([expect.stringContaining(`message.mjml:${FIRST_BODY_LINE + 1}: accessibility/link-text: accessibility: link text "Click here"`)]);
  });

  it('passes text that says where the link goes, and an email address as a mailto link', async () => {
    expect(await check([link('the Brindle Lane closure map'), link('roads@example.org', 'mailto:roads@example.org')])).toEqual([]);
  });

  it('uses the list it is given', () => {
    const html = '<html lang="en"><body><p>Road works on Brindle Lane start on Monday and last until the end of the month, the council says. <a href="https://example.org">Brindle Lane plans</a></p></body></html>';
    expect(checkAccessibility(html)).toEqual([]);
    expect(checkAccessibility(html, { vagueLinkTexts: ['brindle lane plans'] }).map((f) => f.check)).toEqual(['link-text']);
  });
});

describe('heading order', () => {
  const headings = (...levels: number[]) => levels.map((n) => section(`<mj-text><h${n}>Heading ${n}</h${n}><p>${PROSE}</p></mj-text>`));

  it('trips on h1 followed by h3, at the h3', async () => {
    const found = await check(headings(1, 3));
    expect(described(found)).toEqual([`message.mjml:${FIRST_BODY_LINE + 1}: accessibility/heading-order: accessibility: a heading skips a level: <h3> follows <h1>`]);
    const h3 = headings(1, 3)[1]!;
    expect(found[0]!.column).toBe(h3.indexOf('<h3>') + 1);
  });

  it('passes levels that go down one at a time and back up', async () => {
    expect(await check(headings(1, 2, 3, 2, 3, 1))).toEqual([]);
  });
});

describe('language', () => {
  it('trips on a message without lang, at the <mjml> line', async () => {
    const found = await check([prose], { lang: null });
    expect(described(found)).toEqual([`message.mjml:${MJML_LINE}: accessibility/language: accessibility: the message does not say its language, so screen readers may read it with the wrong voice`]);
    expect(found[0]!.hint).toBe('write <mjml lang="en">');
  });

  it('trips on a variant whose lang is not its language, and on a main message not in bulletin.json\'s language', async () => {
    const variant = message([prose], { lang: 'en' });
    const template = await compiled(message([prose]), { variants: { cy: variant } });
    expect(template.checkAccessibility({})).toEqual([]);
    expect(described(template.checkAccessibility({}, 'cy'))).toEqual([
      `message.cy.mjml:${MJML_LINE}: accessibility/language: accessibility: the message says its language is "en", but it is the cy version`,
    ]);
    expect(described(await check([prose], { lang: 'cy', language: 'en' }))).toEqual([
      `message.mjml:${MJML_LINE}: accessibility/language: accessibility: the message says its language is "cy", but it is the en version`,
    ]);
  });

  it('passes a variant in its own language, region subtags included', async () => {
    const template = await compiled(message([prose], { lang: 'en-GB' }), { variants: { cy: message([prose], { lang: 'cy' }) } });
    expect(template.checkAccessibility({})).toEqual([]);
    expect(template.checkAccessibility({}, 'cy')).toEqual([]);
  });
});

describe('text set in images', () => {
  const banner = section('<mj-image src="https://example.org/closure-notice.png" alt="Brindle Lane closed from Monday" />');

  it('trips when a message is an image and a few words, at the first image', async () => {
    const found = await check([banner, section('<mj-text>Details inside.</mj-text>')]);
    expect(described(found)).toEqual([`message.mjml:${FIRST_BODY_LINE}: accessibility/text-in-images: accessibility: the message is mostly images: 2 words of text beside 1 image`]);
  });

  it('passes an image beside real text; alt text and the hidden preheader do not count as text', async () => {
    expect(await check([banner, prose])).toEqual([]);
  });
});

describe('font size', () => {
  it("trips on MJML's default 13px mj-text, at the mj-text", async () => {
    const found = await check([prose, section(`<mj-text>${PROSE}</mj-text>`)], { head: '' });
    expect(described(found)).toEqual([
      `message.mjml:${FIRST_BODY_LINE}: accessibility/font-size: accessibility: text "The parish council will close Brindle L…" is set in 13px, smaller than 14px`,
      `message.mjml:${FIRST_BODY_LINE + 1}: accessibility/font-size: accessibility: text "The parish council will close Brindle L…" is set in 13px, smaller than 14px`,
    ]);
    expect(found[0]!.column).toBe('    <mj-section><mj-column>'.length + 1);
  });

  it('trips on an inline style inside mj-text, at that element, and in a partial, at the partial\'s line', async () => {
    const found = await check([section(`<mj-text><p>${PROSE}</p><p style="font-size:11px">Small print</p></mj-text>`), '{{> footer}}'], {
      partials: { footer: `<mj-section><mj-column>\n  <mj-text font-size="12px">${PROSE}</mj-text>\n</mj-column></mj-section>` },
    });
    expect(described(found)).toEqual([
      `message.mjml:${FIRST_BODY_LINE}: accessibility/font-size: accessibility: text "Small print" is set in 11px, smaller than 14px`,
      'partials/footer.mjml:2: accessibility/font-size: accessibility: text "The parish council will close Brindle L…" is set in 12px, smaller than 14px',
    ]);
  });

  it('passes 14px and more, and ignores hidden text', async () => {
    expect(await check([prose, section(`<mj-text font-size="14px">${PROSE}</mj-text>`), section('<mj-text><div style="display:none;font-size:1px">hidden</div></mj-text>')])).toEqual([]);
  });
});
