import { describe, expect, it } from 'vitest';
import { HELPER_NAMES, createHandlebars, knownHelpersOnly } from '../../src/core/helpers.js';
import { plainTemplate } from '../../src/core/plain-template.js';
import { seeded } from '../helpers/random.js';

const hbs = createHandlebars();
const plain = (source: string) => plainTemplate(hbs.parse(source), HELPER_NAMES);
const handlebars = (source: string) => hbs.compile(source, { noEscape: true, strict: false, ...knownHelpersOnly() });

describe('plainTemplate', () => {
  it('writes what Handlebars writes, for random text, values and data', () => {
    const random = seeded(11);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const pieces = ['Update for ', ' & ', '<b>', '"', ' ', '\n', '  ', 'é ŵ 👋', '{{school}}', '{{ school }}', '{{~school~}}', ' {{~area}}', '{{area~}} ', '{{this.area}}', '{{[first name]}}', '{{!-- note --}}', '{{! note }}', '{{missing}}', '{{toString}}', '{{constructor}}', '\\{{school}}', '{{count}}', '{{flag}}', '{{list}}'];
    const values = ['', ' ', 'Hartmoor Primary', ' padded ', 'a & <b>', 0, 3, true, false, null, undefined, ['a', 'b'], { x: 1 }];
    const failures: string[] = [];
    for (let t = 0; t < 200; t++) {
      const source = Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(pieces)).join('');
      const render = plain(source);
      expect(render, source).toBeDefined();
      const expected = handlebars(source);
      for (let r = 0; r < 10; r++) {
        const data: Record<string, unknown> = {};
        for (const key of ['school', 'area', 'first name', 'count', 'flag', 'list', 'constructor']) if (random() < 0.8) data[key] = pick(values);
        // Handlebars adds two numbers or booleans that start a template side by side (see below).
        const asText = Object.fromEntries(Object.entries(data).map(([key, v]) => [key, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]));
        if (render!(data) !== expected(asText)) failures.push(`${JSON.stringify(source)} with ${JSON.stringify(data)}: ${JSON.stringify(render!(data))} ≠ ${JSON.stringify(expected(asText))}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('writes two numbers side by side as text, where Handlebars adds them', () => {
    expect(handlebars('{{a}}{{b}}')({ a: 1, b: 2 })).toBe('3');
    expect(plain('{{a}}{{b}}')?.({ a: 1, b: 2 })).toBe('12');
  });

  it('leaves to Handlebars anything beyond text and plain values', () => {
    for (const source of ['{{#if a}}x{{/if}}', '{{upper a}}', '{{upper}}', '{{default a "b"}}', '{{a.b}}', '{{../a}}', '{{@root.a}}', '{{this}}', '{{{a}}} {{lookup a "b"}}', '{{> part}}']) {
      expect(plain(source), source).toBeUndefined();
    }
    expect(plain('Statement to {{school}}, {{{area}}}')?.({ school: 'A & B', area: '<i>' })).toBe('Statement to A & B, <i>');
  });
});
