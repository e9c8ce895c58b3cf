import { describe, expect, it } from 'vitest';
import { createHandlebars } from '../../src/core/helpers.js';
import { MappedSource } from '../../src/core/mapped-source.js';
import { describeStructure } from '../../src/core/message-structure.js';
import type { CompiledTemplate } from '../../src/core/template.js';
import { namedRecipients, VersionGrouper, type MessageVersion } from '../../src/core/versions.js';
import { compileOk, message, section } from './fixtures.js';

interface Row {
  email: string;
  language?: string;
  attachments?: string[];
  [column: string]: string | string[] | undefined;
}

/** Group rows the way preview does: branches from the row's values, no render. */
function group(template: CompiledTemplate, rows: Row[], columns: string[]): MessageVersion[] {
  const grouper = new VersionGrouper((language) => template.structure(language), columns);
  rows.forEach((row, seq) => {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(row)) if (typeof v === 'string') data[k] = v;
    const language = row.language ?? 'en';
    grouper.add({ seq, line: seq + 2, email: row.email, language, branches: template.structure(language === 'en' ? undefined : language).branchesOf(data), attachments: row.attachments ?? [], data });
  });
  return grouper.finish();
}

const counts = (versions: MessageVersion[]) => versions.map((v) => v.count);

describe('versions of a message', () => {
  it('groups by nested conditions: an inner block matters only where its outer block is shown', async () => {
    const t = await compileOk({
      main: message(
        section(
          '<mj-text>Dear {{contact_name}},{{#if liaison_name}}<p>Your liaison is {{liaison_name}}.{{#if liaison_phone}} Call {{liaison_phone}}.{{/if}}</p>{{else}}<p>Call the front desk.</p>{{/if}}{{#unless patrols}}<p>No patrols.</p>{{/unless}}</mj-text>',
        ),
      ),
    });
    const rows: Row[] = [
      { email: 'a@example.org', contact_name: 'Ann', liaison_name: 'PC Hale', liaison_phone: '01632 960001', patrols: '' },
      { email: 'b@example.org', contact_name: 'Bo', liaison_name: 'PC Hale', liaison_phone: '', patrols: '' },
      { email: 'c@example.org', contact_name: 'Cy', liaison_name: '', liaison_phone: '01632 960002', patrols: '' },
      { email: 'd@example.org', contact_name: 'Di', liaison_name: '', liaison_phone: '', patrols: '' },
      { email: 'e@example.org', contact_name: 'Ed', liaison_name: 'PC Stone', liaison_phone: '01632 960003', patrols: 'yes' },
      { email: 'f@example.org', contact_name: 'Flo', liaison_name: 'PC Stone', liaison_phone: '01632 960004', patrols: '' },
    ];
    const versions = group(t, rows, ['contact_name', 'liaison_name', 'liaison_phone']);
    // c and d differ only in a phone number that is never shown: one version.
    expect(counts(versions)).toEqual([2, 2, 1, 1]);
    expect(versions.reduce((n, v) => n + v.count, 0)).toBe(rows.length);
    const [common, noLiaison] = versions;
    expect(common!.lines).toEqual([2, 7]);
    expect(noLiaison!.members).toEqual([2, 3]);
    expect(noLiaison!.differences).toEqual([
      { what: '{{#if liaison_name}} (message.mjml:7)', here: 'else', common: 'shown' },
      { what: '{{#if liaison_phone}} (message.mjml:7)', here: 'not reached', common: 'shown' },
    ]);
    const withoutPhone = versions.find((v) => v.example.email === 'b@example.org')!;
    expect(withoutPhone.blocks.map((b) => `${b.opening} ${b.outcome}`)).toEqual(['{{#if liaison_name}} shown', '{{#if liaison_phone}} left out', '{{#unless patrols}} shown']);
    expect(versions.find((v) => v.example.email === 'e@example.org')!.differences).toEqual([{ what: '{{#unless patrols}} (message.mjml:7)', here: 'left out', common: 'shown' }]);
  });

  it('tells an empty {{#each}} list from a full one', async () => {
    const t = await compileOk({ main: message(section('<mj-text><ul>{{#each actions}}<li>{{this}}</li>{{else}}<li>Nothing to do.</li>{{/each}}</ul></mj-text>')) });
    const structure = t.structure();
    const branches = (actions: unknown) => structure.branchesOf({ actions });
    expect(branches(['Check the gate', 'Brief staff'])).toBe('1');
    expect(branches([])).toBe('0');
    // A CSV value is text, and Handlebars never iterates text.
    expect(branches('Check the gate')).toBe('0');
    expect(branches({ first: 'x' })).toBe('1');
    const lines = (actions: unknown) => t.render({ actions }).text.includes('Nothing to do.');
    expect([lines(['x']), lines([]), lines('x')]).toEqual([false, true, true]);
    expect(structure.blocks.map((b) => b.opening)).toEqual(['{{#each actions}}']);
  });

  it('keeps language variants apart, with their own blocks', async () => {
    const t = await compileOk({
      main: message(section('<mj-text>{{#if patrols}}Extra patrols this week.{{/if}}</mj-text>')),
      variants: { cy: message(section('<mj-text>{{#if patrols}}Patrolau ychwanegol.{{/if}} Annwyl {{contact_name}}</mj-text>')) },
    });
    const versions = group(t, [
      { email: 'a@example.org', patrols: 'yes' },
      { email: 'b@example.org', patrols: '' },
      { email: 'c@example.org', patrols: 'yes', language: 'cy' },
      { email: 'd@example.org', patrols: 'yes' },
    ], ['patrols']);
    expect(versions.map((v) => `${v.language}:${v.count}`)).toEqual(['en:2', 'en:1', 'cy:1']);
    const welsh = versions[2]!;
    expect(welsh.blocks.map((b) => b.file)).toEqual(['message.cy.mjml']);
    // The variant's {{#if patrols}} is matched with the main message's: shown in both.
    expect(welsh.differences).toEqual([{ what: 'language', here: 'cy', common: 'en' }]);
    const quiet = group(t, [
      { email: 'a@example.org', patrols: 'yes' },
      { email: 'b@example.org', patrols: 'yes' },
      { email: 'c@example.org', patrols: '', language: 'cy' },
    ], ['patrols']);
    expect(quiet[1]!.differences).toEqual([
      { what: 'language', here: 'cy', common: 'en' },
      { what: '{{#if patrols}} (message.cy.mjml:7)', here: 'left out', common: 'shown' },
    ]);
  });

  it('tells attachment sets apart, and the partials each version uses', async () => {
    const t = await compileOk({
      main: message(['    {{> header}}', '    {{#if liaison_name}}', '    {{> liaison}}', '    {{/if}}'].join('\n')),
      partials: { header: section('<mj-text>Hartmoor Community Safety</mj-text>'), liaison: section('<mj-text>{{#if liaison_phone}}Call {{liaison_phone}}{{/if}}</mj-text>') },
    });
    const versions = group(t, [
      { email: 'a@example.org', liaison_name: 'PC Hale', liaison_phone: '01632 960001', attachments: ['map.pdf'] },
      { email: 'b@example.org', liaison_name: 'PC Hale', liaison_phone: '01632 960002', attachments: ['map.pdf', 'rota.pdf'] },
      { email: 'c@example.org', liaison_name: '', attachments: ['map.pdf'] },
      { email: 'd@example.org', liaison_name: 'PC Stone', liaison_phone: '01632 960003', attachments: ['map.pdf'] },
    ], ['liaison_name', 'liaison_phone']);
    expect(counts(versions)).toEqual([2, 1, 1]);
    expect(versions[0]!.partials).toEqual(['header', 'liaison']);
    const rota = versions.find((v) => v.example.email === 'b@example.org')!;
    expect(rota.differences).toEqual([{ what: 'attachments', here: 'map.pdf, rota.pdf', common: 'map.pdf' }]);
    const none = versions.find((v) => v.example.email === 'c@example.org')!;
    expect(none.partials).toEqual(['header']);
    // The block inside the partial is named at the partial's own file and line.
    expect(none.differences).toContainEqual({ what: '{{#if liaison_phone}} (partials/liaison.mjml:1)', here: 'not reached', common: 'shown' });
    expect(none.differences).toContainEqual({ what: 'partials', here: 'header', common: 'header, liaison' });
  });

  it('counts the subject\'s blocks and helpers like eq in conditions', async () => {
    const t = await compileOk({
      main: message(section('<mj-text>{{#if (eq area "North")}}Northern office.{{/if}}</mj-text>'), 'subject: "{{#if urgent}}URGENT: {{/if}}Update for {{school_name}}"'),
    });
    const versions = group(t, [
      { email: 'a@example.org', area: 'North', urgent: '', school_name: 'Ash' },
      { email: 'b@example.org', area: 'South', urgent: '', school_name: 'Birch' },
      { email: 'c@example.org', area: 'North', urgent: 'y', school_name: 'Cedar Primary School' },
    ], ['school_name']);
    expect(counts(versions)).toEqual([1, 1, 1]);
    const urgent = versions.find((v) => v.example.email === 'c@example.org')!;
    expect(urgent.blocks[0]).toMatchObject({ part: 'subject', opening: '{{#if urgent}}', outcome: 'shown' });
    expect(versions.find((v) => v.example.email === 'b@example.org')!.blocks.map((b) => b.opening)).toContain('{{#if (eq area "North")}}');
  });

  it('names the extremes: the longest value per column, and blank optional values', async () => {
    const t = await compileOk({ main: message(section('<mj-text>Dear {{contact_name}}, {{default liaison_name "the schools team"}} will call.</mj-text>')) });
    const versions = group(t, [
      { email: 'a@example.org', contact_name: 'Ann', liaison_name: 'PC Hale' },
      { email: 'b@example.org', contact_name: 'Bartholomew Featherstonehaugh', liaison_name: '' },
      { email: 'c@example.org', contact_name: 'Cy', liaison_name: 'PC Stone-Whitfield' },
      { email: 'd@example.org', contact_name: 'Di', liaison_name: '' },
    ], ['contact_name', 'liaison_name']);
    expect(versions).toHaveLength(1);
    expect(versions[0]!.extremes).toEqual([
      { column: 'contact_name', kind: 'longest', recipient: { seq: 1, line: 3, email: 'b@example.org' }, length: 29 },
      { column: 'liaison_name', kind: 'longest', recipient: { seq: 2, line: 4, email: 'c@example.org' }, length: 18 },
      { column: 'liaison_name', kind: 'empty', recipient: { seq: 1, line: 3, email: 'b@example.org' }, count: 2 },
    ]);
    expect(namedRecipients(versions).map((r) => r.seq)).toEqual([0, 1, 2]);
  });
});

describe('a block\'s branch, as Handlebars takes it', () => {
  const hbs = createHandlebars();
  const templates = [
    '{{#if x}}1{{else}}0{{/if}}',
    '{{#unless x}}1{{else}}0{{/unless}}',
    '{{#with x}}1{{else}}0{{/with}}',
    '{{#each x}}1{{else}}0{{/each}}',
    '{{#x}}1{{else}}0{{/x}}',
    '{{#if x includeZero=true}}1{{else}}0{{/if}}',
    '{{#if (eq x "0")}}1{{else}}0{{/if}}',
    '{{#if (default x "")}}1{{else}}0{{/if}}',
    '{{#if (lookup x "a")}}1{{else}}0{{/if}}',
    '{{#if @root.x}}1{{else}}0{{/if}}',
    '{{#if x.a}}1{{else}}0{{/if}}',
  ];
  const values: unknown[] = ['', ' ', '0', 'no', 'yes', 0, 1, true, false, null, undefined, [], ['a'], {}, { a: '' }, { a: 'b' }];
  for (const text of templates) {
    it(`agrees with Handlebars on ${text}`, () => {
      const render = hbs.compile(text, { strict: false });
      const structure = describeStructure(hbs, [{ part: 'message', ast: hbs.parse(text), source: MappedSource.fromFile(text, 'message.mjml') }], new Map());
      for (const x of values) {
        // `{{#x}}` over an array repeats its body: what matters is that it runs at all.
        const expected = render({ x }).startsWith('1') ? '1' : '0';
        expect([x, structure.branchesOf({ x })]).toEqual([x, expected]);
      }
    });
  }
});
