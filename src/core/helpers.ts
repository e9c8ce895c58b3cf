import Handlebars from 'handlebars';

/**
 * The Handlebars helpers a bulletin template may use. Deliberately few: each one is
 * documented in docs/template-language.md and none reads the clock, the disk or the network,
 * so a message renders the same way in preview and in send.
 */
export const TEMPLATE_HELPERS = ['eq', 'default', 'formatDate', 'upper', 'lower'] as const;

/** Handlebars' own helpers, which a template may also use. */
export const BUILTIN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup', 'log'] as const;

/** Every name that is a helper rather than a data variable. */
export const HELPER_NAMES: ReadonlySet<string> = new Set<string>([...TEMPLATE_HELPERS, ...BUILTIN_HELPERS]);

export type HandlebarsInstance = typeof Handlebars;

/**
 * Compile options naming every helper a template can call (findVariables reports any other),
 * so Handlebars reads a `{{name}}` straight from the data instead of looking for a helper of
 * that name first, at each render. `more`: helpers bulletin registers for its own templates.
 */
export function knownHelpersOnly(...more: string[]): { knownHelpers: Record<string, boolean>; knownHelpersOnly: true } {
  return { knownHelpers: Object.fromEntries([...TEMPLATE_HELPERS, ...more].map((name) => [name, true])), knownHelpersOnly: true };
}

/** An isolated Handlebars environment with our helpers and nothing else registered. */
export function createHandlebars(): HandlebarsInstance {
  const hbs = Handlebars.create();
  hbs.registerHelper('eq', (...args: unknown[]) => {
    const [a, b] = params(args);
    return isPrimitive(a) && isPrimitive(b) ? String(a) === String(b) : a === b;
  });
  hbs.registerHelper('default', (...args: unknown[]) => {
    const [value, fallback] = params(args);
    return isBlank(value) ? fallback : value;
  });
  hbs.registerHelper('formatDate', (...args: unknown[]) => {
    const [value, style] = params(args);
    return formatDate(value, typeof style === 'string' ? style : 'long');
  });
  hbs.registerHelper('upper', (...args: unknown[]) => text(params(args)[0]).toUpperCase());
  hbs.registerHelper('lower', (...args: unknown[]) => text(params(args)[0]).toLowerCase());
  return hbs;
}

/** Handlebars passes its `options` object last; the helpers only want the values before it. */
function params(args: unknown[]): unknown[] {
  return args.slice(0, -1);
}

function isPrimitive(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Blank like a spreadsheet cell: missing, empty, or only spaces. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function text(value: unknown): string {
  return isPrimitive(value) ? String(value) : '';
}

export type DateStyle = 'long' | 'short' | 'iso';

// Made on first use: Intl loads ICU's locale data (~8 MB resident), which a template without
// formatDate never needs.
let dateFormats: Record<Exclude<DateStyle, 'iso'>, Intl.DateTimeFormat> | undefined;

/**
 * Format a calendar date the British way: "long" → 7 March 2027, "short" → 07/03/2027,
 * "iso" → 2027-03-07. Accepts 2027-03-07 (time part ignored), 07/03/2027 (day first, as a UK
 * spreadsheet writes it) or a Date. Anything else is returned unchanged rather than guessed,
 * so a typo shows up in the preview instead of becoming a wrong date.
 */
export function formatDate(value: unknown, style: string = 'long'): string {
  const date = parseDate(value);
  if (!date) return text(value);
  if (style === 'iso') return date.toISOString().slice(0, 10);
  dateFormats ??= {
    long: new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }),
    short: new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'UTC' }),
  };
  return (style === 'short' ? dateFormats.short : dateFormats.long).format(date);
}

function parseDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : utcDay(value.getUTCFullYear(), value.getUTCMonth() + 1, value.getUTCDate());
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(trimmed);
  if (iso) return utcDay(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const british = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(trimmed);
  if (british) return utcDay(Number(british[3]), Number(british[2]), Number(british[1]));
  return undefined;
}

/** A real calendar day at UTC midnight, or undefined for 31/02 and the like. */
function utcDay(year: number, month: number, day: number): Date | undefined {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? date : undefined;
}
