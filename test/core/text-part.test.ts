import { describe, expect, it } from 'vitest';
import { createHandlebars } from '../../src/core/helpers.js';
import { createConverter, deriveTextTemplate, tidyAroundValues } from '../../src/core/text-part.js';
import { compileOk, message, section } from './fixtures.js';
import { seeded } from '../helpers/random.js';

const convert = createConverter();

const bulletin = message(
  [
    '    <mj-section><mj-column>',
    '      <mj-image src="https://example.org/crest.png" alt="{{school_name}} crest" />',
    '      <mj-text><h1>Update for {{school_name}}</h1><p>Dear {{#if title}}{{title}} {{/if}}{{contact_name}},</p>',
    '        <p>We met on {{formatDate meeting_date "long"}} with {{default officer "the team"}} about {{topic}}.</p></mj-text>',
    '      <mj-button href="https://example.org/schools/{{school_id}}?e={{email}}">See {{school_name}}\'s page</mj-button>',
    '      <mj-text><p>Write to <a href="mailto:{{officer_email}}">{{officer_email}}</a> or call {{phone}}.</p></mj-text>',
    '    </mj-column></mj-section>',
    '    {{#if liaison_name}}',
    '    <mj-section><mj-column><mj-text><h2>Your liaison</h2><p>{{liaison_name}} ({{liaison_role}})</p></mj-text></mj-column></mj-section>',
    '    {{/if}}',
    '    <mj-section><mj-column><mj-text>',
    '      {{#if actions}}<p>Next steps:</p><ul>{{#each actions}}<li>{{this}}</li>{{/each}}</ul>{{/if}}',
    '      <p>{{closing}}</p>',
    '    </mj-text></mj-column></mj-section>',
  ].join('\n'),
);

const recipients: Record<string, unknown>[] = [
  {
    school_name: 'St Mary & St John <Infants>',
    title: 'Dr',
    contact_name: 'Ann "Annie" O\'Neil',
    meeting_date: '2027-03-07',
    officer: 'PC Lee',
    topic: 'traffic <outside> the gates & parking',
    school_id: '42',
    email: 'head+office@stmary.example.org',
    officer_email: 'pc.lee@example.org',
    phone: '01632 960123',
    liaison_name: 'Sam Okafor',
    liaison_role: 'Schools & Youth',
    actions: ['Check the rota', 'Reply by Friday'],
    closing: 'Thank you.',
  },
  {
    school_name: 'Hartmoor Primary',
    title: '',
    contact_name: 'Dana Reyes',
    meeting_date: '07/03/2027',
    officer: '   ',
    topic: 'a   topic\twith\nodd   whitespace',
    school_id: 'a=b&c=d',
    email: 'dana@hartmoor.example.org',
    officer_email: '',
    phone: '',
    liaison_name: '',
    liaison_role: 'ignored',
    actions: [],
    closing: '',
  },
  {
    school_name: '  Leading and trailing  ',
    contact_name: '',
    meeting_date: 'soon',
    topic: '',
    school_id: '',
    email: '',
    officer_email: 'x@example.org',
    phone: '07700 900123',
    liaison_name: 'Jo',
    liaison_role: '',
    actions: ['Only one'],
    closing: 'Regards,   Team',
  },
  {},
];

describe('the derived text part', () => {
  it('equals html-to-text of each recipient’s rendered HTML', async () => {
    const template = await compileOk({ main: bulletin });
    for (const data of recipients) {
      const { html, text } = template.render(data);
      expect(text).toBe(convert(html));
    }
  });

  it('contains what a reader needs: values unescaped, links as text [url], conditional sections', async () => {
    const template = await compileOk({ main: bulletin });
    const first = template.render(recipients[0]!).text;
    expect(first).toContain('Update for St Mary & St John <Infants>');
    expect(first).toContain('Dear Dr Ann "Annie" O\'Neil,');
    expect(first).toContain('We met on 7 March 2027 with PC Lee about traffic <outside> the gates & parking.');
    expect(first).toContain("See St Mary & St John <Infants>'s page [https://example.org/schools/42?e=head+office@stmary.example.org]");
    expect(first).toContain('pc.lee@example.org [pc.lee@example.org]');
    expect(first).toContain('Sam Okafor (Schools & Youth)');
    expect(first).toContain(' * Reply by Friday');
    expect(first).not.toContain('crest');
    expect(first).not.toContain('What changes for');

    const second = template.render(recipients[1]!).text;
    expect(second).toContain('Dear Dana Reyes,');
    expect(second).toContain('with the team about a topic with odd whitespace.');
    expect(second).not.toContain('Your liaison');
    expect(second).not.toContain('Next steps');
    expect(second).not.toMatch(/\n{3}/);
  });

  it('matches for language variants and hand-written text too', async () => {
    const template = await compileOk({ main: bulletin, variants: { cy: bulletin.replace('Dear', 'Annwyl') } });
    for (const data of recipients) {
      const { html, text } = template.render(data, 'cy');
      expect(text).toBe(convert(html));
    }
    const hand = await compileOk({ main: bulletin, textTemplate: { path: 'message.txt.hbs', text: 'Hello {{contact_name}} & {{school_name}}\n' } });
    expect(hand.render(recipients[0]!).text).toBe('Hello Ann "Annie" O\'Neil & St Mary & St John <Infants>\n');
  });

  it('matches for links whose href or text is blank for some recipients, and nested blocks', async () => {
    const template = await compileOk({
      main: message(
        [
          section('<mj-text><p>Links: <a href="{{url}}">{{label}}</a>, <a href="mailto:{{mail}}">write</a>, <a href="https://example.org/{{path}}"> {{label}} </a>.</p></mj-text>'),
          section('<mj-button href="{{url}}">{{label}}</mj-button>'),
          '    {{#unless hide_list}}',
          section('<mj-text><h3>{{heading}}</h3><ul>{{#each people}}<li>{{@index}}: {{name}}{{#if role}} – {{role}}{{/if}}</li>{{/each}}</ul></mj-text>'),
          '    {{/unless}}',
          section('<mj-text><p>{{a}}</p><p>{{b}}</p><div>{{c}}</div>{{#if d}}<p>{{d}}</p>{{/if}}<p>end</p></mj-text>'),
        ].join('\n'),
      ),
    });
    const people = [{ name: 'Ann', role: 'Head' }, { name: 'Bo', role: '' }];
    const cases: Record<string, unknown>[] = [
      { url: 'https://example.org/a', label: 'Read', mail: 'x@example.org', path: 'p', people, heading: 'Who', a: '1', b: '2', c: '3', d: '4' },
      { url: '', label: 'Read', mail: '', path: '', people: [], heading: '', a: '', b: '', c: '', d: '' },
      { url: 'https://example.org/a', label: '', mail: 'x@example.org', path: 'p q', hide_list: 'yes', a: ' ', b: 'x', c: '', d: '' },
      { url: '#top', label: '   ', people, heading: 'H & <h>', a: 'a\n\nb', c: '<c>' },
    ];
    for (const data of cases) {
      const { html, text } = template.render(data);
      expect(text).toBe(convert(html));
    }
  });

  it('converts each message when the template writes raw HTML values', async () => {
    const template = await compileOk({ main: message(section('<mj-text><p>Note: {{{note_html}}}</p><p>{{name}}</p></mj-text>')) });
    const { text, html } = template.render({ note_html: '<b>closed</b><br>on <i>Monday</i> &amp; Tuesday', name: 'A & B' });
    expect(text).toBe(convert(html));
    expect(text).toContain('Note: closed\non Monday & Tuesday');
  });

  it('derives a reusable template from the HTML template (not a per-message conversion)', () => {
    const hbs = createHandlebars();
    const derive = deriveTextTemplate(hbs, '<body><p>Hello {{name}}</p>{{#if x}}<p>X is {{x}}</p>{{/if}}<p><a href="https://e.example/{{id}}">go</a></p></body>');
    expect(derive).toBeDefined();
    // The html argument is ignored on this path: the text comes from the template.
    expect(derive!({ name: 'A <b>', x: '', id: '7' }, 'ignored')).toBe('Hello A <b>\n\ngo [https://e.example/7]');
    expect(derive!({ name: 'A', x: 'y', id: '7' }, 'ignored')).toBe('Hello A\n\nX is y\n\ngo [https://e.example/7]');
    // A value cannot fence itself: the markers are control characters, dropped from values.
    expect(derive!({ name: 'A\x12\x13 \x10B\x16', x: '', id: '7' }, 'ignored')).toBe('Hello A B\n\ngo [https://e.example/7]');
  });

  it('gives up (so the caller converts per message) when a block loses one of its tags, or numbers list items', () => {
    const hbs = createHandlebars();
    expect(deriveTextTemplate(hbs, '<body><img alt="{{#if a}}" src="x"><p>b</p>{{/if}}</body>')).toBeUndefined();
    expect(deriveTextTemplate(hbs, '<body><ol>{{#each a}}<li>{{this}}</li>{{/each}}</ol></body>')).toBeUndefined();
    expect(deriveTextTemplate(hbs, '<body><ol><li>{{a}}</li></ol><ul>{{#each a}}<li>{{this}}</li>{{/each}}</ul></body>')).toBeDefined();
  });
});

describe('tidyAroundValues', () => {
  // Each value is fenced by these two characters in the rendered text template; a space
  // html-to-text wrote as layout (a list prefix's) is marked; so are the ends of a block or list
  // that may render empty.
  const value = (v: string) => `\x12${v}\x13`;
  const layout = '\x17';
  const block = (v: string) => `${value('\x18')}${v}${value('\x19')}`;
  const list = (v: string) => `${value('\x1a')}${v}${value('\x1b')}`;

  it('collapses the space an empty value leaves, inline and at line edges', () => {
    expect(tidyAroundValues(`Dear ${value('')} Smith,`)).toBe('Dear Smith,');
    expect(tidyAroundValues(`Hello ${value('')}\nNext`)).toBe('Hello\nNext');
    expect(tidyAroundValues(`${value(' x')} tail`)).toBe('x tail');
    expect(tidyAroundValues(`a${value('b')}c`)).toBe('abc');
    expect(tidyAroundValues(`Dear${value(' Smith ')},`)).toBe('Dear Smith ,');
    expect(tidyAroundValues(`a\n\n${value('')} c`)).toBe('a\n\nc');
  });

  it('keeps one paragraph break where a hidden block was, and a list prefix but not a value’s leading space', () => {
    expect(tidyAroundValues(`a\n\n${value('')}\n\n${value('')}\n\nc`)).toBe('a\n\nc');
    expect(tidyAroundValues(`a\n\n${value('')}${layout}* item`)).toBe('a\n\n * item');
    expect(tidyAroundValues(`${value('')}\n\n${layout}* item`)).toBe(' * item');
    expect(tidyAroundValues(` *${layout}${value('')}\n${layout}* x`)).toBe(' * \n * x');
    expect(tidyAroundValues(` *${layout}${value('')} x`)).toBe(' * x');
    expect(tidyAroundValues(`a\n\n${value(' See')} more`)).toBe('a\n\nSee more');
  });

  it('counts the line breaks around an empty block twice, unless it came first in its parent, and drops an empty list’s', () => {
    expect(tidyAroundValues(`x\n${block(value(''))}\ny`)).toBe('x\n\ny');
    expect(tidyAroundValues(`x\n${block(block(value('')))}\ny`)).toBe('x\n\ny');
    expect(tidyAroundValues(`x\n${block(value('z'))}\ny`)).toBe('x\nz\ny');
    expect(tidyAroundValues(`x\n${list(`\n${value('')}\n`)}\ny`)).toBe('x\ny');
    expect(tidyAroundValues(`x\n${list(`\n${layout}*${layout}${value('a')}\n`)}\ny`)).toBe('x\n * a\n\ny');
  });
});

describe('the derived text part, generated', () => {
  // Random templates and recipients, reproducible from the seed: on a failure, the report names
  // the seed, the template's index (its generator is seeded(SEED + index)) and its body, and the
  // recipient's data. It writes no images, and mj-text content of blocks only, never text beside
  // a block: so it avoids the known limits in text-part.ts's header.
  const SEED = 20270307;
  const TEMPLATES = 50;
  const ROWS = 15;
  const VARIABLES = ['a', 'b', 'c', 'd', 'e'] as const;
  const VALUES = [
    '',
    ' ',
    'word',
    'several plain words',
    '  padded  ',
    ' leading',
    'trailing ',
    'double  space',
    'tab\tbetween',
    'line\nbreak',
    'two\n\nparagraphs',
    '&',
    'A & B',
    '<b>',
    '<b>bold</b>',
    '"quoted"',
    "it's",
    'https://example.org/path?x=1&y=2',
    '#top',
    'x@example.org',
    'café',
    'Ŵyn a dŵr',
    '🎉 party',
  ];
  const WORDS = ['Hello', 'the', 'school', 'meeting', 'on', 'Friday', 'see', 'more', 'and'];

  type Random = () => number;
  const int = (random: Random, n: number) => Math.floor(random() * n);
  const pick = <T,>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;
  const times = (random: Random, min: number, max: number, make: () => string) => Array.from({ length: min + int(random, max - min + 1) }, make);

  function variable(random: Random): string {
    return pick(random, VARIABLES);
  }

  function words(random: Random): string {
    return times(random, 1, 3, () => pick(random, WORDS)).join(' ');
  }

  function href(random: Random): string {
    const v = variable(random);
    return pick(random, [`https://example.org/{{${v}}}`, `mailto:{{${v}}}`, `{{${v}}}`, 'https://example.org/fixed', '#top', `https://example.org/{{${v}}}/{{${variable(random)}}}`]);
  }

  /** A run of inline content: words, values next to spaces and punctuation, helpers, emphasis, links, inline blocks. */
  function inline(random: Random, depth: number, links = true): string {
    const piece = (): string => {
      const v = variable(random);
      const w = variable(random);
      switch (int(random, depth > 1 ? 5 : 12)) {
        case 0:
        case 1:
          return words(random);
        case 2:
          return `{{${v}}}`;
        case 3:
          return pick(random, [`({{${v}}})`, `{{${v}}},`, `{{${v}}}.`, `"{{${v}}}"`, `{{${v}}}{{${w}}}`, `{{${v}}} {{${w}}}`, `{{${v}}}:`, `– {{${v}}}!`]);
        case 4:
          return pick(random, [`{{default ${v} "the team"}}`, `{{upper ${v}}}`, `{{default ${v} "x"}}`]);
        case 5:
          return `<strong>${inline(random, depth + 1, links)}</strong>`;
        case 6:
        case 7:
          if (!links) return `{{${v}}}`;
          return `<a href="${href(random)}">${pick(random, [words(random), `{{${v}}}`, `${words(random)} {{${v}}}`, ` {{${v}}} `, `{{${v}}}{{${w}}}`, `<strong>{{${v}}}</strong>`])}</a>`;
        case 8:
          return `{{#if ${v}}}${inline(random, depth + 1, links)}{{/if}}`;
        case 9:
          return `{{#unless ${v}}}${inline(random, depth + 1, links)}{{/unless}}`;
        case 10:
          return `{{#if ${v}}}${inline(random, depth + 1, links)}{{else}}${inline(random, depth + 1, links)}{{/if}}`;
        default:
          return `{{#if ${v}}}{{${v}}}{{/if}}`;
      }
    };
    let out = piece();
    for (let i = int(random, 4); i > 0; i--) out += pick(random, [' ', ' ', ' ', '', '\n        ', ', ']) + piece();
    return out;
  }

  function list(random: Random): string {
    const items = times(random, 1, 3, () =>
      pick(random, [
        `<li>${inline(random, 1)}</li>`,
        '{{#each items}}<li>{{this}}</li>{{/each}}',
        '{{#each items}}<li><strong>{{this}}</strong> item</li>{{/each}}',
        '{{#each items}}<li>{{@index}}: {{this}}</li>{{/each}}',
      ]),
    );
    return `<ul>${items.join(pick(random, ['', '\n        ']))}</ul>`;
  }

  function block(random: Random, depth: number): string {
    const v = variable(random);
    switch (int(random, depth > 0 ? 4 : 8)) {
      case 0:
      case 1:
        return `<p>${inline(random, 0)}</p>`;
      case 2:
        return `<h2>${inline(random, 0)}</h2>`;
      case 3:
        return random() < 0.3 ? `{{#if items}}${list(random)}{{/if}}` : list(random);
      case 4:
        return `{{#if ${v}}}${blocks(random, depth + 1)}{{/if}}`;
      case 5:
        return `{{#unless ${v}}}${blocks(random, depth + 1)}{{/unless}}`;
      case 6:
        return `{{#if ${v}}}${blocks(random, depth + 1)}{{else}}${blocks(random, depth + 1)}{{/if}}`;
      default:
        return `<p>${inline(random, 0)}</p>`;
    }
  }

  function blocks(random: Random, depth: number): string {
    return times(random, 1, 3, () => block(random, depth)).join(pick(random, ['', '\n      ']));
  }

  function oneSection(random: Random): string {
    const text = () => `<mj-text>${blocks(random, 0)}</mj-text>`;
    const button = () => `<mj-button href="${href(random)}">${inline(random, 1, false)}</mj-button>`;
    const content = pick(random, [text, text, text, button, () => text() + button(), () => button() + text()])();
    const v = variable(random);
    switch (int(random, 8)) {
      case 0:
        return `    {{#if ${v}}}\n${section(content)}\n    {{/if}}`;
      case 1:
        return `    {{#unless ${v}}}\n${section(content)}\n    {{/unless}}`;
      case 2:
        return `    {{#if ${v}}}\n${section(content)}\n    {{else}}\n${section(text())}\n    {{/if}}`;
      default:
        return section(content);
    }
  }

  function row(random: Random): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    for (const name of VARIABLES) if (random() > 0.1) data[name] = pick(random, VALUES);
    if (random() > 0.1) data['items'] = Array.from({ length: int(random, 4) }, () => pick(random, VALUES));
    return data;
  }

  /**
   * The same template with only what the text part writes without Handlebars (plainTemplate):
   * values and if/unless blocks, no helpers and no {{#each}}. There values are written without
   * their fences where they need no tidying (fenceIfUntidy), next to list prefixes too.
   */
  function withoutHelpers(body: string): string {
    return body
      .replace(/\{\{(?:default|upper) (\w+)[^}]*\}\}/g, '{{$1}}')
      .replaceAll('{{#each items}}<li>{{this}}</li>{{/each}}', '<li>{{a}}</li>')
      .replaceAll('{{#each items}}<li><strong>{{this}}</strong> item</li>{{/each}}', '<li><strong>{{b}}</strong> item</li>')
      .replaceAll('{{#each items}}<li>{{@index}}: {{this}}</li>{{/each}}', '<li>{{c}}: {{d}}</li>')
      .replaceAll('{{#if items}}', '{{#if e}}');
  }

  it.each([
    ['', (body: string) => body],
    [' (values and if/unless only)', withoutHelpers],
  ])('equals html-to-text of the rendered HTML for random templates and recipients%s', async (_, edit) => {
    const failures: string[] = [];
    for (let t = 0; t < TEMPLATES; t++) {
      // One generator per template, so a failing template can be rerun alone.
      const random = seeded(SEED + t);
      const body = edit(times(random, 1, 4, () => oneSection(random)).join('\n'));
      if (edit === withoutHelpers) expect(body).not.toMatch(/each|default|upper|items|@index|this/);
      const template = await compileOk({ main: message(body) });
      for (let r = 0; r < ROWS; r++) {
        const data = row(random);
        const { html, text } = template.render(data);
        const expected = convert(html);
        if (text !== expected) {
          failures.push(
            [`seed ${SEED}, template ${t} (seeded(${SEED + t})), row ${r}`, `body:\n${body}`, `data: ${JSON.stringify(data)}`, `expected: ${JSON.stringify(expected)}`, `actual:   ${JSON.stringify(text)}`].join('\n'),
          );
        }
      }
    }
    expect(failures.length, `${failures.length} of ${TEMPLATES * ROWS} texts differ; the first:\n\n${failures.slice(0, 3).join('\n\n')}`).toBe(0);
  });
});
