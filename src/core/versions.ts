import { partialsUsed, type Branch, type MessagePart, type MessageStructure, type TemplateBlock } from './message-structure.js';

/**
 * Versions of a message: recipients whose messages differ only in their values. What makes a
 * version: the language variant, the branch each block takes (each: empty or not), and so the
 * partials used, and the attachment set. The subject's and preheader's blocks are blocks too.
 */
export interface VersionRecipient {
  /** Position among the previewed recipients (0-based, file order): the gallery's index. */
  seq: number;
  line: number;
  email: string;
}

export interface VersionBlock {
  helper: string;
  opening: string;
  part: MessagePart;
  file: string;
  line: number;
  /** What this version does with the block. */
  outcome: BlockOutcome;
}

/** shown / else / left out (if, unless, with, sections); listed / empty / else (each). */
export type BlockOutcome = 'shown' | 'else' | 'left out' | 'listed' | 'empty';

export interface VersionDifference {
  /** e.g. "{{#if extra_patrols}} (message.mjml:14)". */
  what: string;
  /** This version. */
  here: string;
  /** The most common version. */
  common: string;
}

export interface VersionExtreme {
  column: string;
  /** longest: the longest value in the column; empty: the first of those with it blank. */
  kind: 'longest' | 'empty';
  recipient: VersionRecipient;
  /** longest: the value's length in characters. */
  length?: number;
  /** empty: how many of this version's recipients have it blank. */
  count?: number;
}

export interface MessageVersion {
  /** 1 for the most common version, then by count. */
  number: number;
  /** Stable identity of the version's shape (not of its recipients). */
  key: string;
  language: string;
  count: number;
  /** Every recipient's seq and CSV line, in file order. */
  members: number[];
  lines: number[];
  example: VersionRecipient;
  attachments: string[];
  partials: string[];
  /** Every block a recipient of this version reaches, in template order. */
  blocks: VersionBlock[];
  /** Compared with version 1 (empty for version 1 itself). */
  differences: VersionDifference[];
  extremes: VersionExtreme[];
}

interface Group {
  key: string;
  language: string;
  branches: string;
  attachments: string[];
  members: number[];
  lines: number[];
  example: VersionRecipient;
  longest: Array<{ length: number; recipient: VersionRecipient } | undefined>;
  empty: Array<{ count: number; recipient: VersionRecipient } | undefined>;
}

export interface VersionInput<T = undefined> {
  seq: number;
  line: number;
  email: string;
  language: string;
  /** MessageStructure.branchesOf for this recipient's values. */
  branches: string;
  /** Attachment file names, in the order they are attached. */
  attachments: readonly string[];
  /** The values the message is rendered with (row values, blanks filled from defaults). */
  data: Readonly<Record<string, string>>;
  /** Kept while the recipient may be named (example or extreme): e.g. their row, to render it later. */
  keep?: T;
}

/** Groups recipients into versions as the plan renders them; holds numbers, not messages. */
export class VersionGrouper<T = undefined> {
  private readonly groups = new Map<string, Group>();
  /** Everything kept for a recipient who was, at some point, a version's example or extreme. */
  private readonly kept = new Map<number, T>();

  /**
   * @param structureOf the block structure of a language's variant
   * @param columns the columns the template reads: their longest and blank values are the extremes
   */
  constructor(
    private readonly structureOf: (language: string) => MessageStructure,
    private readonly columns: readonly string[],
  ) {}

  /** Returns the version's key (MessageVersion.key), to tell each recipient's version once finished. */
  add(input: VersionInput<T>): string {
    const attachmentsKey = input.attachments.join('\n');
    const key = `${input.language}\u0001${input.branches}\u0001${attachmentsKey}`;
    let group = this.groups.get(key);
    const recipient = (): VersionRecipient => {
      if (input.keep !== undefined) this.kept.set(input.seq, input.keep);
      return { seq: input.seq, line: input.line, email: input.email };
    };
    if (!group) {
      group = {
        key,
        language: input.language,
        branches: input.branches,
        attachments: [...input.attachments],
        members: [],
        lines: [],
        example: recipient(),
        longest: new Array<undefined>(this.columns.length).fill(undefined),
        empty: new Array<undefined>(this.columns.length).fill(undefined),
      };
      this.groups.set(key, group);
    }
    group.members.push(input.seq);
    group.lines.push(input.line);
    for (let c = 0; c < this.columns.length; c++) {
      const value = input.data[this.columns[c]!] ?? '';
      if (value.trim() === '') {
        const empty = group.empty[c];
        if (empty) empty.count++;
        else group.empty[c] = { count: 1, recipient: recipient() };
      } else {
        const longest = group.longest[c];
        if (!longest || value.length > longest.length) group.longest[c] = { length: value.length, recipient: recipient() };
      }
    }
    return key;
  }

  /** The versions, most recipients first (ties: the one met first). */
  finish(): MessageVersion[] {
    const groups = [...this.groups.values()].sort((a, b) => b.members.length - a.members.length || a.members[0]! - b.members[0]!);
    const versions = groups.map((g, i) => this.describe(g, i + 1));
    const common = versions[0];
    if (common) for (const v of versions.slice(1)) v.differences = compareVersions(v, common);
    const named = new Set(namedRecipients(versions).map((r) => r.seq));
    for (const seq of this.kept.keys()) if (!named.has(seq)) this.kept.delete(seq);
    return versions;
  }

  /** What was kept for a recipient the versions name (after finish). */
  keptFor(seq: number): T | undefined {
    return this.kept.get(seq);
  }

  private describe(group: Group, number: number): MessageVersion {
    const structure = this.structureOf(group.language);
    const blocks: VersionBlock[] = [];
    structure.blocks.forEach((block, i) => {
      const branch = group.branches[i];
      if (branch === '1' || branch === '0') blocks.push({ helper: block.helper, opening: block.opening, part: block.part, file: block.file, line: block.line, outcome: outcomeOf(block, branch) });
    });
    const extremes: VersionExtreme[] = [];
    const count = group.members.length;
    this.columns.forEach((column, c) => {
      const longest = group.longest[c];
      if (longest) extremes.push({ column, kind: 'longest', recipient: longest.recipient, length: longest.length });
      const empty = group.empty[c];
      // Blank for every recipient of the version is what the version is, not an extreme.
      if (empty && empty.count < count) extremes.push({ column, kind: 'empty', recipient: empty.recipient, count: empty.count });
    });
    return {
      number,
      key: group.key,
      language: group.language,
      count,
      members: group.members,
      lines: group.lines,
      example: group.example,
      attachments: group.attachments,
      partials: partialsUsed(structure, group.branches),
      blocks,
      differences: [],
      extremes,
    };
  }
}

function outcomeOf(block: TemplateBlock, branch: Branch): BlockOutcome {
  if (block.helper === 'each') return branch === '1' ? 'listed' : block.hasElse ? 'else' : 'empty';
  if (branch === '1') return 'shown';
  return block.hasElse ? 'else' : 'left out';
}

/** What is in or out compared with the most common version. */
export function compareVersions(version: MessageVersion, common: MessageVersion): VersionDifference[] {
  const out: VersionDifference[] = [];
  if (version.language !== common.language) out.push({ what: 'language', here: version.language, common: common.language });
  const where = (b: VersionBlock): string => `${b.file}:${b.line}`;
  const label = (b: VersionBlock): string => `${b.opening} (${where(b)}${b.part === 'message' ? '' : `, ${b.part}`})`;
  // Within a language a block is its place in the file; across variants (another file), the
  // same block as written, counted in order, so `{{#if note}}` of each variant match.
  const sameFile = version.language === common.language;
  const ids = (blocks: VersionBlock[]): string[] => {
    const seen = new Map<string, number>();
    return blocks.map((b) => {
      if (sameFile) return `${where(b)} ${b.opening}`;
      const base = `${b.part} ${b.opening}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return `${base} ${n}`;
    });
  };
  const commonIds = ids(common.blocks);
  const theirs = new Map(common.blocks.map((b, i) => [commonIds[i]!, b]));
  const seen = new Set<string>();
  const versionIds = ids(version.blocks);
  for (const [i, b] of version.blocks.entries()) {
    const id = versionIds[i]!;
    seen.add(id);
    const other = theirs.get(id);
    if (!other) out.push({ what: label(b), here: b.outcome, common: 'not reached' });
    else if (other.outcome !== b.outcome) out.push({ what: label(b), here: b.outcome, common: other.outcome });
  }
  for (const [id, b] of theirs) if (!seen.has(id)) out.push({ what: label(b), here: 'not reached', common: b.outcome });
  const describeList = (list: string[]): string => (list.length === 0 ? 'none' : list.join(', '));
  const added = version.partials.filter((p) => !common.partials.includes(p));
  const dropped = common.partials.filter((p) => !version.partials.includes(p));
  if (added.length > 0 || dropped.length > 0) out.push({ what: 'partials', here: describeList(version.partials), common: describeList(common.partials) });
  if (version.attachments.join('\n') !== common.attachments.join('\n')) out.push({ what: 'attachments', here: describeList(version.attachments), common: describeList(common.attachments) });
  return out;
}

/** Every recipient a version names: its example and its extremes (their files are written). */
export function namedRecipients(versions: readonly MessageVersion[]): VersionRecipient[] {
  const bySeq = new Map<number, VersionRecipient>();
  for (const v of versions) {
    bySeq.set(v.example.seq, v.example);
    for (const e of v.extremes) bySeq.set(e.recipient.seq, e.recipient);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
