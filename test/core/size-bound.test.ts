import { describe, expect, it } from 'vitest';
import { createHandlebars } from '../../src/core/helpers.js';
import { boundFor, sizeBound } from '../../src/core/size-bound.js';
import { seeded } from '../helpers/random.js';

const hbs = createHandlebars();

function bytes(render: (data: Record<string, string>) => string, data: Record<string, string>): number {
  return Buffer.byteLength(render(data), 'utf8');
}

const TEMPLATE = [
  '<p style="color:#1f2933">Dear {{name}},</p>',
  '{{#if note}}<p>For {{school}}: {{note}}</p>{{else}}<p>No note for {{school}}.</p>{{/if}}',
  '{{#unless (eq area "North")}}<p>{{upper area}} {{lower area}}</p>{{/unless}}',
  '<a href="https://example.org/?s={{school}}">{{default officer "the liaison team"}}</a>',
  '<p>{{formatDate date}} {{{raw}}} {{!-- a comment --}}</p>',
  '  {{~name~}}  ',
].join('\n');

/** Values that grow the most under escaping and encoding: quotes, ampersands, non-ASCII, ß. */
const PIECES = ['"', "'", '&', '<', '=', '`', 'ß', 'ŉ', 'é', '中', '😀', 'a', ' ', '\n', '2027-03-07', '07/03/2027', 'North'];

function randomValue(random: () => number): string {
  const length = Math.floor(random() * 40);
  return Array.from({ length }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
}

describe('sizeBound', () => {
  // The single-value templates leave the bound no slack to hide a wrong factor in.
  it.each([[TEMPLATE], ['{{name}}'], ['{{{name}}}'], ['{{upper name}}'], ['{{lower name}}'], ['{{formatDate name}}'], ['{{default name "x"}}']])(
    'is never below the rendered size, whatever the values: %s',
    (template) => {
      const bound = sizeBound(hbs.parse(template));
      expect(bound).toBeDefined();
      const render = hbs.compile(template, { strict: false });
      const random = seeded(7);
      for (let i = 0; i < 1000; i++) {
        const data: Record<string, string> = {};
        for (const name of ['name', 'note', 'school', 'area', 'officer', 'date', 'raw']) if (random() > 0.2) data[name] = randomValue(random);
        expect(boundFor(bound!, data)).toBeGreaterThanOrEqual(bytes(render, data));
      }
    },
  );

  it('follows each value: a longer value raises the bound by what it can add', () => {
    const bound = sizeBound(hbs.parse('<p>{{a}} and {{a}}</p>'))!;
    expect(boundFor(bound, { a: 'x'.repeat(10) }) - boundFor(bound, { a: '' })).toBe(2 * 6 * 10);
    expect(boundFor(bound, {})).toBe(Buffer.byteLength('<p> and </p>'));
  });

  it.each([
    ['{{#each items}}{{this}}{{/each}}'],
    ['{{#with person}}{{name}}{{/with}}'],
    ['{{person.name}}'],
    ['{{lookup table key}}'],
    ['{{#if a}}{{../b}}{{/if}}'],
    ['{{@root.name}}'],
    ['{{default a b=c}}'],
  ])('has no bound where the size depends on values in ways it does not follow: %s', (template) => {
    expect(sizeBound(hbs.parse(template))).toBeUndefined();
  });
});
