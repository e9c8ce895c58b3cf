import { z } from 'zod';
import { parseTree, findNodeAtLocation, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { closest, error, type Diagnostic } from './diagnostics.js';

const address = z
  .string()
  .min(3)
  .describe('An address, optionally with a display name: "Hartmoor Community Safety <community@example.org>".');

const rate = z
  .string()
  .regex(/^\d+(\.\d+)?\s*\/\s*(s|sec|second|m|min|minute|h|hour)$/i, 'must look like 10/sec, 600/min or 5000/hour')
  .describe('Most messages per period across all connections: "10/sec", "600/min", "5000/hour".');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors.'),
    name: z.string().min(1).optional().describe('A short name for the campaign, shown in summaries and the preview.'),
    from: address.describe('Sender shown to recipients: "Name <address@example.org>".'),
    replyTo: address.optional().describe('Where replies go, if not to the sender.'),
    subject: z
      .string()
      .optional()
      .describe('Subject line (a Handlebars template). The template front matter `subject` takes precedence.'),
    language: z
      .string()
      .default('en')
      .describe('Language of the main template; rows asking for another language get message.<lang>.mjml if it exists.'),
    template: z.string().default('message.mjml').describe('The MJML + Handlebars message, relative to the campaign folder.'),
    textTemplate: z
      .string()
      .optional()
      .describe('Hand-written plain-text part (Handlebars); default: message.txt.hbs beside the template if it exists, else derived from the HTML.'),
    partials: z.string().default('partials').describe('Folder of partials, registered by file name without extension.'),
    recipients: z.string().default('recipients.csv').describe('The recipients CSV, relative to the campaign folder.'),
    columns: z
      .strictObject({
        email: z.string().default('email').describe('Column holding the recipient address (required).'),
        name: z.string().optional().describe('Column holding the display name used in the To header.'),
        language: z.string().default('language').describe('Column picking a template variant message.<lang>.mjml.'),
        attachments: z
          .string()
          .optional()
          .describe('Column naming per-recipient files under attachments/ (several separated by ";").'),
      })
      .default({ email: 'email', language: 'language' })
      .describe('Which CSV columns play which role.'),
    required: z
      .array(z.string())
      .default([])
      .describe('Columns that must be non-blank on every row (a blank value is an error, not a warning).'),
    defaults: z
      .record(z.string(), z.string())
      .default({})
      .describe('Values for template variables the CSV does not provide, or provides blank.'),
    attachments: z
      .array(z.string())
      .default([])
      .describe('Files under the campaign folder attached to every message.'),
    unsubscribe: z
      .strictObject({
        mailto: z.string().optional().describe('Address that receives unsubscribe requests (mailto).'),
        url: z.string().optional().describe('One-click unsubscribe URL (a Handlebars template, e.g. ...?e={{email}}).'),
      })
      .optional()
      .describe('Adds List-Unsubscribe and List-Unsubscribe-Post headers.'),
    returnPath: z
      .string()
      .regex(/^[^@\s{}]*\{token\}[^@\s{}]*@[^@\s]+\.[^@\s]+$/, 'must be an address with {token} in its local part, e.g. "bounces+{token}@example.org"')
      .optional()
      .describe('VERP: the envelope sender (Return-Path) made unique per recipient, e.g. "bounces+{token}@example.org", so bounces name the recipient. Needs a server that keeps the envelope sender (Postfix and most relays do; Microsoft 365 and Google rewrite it).'),
    inbox: z
      .string()
      .optional()
      .describe('Where `bulletin inbox` reads what came back when --from is not given: a folder of .eml files, an mbox file, a Maildir, or imaps://user@host/FOLDER (the password comes from BULLETIN_IMAP_PASSWORD, never from this file; Microsoft 365 and Gmail mailboxes sign in with OAuth2, as sending does).'),
    listId: z.string().optional().describe('List-Id header value, e.g. "Schools bulletin <schools.example.org>".'),
    requireApproval: z
      .boolean()
      .default(false)
      .describe('When true, send refuses content that a reviewer has not approved with `bulletin approve`.'),
    suppress: z
      .string()
      .optional()
      .describe('CSV of addresses never to mail (first column or a column named email).'),
    send: z
      .strictObject({
        concurrency: z.number().int().min(1).max(50).default(5).describe('SMTP connections used at once.'),
        rate: rate.optional(),
        perDomain: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('Most messages in flight at once to one recipient domain (many schools share one).'),
        retries: z.number().int().min(0).max(20).default(5).describe('Tries after a temporary failure (4xx or a lost connection before the data was sent).'),
        maxConsecutiveFailures: z
          .number()
          .int()
          .min(1)
          .default(10)
          .describe('Stop the run (resumable) after this many failures in a row.'),
      })
      .default({ concurrency: 5, retries: 5, maxConsecutiveFailures: 10 })
      .describe('Delivery settings.'),
    transport: z
      .strictObject({
        provider: z
          .enum(['microsoft365', 'graph', 'google'])
          .describe('How to send when no --transport, BULLETIN_TRANSPORT or .env says otherwise: microsoft365 (SMTP with OAuth2), graph (Microsoft Graph sendMail) or google (Gmail SMTP with OAuth2). Sign-in ids and secrets go in the environment or the .env file, never here.'),
        server: z
          .string()
          .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/, 'must be a host name, optionally with :port')
          .optional()
          .describe('Another SMTP server (host:port) for microsoft365 or google, e.g. a national cloud or a test server.'),
        authorityHost: z
          .string()
          .optional()
          .describe('Microsoft sign-in host; default login.microsoftonline.com (US Government: login.microsoftonline.us; China: login.chinacloudapi.cn).'),
        graphHost: z
          .string()
          .optional()
          .describe('Microsoft Graph host; default graph.microsoft.com (US Government: graph.microsoft.us or dod-graph.microsoft.us; China: microsoftgraph.chinacloudapi.cn).'),
      })
      .optional()
      .describe('Which mail service sends the campaign, without any secret.'),
    dkim: z
      .strictObject({
        domain: z.string().describe('Signing domain (d=).'),
        selector: z.string().describe('DNS selector (s=).'),
        privateKey: z.string().describe('Path to the PEM private key file, relative to the campaign folder.'),
      })
      .optional()
      .describe('Optional DKIM signing.'),
    preview: z
      .strictObject({
        maxFiles: z
          .number()
          .int()
          .min(1)
          .default(1000)
          .describe('Most recipients whose files preview writes (all are still rendered and checked).'),
      })
      .default({ maxFiles: 1000 })
      .describe('Preview settings.'),
  })
  .describe('bulletin campaign settings (bulletin.json).');

export type Config = z.output<typeof configSchema>;

export const CONFIG_FILE = 'bulletin.json';

const SECRET_KEYS = /^(pass|password|pwd|secret|smtpPassword|auth|transport|smtp|user|username|clientSecret|client_secret|refreshToken|refresh_token|accessToken|access_token|token|apiKey)$/i;
/** Inside the transport block, anything that sounds like a credential is refused too. */
const TRANSPORT_SECRET_KEYS = /secret|pass|pwd|token|key|cert|credential|assertion/i;

export interface ConfigResult {
  config?: Config;
  diagnostics: Diagnostic[];
}

/** Parse and validate bulletin.json text; every problem carries its JSON line:column. */
export function parseConfig(source: string, file = CONFIG_FILE): ConfigResult {
  const text = withoutBom(source);
  if (text.trim() === '') return { diagnostics: [error(file, 1, 'the file is empty', 'run `bulletin init` to create a working example')] };
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  const lines = lineStarts(text);
  if (errors.length > 0 || !tree) {
    const diagnostics: Diagnostic[] = [];
    for (const e of errors) {
      const { line, column } = position(lines, e.offset);
      // The parser's recovery often reports a second error at the same place: say it once.
      if (diagnostics.some((d) => d.line === line && d.column === column)) continue;
      diagnostics.push(error(file, line, `invalid JSON: ${describeParseError(printParseErrorCode(e.error))}`, 'check for a missing comma, quote or brace near here', column));
    }
    if (diagnostics.length === 0) diagnostics.push(error(file, 1, 'the file is not valid JSON', 'run `bulletin init` to create a working example'));
    return { diagnostics };
  }
  const value: unknown = JSON.parse(text);
  const diagnostics: Diagnostic[] = [];
  const secretDiagnostics = findSecrets(tree, file, lines);
  const result = configSchema.safeParse(value);
  if (result.success && secretDiagnostics.length === 0) return { config: result.data, diagnostics };
  diagnostics.push(...secretDiagnostics);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          if (secretDiagnostics.some((d) => d.message.includes(`"${key}"`))) continue;
          const node = findNodeAtLocation(tree, [...path, key])?.parent?.children?.[0];
          const { line, column } = position(lines, node?.offset ?? 0);
          const known = knownKeys(path);
          const guess = closest(key, known);
          diagnostics.push(
            error(file, line, `unknown setting "${[...path, key].join('.')}"`, guess ? `did you mean "${guess}"?` : `known settings here: ${known.join(', ')}`, column),
          );
        }
        continue;
      }
      const node = nodeFor(tree, path);
      const { line, column } = position(lines, node?.offset ?? 0);
      const where = path.length > 0 ? `"${path.join('.')}"` : 'the settings';
      // zod says "expected string, received undefined"; a person needs "it is missing".
      const missing = issue.code === 'invalid_type' && path.length > 0 && !findNodeAtLocation(tree, path);
      diagnostics.push(
        missing
          ? error(file, line, `missing setting ${where}`, `add it here, e.g. ${JSON.stringify(String(path.at(-1)))}: ${exampleValue(issue.expected)}`, column)
          : error(file, line, `${where}: ${issue.message}`, undefined, column),
      );
    }
  }
  return { diagnostics };
}

/** A password in bulletin.json is a leak waiting to happen: point to BULLETIN_TRANSPORT instead. */
function findSecrets(tree: Node, file: string, lines: number[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visit = (node: Node, inTransport: boolean): void => {
    let transportBlock = inTransport;
    if (node.type === 'property' && node.children?.[0]) {
      const key = String(node.children[0].value);
      const val = node.children[1];
      // a top-level "transport" block naming the provider holds no secret; a URL in it might
      const block = key === 'transport' && val?.type === 'object' && node.parent?.parent === undefined;
      transportBlock ||= block;
      const looksSecret =
        (!block && SECRET_KEYS.test(key)) ||
        (inTransport && TRANSPORT_SECRET_KEYS.test(key)) ||
        (val?.type === 'string' && /^[a-z0-9+.-]+:\/\/[^/\s]*:[^@/\s]+@/i.test(String(val.value)));
      if (looksSecret && key !== '$schema') {
        const { line, column } = position(lines, node.children[0].offset);
        out.push(
          error(
            file,
            line,
            `"${key}" looks like a mail server credential; bulletin.json must never hold a password or secret`,
            val?.type === 'string' && /^imaps?:/i.test(String(val.value))
              ? 'remove the password from the URL and put it in the BULLETIN_IMAP_PASSWORD environment variable or the campaign\'s .env'
              : inTransport
                ? 'put sign-in secrets in the environment or the campaign\'s .env file (BULLETIN_CLIENT_SECRET, BULLETIN_CLIENT_CERTIFICATE, …), never in bulletin.json'
              : 'remove it and give the server as --transport smtp://user:pass@host:587 or in the BULLETIN_TRANSPORT environment variable',
            column,
          ),
        );
      }
    }
    for (const child of node.children ?? []) visit(child, transportBlock);
  };
  visit(tree, false);
  return out;
}

/** Notepad saves UTF-8 with a BOM; editors do not count it as a column, so neither do we. */
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function exampleValue(expected: string): string {
  if (expected === 'string') return '"…"';
  if (expected === 'number') return '1';
  if (expected === 'boolean') return 'true';
  return expected === 'array' ? '[]' : '{}';
}

function nodeFor(tree: Node, path: (string | number)[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(tree, path.slice(0, n));
    if (node) return node;
  }
  return undefined;
}

function knownKeys(path: (string | number)[]): string[] {
  let schema: z.ZodType = configSchema;
  for (const part of path) {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject) {
      const next = (inner.shape as Record<string, z.ZodType>)[String(part)];
      if (!next) return [];
      schema = next;
    } else return [];
  }
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}

function describeParseError(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

/** Where a setting's value sits in bulletin.json, so a problem with the file it names can point at it. */
export function settingPosition(source: string, path: (string | number)[]): { line: number; column: number } | undefined {
  const text = withoutBom(source);
  const tree = parseTree(text);
  const node = tree ? findNodeAtLocation(tree, path) : undefined;
  return node ? position(lineStarts(text), node.offset) : undefined;
}

/** The JSON Schema editors use for autocomplete, generated from the zod schema. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input' });
}
