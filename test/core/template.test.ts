import { describe, expect, it } from 'vitest';
import { body, compile, compileOk, message, section } from './fixtures.js';

const data = { school_name: 'Hartmoor Primary', contact_name: 'Dana Reyes', email: 'head@hartmoor.example.org' };

describe('values in MJML', () => {
  it('fills values in mj-text, HTML-escaped', async () => {
    const t = await compileOk({ main: message(section('<mj-text>Dear {{contact_name}},</mj-text>')) });
    const { html } = t.render({ ...data, contact_name: 'Ann & <Bob> "Q"' });
    expect(html).toContain('Dear Ann &amp; &lt;Bob&gt; &quot;Q&quot;,');
    expect(html).not.toContain('<Bob>');
  });

  it('writes {{{raw}}} values as HTML', async () => {
    const t = await compileOk({ main: message(section('<mj-text>{{{note_html}}}</mj-text>')) });
    expect(t.render({ note_html: '<b>Closed</b> today' }).html).toContain('<b>Closed</b> today');
  });

  it('fills mj-button href and mj-image src/alt', async () => {
    const t = await compileOk({
      main: message(
        section('<mj-button href="https://example.org/s/{{school_id}}?e={{email}}">Open</mj-button><mj-image src="https://example.org/{{logo}}" alt="{{school_name}} logo" />'),
      ),
    });
    const { html } = t.render({ ...data, school_id: '42', logo: 'crest.png' });
    expect(html).toContain('href="https://example.org/s/42?e=head@hartmoor.example.org"');
    expect(html).toContain('src="https://example.org/crest.png"');
    expect(html).toContain('alt="Hartmoor Primary logo"');
  });

  it('escapes a value that tries to leave an attribute', async () => {
    const t = await compileOk({ main: message(section('<mj-button href="https://example.org/?e={{email}}">Open</mj-button>')) });
    const { html } = t.render({ email: 'x" onclick="alert(1)' });
    expect(html).toContain('href="https://example.org/?e=x&quot; onclick&#x3D;&quot;alert(1)"');
  });

  it('runs {{#if}} and {{#each}} inside mj-text', async () => {
    const t = await compileOk({
      main: message(section('<mj-text>{{#if liaison}}<p>Liaison: {{liaison}}</p>{{else}}<p>No liaison</p>{{/if}}<ul>{{#each items}}<li>{{this}} ({{@index}})</li>{{/each}}</ul></mj-text>')),
    });
    const yes = body(t.render({ liaison: 'Sam', items: ['a', 'b'] }).html);
    expect(yes).toContain('<p>Liaison: Sam</p>');
    expect(yes).toContain('<li>a (0)</li><li>b (1)</li>');
    const no = body(t.render({ liaison: '', items: [] }).html);
    expect(no).toContain('<p>No liaison</p>');
    expect(no).not.toContain('<li>');
  });
});

describe('blocks around whole sections', () => {
  const main = message(
    [
      section('<mj-text>Always here</mj-text>'),
      '    {{#if liaison_name}}',
      section('<mj-text>Your liaison is {{liaison_name}}</mj-text>'),
      '    {{else}}',
      section('<mj-text>Call the front desk</mj-text>'),
      '    {{/if}}',
      section('<mj-text>Footer</mj-text>'),
    ].join('\n'),
  );

  it('shows the section when the value is present, and not the else branch', async () => {
    const html = body((await compileOk({ main })).render({ liaison_name: 'Sam Okafor' }).html);
    expect(html).toContain('Your liaison is Sam Okafor');
    expect(html).not.toContain('Call the front desk');
    expect(html).toContain('Always here');
    expect(html).toContain('Footer');
  });

  it('removes the whole section when the value is blank, leaving balanced HTML', async () => {
    const t = await compileOk({ main });
    const shown = body(t.render({ liaison_name: 'Sam' }).html);
    const hidden = body(t.render({ liaison_name: '' }).html);
    expect(hidden).not.toContain('Your liaison');
    expect(hidden).toContain('Call the front desk');
    const count = (html: string, re: RegExp) => html.match(re)?.length ?? 0;
    for (const tag of [/<table\b/g, /<\/table>/g, /<div\b/g, /<\/div>/g]) expect(count(hidden, tag)).toBe(count(shown, tag));
    expect(count(hidden, /<table\b/g)).toBe(count(hidden, /<\/table>/g));
  });

  it('repeats a section with {{#each}} between sections', async () => {
    const t = await compileOk({ main: message(['    {{#each updates}}', section('<mj-text>Update: {{title}}</mj-text>'), '    {{/each}}'].join('\n')) });
    const html = t.render({ updates: [{ title: 'One' }, { title: 'Two' }] }).html;
    expect(html).toContain('Update: One');
    expect(html).toContain('Update: Two');
    expect(t.variables.map((v) => v.name)).toEqual(['school_name', 'school_name', 'updates']);
  });

  it('works for blocks between columns and between elements of a column', async () => {
    const t = await compileOk({
      main: message(
        '    <mj-section>\n      {{#if a}}<mj-column><mj-text>Column A</mj-text></mj-column>{{/if}}\n      <mj-column>\n        {{#if b}}\n        <mj-text>Text B</mj-text>\n        {{/if}}\n        <mj-text>Text C</mj-text>\n      </mj-column>\n    </mj-section>',
      ),
    });
    const on = t.render({ a: 'y', b: 'y' }).html;
    expect(on).toContain('Column A');
    expect(on).toContain('Text B');
    const off = t.render({}).html;
    expect(off).not.toContain('Column A');
    expect(off).not.toContain('Text B');
    expect(off).toContain('Text C');
  });
});

describe('partials', () => {
  it('expands partials holding whole sections, nested, and keeps their blocks working', async () => {
    const t = await compileOk({
      main: message(['    {{> header}}', section('<mj-text>Body</mj-text>'), '    {{#if officer}}', '    {{> contact}}', '    {{/if}}'].join('\n')),
      partials: {
        header: section('<mj-text>Header for {{school_name}}</mj-text>') + '\n',
        contact: '<mj-section>\n  <mj-column>\n    {{> officer_line}}\n  </mj-column>\n</mj-section>\n',
        officer_line: '<mj-text>Your officer: {{officer}}</mj-text>\n',
      },
    });
    const html = t.render({ school_name: 'Hartmoor', officer: 'PC Lee' }).html;
    expect(html).toContain('Header for Hartmoor');
    expect(html).toContain('Your officer: PC Lee');
    expect(t.render({ school_name: 'Hartmoor' }).html).not.toContain('Your officer');
  });

  it('reports a missing partial at the line and column of its {{> name}}', async () => {
    const { template, diagnostics } = await compile({ main: message(['    {{> header}}', '      {{> footr}}'].join('\n')), partials: { header: section('<mj-text>H</mj-text>'), footer: 'x' } });
    expect(template).toBeUndefined();
    expect(diagnostics).toContainEqual(expect.objectContaining({ file: 'message.mjml', line: 8, column: 7, severity: 'error', message: 'missing partial "footr"', hint: 'did you mean {{> footer}}?' }));
  });

  it('reports a missing partial inside a partial at the partial file and line', async () => {
    const { diagnostics } = await compile({ main: message('    {{> outer}}'), partials: { outer: '<mj-section>\n  <mj-column>\n    {{> inner}}\n  </mj-column>\n</mj-section>' } });
    expect(diagnostics).toContainEqual(expect.objectContaining({ file: 'partials/outer.mjml', line: 3, column: 5, message: 'missing partial "inner"' }));
  });

  it('stops a partial cycle with an error', async () => {
    const { template, diagnostics } = await compile({ main: message('    {{> a}}'), partials: { a: '{{> b}}', b: '\n{{> a}}' } });
    expect(template).toBeUndefined();
    expect(diagnostics).toContainEqual(expect.objectContaining({ file: 'partials/b.mjml', line: 2, column: 1, message: 'partial "a" includes itself (a → b → a)' }));
  });

  it('refuses partial arguments and dynamic partials', async () => {
    const { diagnostics } = await compile({ main: message('    {{> header title="x"}}\n    {{> (which)}}'), partials: { header: '' } });
    expect(diagnostics.map((d) => [d.line, d.message])).toEqual([
      [7, 'arguments to a partial are not supported ({{> header …}})'],
      [8, 'dynamic partials ({{> (expression)}}) are not supported'],
    ]);
  });
});

describe('variables', () => {
  it('lists data variables with the real file line (after front matter) and column', async () => {
    const t = await compileOk({
      main: message(
        [
          section('<mj-text>Dear {{contact_name}}, {{formatDate meeting_date "long"}}</mj-text>'),
          '    {{#if (eq language "cy")}}',
          section('<mj-text>{{#each items as |item|}}{{item.name}} {{this}} {{@index}} {{../region}}{{/each}}</mj-text>'),
          '    {{/if}}',
          section('<mj-text>{{default liaison "the team"}} {{@root.area}} {{#with officer}}{{name}}{{/with}}</mj-text>'),
        ].join('\n'),
      ),
      partials: {},
    });
    const uses = t.variables.map((v) => `${v.name} ${v.file}:${v.line}:${v.column}${v.block ? ' block' : ''}${v.helper ? ` ${v.helper}` : ''}`);
    expect(uses).toEqual([
      'school_name message.mjml:2:24',
      'school_name message.mjml:3:32',
      'contact_name message.mjml:7:44',
      'meeting_date message.mjml:7:73 formatDate',
      'language message.mjml:8:15 eq',
      'items message.mjml:9:45 block each',
      'region message.mjml:9:98',
      'liaison message.mjml:11:47 default',
      'area message.mjml:11:70',
      'officer message.mjml:11:91 block with',
    ]);
  });

  it('lists variables of partials at their own file and line, and of the text part', async () => {
    const t = await compileOk({
      main: message('    {{> footer}}'),
      partials: { footer: '<mj-section>\n  <mj-column>\n    <mj-text>{{officer_phone}}</mj-text>\n  </mj-column>\n</mj-section>\n' },
      textTemplate: { path: 'message.txt.hbs', text: 'Hello {{contact_name}}\n' },
    });
    expect(t.variables).toContainEqual({ name: 'officer_phone', file: 'partials/footer.mjml', line: 3, column: 16, block: false });
    expect(t.variables).toContainEqual({ name: 'contact_name', file: 'message.txt.hbs', line: 1, column: 9, block: false });
  });

  it('reports unknown helpers with a suggestion', async () => {
    const { diagnostics } = await compile({ main: message(section('<mj-text>{{formatdate when "long"}}</mj-text>')) });
    expect(diagnostics).toContainEqual(expect.objectContaining({ line: 7, column: 39, message: 'unknown helper "formatdate"', hint: 'did you mean "formatDate"?' }));
  });
});

describe('Handlebars syntax errors', () => {
  it('reports line and column in the real file', async () => {
    const { template, diagnostics } = await compile({ main: message(section('<mj-text>Dear {{contact_name}</mj-text>')) });
    expect(template).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ file: 'message.mjml', line: 7, severity: 'error' });
    // `Dear {{contact_name}` starts at column 42; the parser stops at the single }.
    expect(diagnostics[0]!.column).toBeGreaterThanOrEqual(44);
    expect(diagnostics[0]!.column).toBeLessThanOrEqual(58);
  });

  it('names an unclosed block where it opens', async () => {
    const { diagnostics } = await compile({ main: message(['    {{#if liaison}}', section('<mj-text>x</mj-text>')].join('\n')) });
    expect(diagnostics).toEqual([expect.objectContaining({ line: 7, column: 5, message: 'Handlebars: {{#if}} is never closed', hint: 'add {{/if}} where the block should end' })]);
  });

  it('reports a mismatched closing tag', async () => {
    const { diagnostics } = await compile({ main: message(section('<mj-text>{{#if a}}x{{/each}}</mj-text>')) });
    expect(diagnostics).toEqual([expect.objectContaining({ line: 7, column: 40, message: 'Handlebars: {{/each}} does not close {{#if}}' })]);
  });

  it('reports a syntax error in a partial at the partial file', async () => {
    const { diagnostics } = await compile({ main: message('    {{> p}}'), partials: { p: '<mj-section>\n  {{#if}}\n</mj-section>' } });
    expect(diagnostics[0]).toMatchObject({ file: 'partials/p.mjml', line: 2 });
  });
});

describe('MJML errors', () => {
  it('maps MJML errors to the line of the message file', async () => {
    const { template, diagnostics } = await compile({ main: message(['    <mj-section><mj-column>', '      <mj-text colour="red">x</mj-text>', '    </mj-column></mj-section>'].join('\n')) });
    expect(template).toBeUndefined();
    expect(diagnostics).toEqual([expect.objectContaining({ file: 'message.mjml', line: 8, severity: 'error', message: 'MJML <mj-text>: Attribute colour is illegal' })]);
  });

  it('maps MJML errors inside a partial to the partial file and line', async () => {
    const { diagnostics } = await compile({
      main: message([section('<mj-text>a</mj-text>'), '    {{> panel}}'].join('\n')),
      partials: { panel: '<mj-section>\n  <mj-column>\n    <mj-txt>oops</mj-txt>\n  </mj-column>\n</mj-section>\n' },
    });
    expect(diagnostics).toEqual([expect.objectContaining({ file: 'partials/panel.mjml', line: 3, message: "MJML <mj-txt>: Element mj-txt doesn't exist or is not registered" })]);
  });

  it('reports a message without <mjml> root', async () => {
    const { diagnostics } = await compile({ main: '---\nsubject: x\n---\n<mj-body></mj-body>\n' });
    expect(diagnostics).toEqual([expect.objectContaining({ file: 'message.mjml', line: 4, severity: 'error' })]);
    expect(diagnostics[0]!.message).toContain('Malformed MJML');
  });
});

describe('the guard against Handlebars MJML would drop or mangle', () => {
  it('refuses an expression in a typed attribute', async () => {
    const { template, diagnostics } = await compile({ main: message(section('<mj-text color="{{brand_colour}}">x</mj-text>')) });
    expect(template).toBeUndefined();
    expect(diagnostics).toEqual([
      expect.objectContaining({ file: 'message.mjml', line: 7, column: 44, message: expect.stringContaining('{{brand_colour}} in the color attribute of <mj-text> is not supported') as string }),
    ]);
  });

  it('refuses a double quote inside an attribute expression', async () => {
    const { diagnostics } = await compile({ main: message(section('<mj-button href="{{formatDate d "iso"}}">x</mj-button>')) });
    expect(diagnostics).toEqual([expect.objectContaining({ line: 7, column: 45, message: expect.stringContaining('uses " inside a href="…" attribute') as string })]);
    expect(diagnostics[0]!.hint).toContain("'long'");
  });

  it('accepts single quotes inside an attribute expression', async () => {
    const t = await compileOk({ main: message(section(`<mj-button href="https://example.org/{{formatDate d 'iso'}}">x</mj-button>`)) });
    expect(t.render({ d: '07/03/2027' }).html).toContain('href="https://example.org/2027-03-07"');
  });

  it('refuses a plain value written between sections', async () => {
    const { diagnostics } = await compile({ main: message([section('<mj-text>a</mj-text>'), '    {{school_name}}'].join('\n')) });
    expect(diagnostics).toEqual([expect.objectContaining({ line: 8, column: 5, message: '{{school_name}} stands between MJML elements, where MJML drops it' })]);
  });

  it('catches a value MJML mangles in an inlined style', async () => {
    const main = message(section('<mj-text css-class="x">a</mj-text>')).replace('<mj-body>', '<mj-head><mj-style inline="inline">.x { color: {{c}}; }</mj-style></mj-head>\n  <mj-body>');
    const { diagnostics } = await compile({ main });
    expect(diagnostics).toEqual([expect.objectContaining({ line: 6, column: 50, severity: 'error', message: '{{c}} in <mj-style> does not survive MJML (it is dropped or changed)' })]);
  });

  it('refuses blocks inside mj-head and mj-include', async () => {
    const main = message('    <mj-include path="./x.mjml" />').replace('<mj-body>', '<mj-head>{{#if a}}<mj-title>x</mj-title>{{/if}}</mj-head>\n  <mj-body>');
    const messages = (await compile({ main })).diagnostics.map((d) => d.message);
    expect(messages).toContain('{{#if a}} inside <mj-head> is not supported');
    expect(messages).toContain('<mj-include> is not supported');
  });
});

describe('front matter and subject', () => {
  it('renders the subject without HTML escaping and on one line', async () => {
    const t = await compileOk({ main: message(section('<mj-text>x</mj-text>')) });
    expect(t.render({ school_name: 'St Mary & St John <Infants>' }).subject).toBe('Update for St Mary & St John <Infants>');
    expect(t.render({ school_name: 'A\r\nBcc: evil@example.com' }).subject).toBe('Update for A Bcc: evil@example.com');
  });

  it('injects the preheader as a hidden, escaped preview and exposes it as text', async () => {
    const t = await compileOk({ main: message(section('<mj-text>x</mj-text>')) });
    const out = t.render({ school_name: 'A & B' });
    expect(out.preheader).toBe('What changes for A & B');
    expect(out.html).toMatch(/<div style="display:none;[^"]*">What changes for A &amp; B<\/div>/);
    expect(out.text).not.toContain('What changes');
  });

  it('falls back to the bulletin.json subject, else reports a missing subject', async () => {
    const main = message(section('<mj-text>x</mj-text>'), 'preheader: hi');
    expect((await compileOk({ main, configSubject: 'From config {{school_name}}' })).render({ school_name: 'H' }).subject).toBe('From config H');
    const { diagnostics } = await compile({ main });
    expect(diagnostics).toEqual([expect.objectContaining({ file: 'message.mjml', line: 1, message: 'no subject: add `subject:` to the front matter of message.mjml' })]);
  });

  it('front matter takes precedence over bulletin.json', async () => {
    const t = await compileOk({ main: message(section('<mj-text>x</mj-text>')), configSubject: 'config' });
    expect(t.render({ school_name: 'H' }).subject).toBe('Update for H');
  });

  it('reports unknown front matter keys at their line', async () => {
    const { diagnostics } = await compile({ main: message(section('<mj-text>x</mj-text>'), 'subject: a\nfrom: me@example.org') });
    expect(diagnostics).toEqual([expect.objectContaining({ file: 'message.mjml', line: 3, severity: 'error', message: 'unknown front matter key "from"' })]);
  });

  it('explains an unquoted {{…}} subject', async () => {
    const { diagnostics } = await compile({ main: message(section('<mj-text>x</mj-text>'), 'subject: {{title}}') });
    expect(diagnostics).toEqual([expect.objectContaining({ line: 2, message: '`subject:` must be text' })]);
  });

  it('reports variables and syntax errors of the subject at the front matter line', async () => {
    const ok = await compileOk({ main: message(section('<mj-text>x</mj-text>'), 'subject: "Hello {{name}}"') });
    expect(ok.variables[0]).toEqual({ name: 'name', file: 'message.mjml', line: 2, column: 19, block: false });
    const { diagnostics } = await compile({ main: message(section('<mj-text>x</mj-text>'), 'subject: "Hello {{name"') });
    expect(diagnostics[0]).toMatchObject({ file: 'message.mjml', line: 2, severity: 'error' });
  });
});

describe('language variants', () => {
  const variants = {
    cy: message(section('<mj-text>Annwyl {{contact_name}}</mj-text>'), 'subject: "Diweddariad i {{school_name}}"'),
  };

  it('renders the variant for its language and the main message otherwise', async () => {
    const t = await compileOk({ main: message(section('<mj-text>Dear {{contact_name}}</mj-text>')), variants });
    expect(t.languages).toEqual(['cy']);
    const cy = t.render(data, 'cy');
    expect(cy.html).toContain('Annwyl Dana Reyes');
    expect(cy.subject).toBe('Diweddariad i Hartmoor Primary');
    expect(t.render(data, 'CY').html).toContain('Annwyl');
    expect(t.render(data, 'fr').html).toContain('Dear Dana Reyes');
    expect(t.render(data).html).toContain('Dear Dana Reyes');
    expect(t.render(data, 'cy').text).toContain('Annwyl Dana Reyes');
  });

  it('uses the main subject when a variant has none, and reports errors in the variant file', async () => {
    const t = await compileOk({ main: message(section('<mj-text>x</mj-text>')), variants: { cy: message(section('<mj-text>y</mj-text>'), 'preheader: Helo') } });
    expect(t.render(data, 'cy').subject).toBe('Update for Hartmoor Primary');
    const { diagnostics } = await compile({ main: message(section('<mj-text>x</mj-text>')), variants: { cy: message(section('<mj-text>{{#if}}</mj-text>')) } });
    expect(diagnostics[0]).toMatchObject({ file: 'message.cy.mjml', line: 7 });
  });
});
