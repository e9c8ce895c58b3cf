import { describe, expect, it } from 'vitest';
import { HELPER_NAMES, TEMPLATE_HELPERS, createHandlebars, formatDate } from '../../src/core/helpers.js';

const render = (template: string, data: Record<string, unknown> = {}): string => createHandlebars().compile(template)(data);

describe('helpers', () => {
  it('exports the helper names, including Handlebars built-ins', () => {
    expect([...TEMPLATE_HELPERS]).toEqual(['eq', 'default', 'formatDate', 'upper', 'lower']);
    for (const name of ['eq', 'default', 'formatDate', 'if', 'each', 'with', 'unless', 'lookup']) expect(HELPER_NAMES.has(name)).toBe(true);
  });

  it('eq compares values, and works as a sub-expression in #if', () => {
    const t = '{{#if (eq language "cy")}}Bore da{{else}}Good morning{{/if}}';
    expect(render(t, { language: 'cy' })).toBe('Bore da');
    expect(render(t, { language: 'en' })).toBe('Good morning');
    expect(render(t, {})).toBe('Good morning');
    expect(render('{{#if (eq count 3)}}three{{/if}}', { count: '3' })).toBe('three');
  });

  it('default falls back on missing, empty and blank values only', () => {
    const t = '{{default liaison "the team"}}';
    expect(render(t, { liaison: 'Sam Okafor' })).toBe('Sam Okafor');
    expect(render(t, { liaison: '' })).toBe('the team');
    expect(render(t, { liaison: '   ' })).toBe('the team');
    expect(render(t, {})).toBe('the team');
    expect(render(t, { liaison: 0 })).toBe('0');
  });

  it('default output is still HTML-escaped', () => {
    expect(render('{{default name "A & B"}}', {})).toBe('A &amp; B');
  });

  it('formatDate writes British dates without reading the clock', () => {
    expect(render('{{formatDate d}}', { d: '2027-03-07' })).toBe('7 March 2027');
    expect(render('{{formatDate d "long"}}', { d: '2027-03-07T09:30:00Z' })).toBe('7 March 2027');
    expect(render('{{formatDate d "short"}}', { d: '2027-03-07' })).toBe('07/03/2027');
    expect(render('{{formatDate d "iso"}}', { d: '07/03/2027' })).toBe('2027-03-07');
    expect(formatDate(new Date(Date.UTC(2026, 11, 31)), 'long')).toBe('31 December 2026');
  });

  it('formatDate leaves what it cannot read unchanged', () => {
    expect(formatDate('next Tuesday')).toBe('next Tuesday');
    expect(formatDate('31/02/2027')).toBe('31/02/2027');
    expect(formatDate(undefined)).toBe('');
  });

  it('upper and lower', () => {
    expect(render('{{upper a}} {{lower b}}', { a: 'Hartmoor', b: 'LOUD' })).toBe('HARTMOOR loud');
    expect(render('{{upper missing}}', {})).toBe('');
  });

  it('each instance is isolated from the global Handlebars', async () => {
    const { default: Handlebars } = await import('handlebars');
    createHandlebars();
    expect(Handlebars.helpers['formatDate']).toBeUndefined();
  });
});
