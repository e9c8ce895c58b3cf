/**
 * Text assembled from several files (a message, its partials, injected markup) that still
 * knows where every character came from, so MJML errors, Handlebars variables and guard
 * findings in the assembled text can be reported at the user's file, line and column.
 */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

interface Piece {
  text: string;
  /** Where text[0] came from. */
  origin: SourcePosition;
  /** Inserted by us: every character maps to `origin` itself. */
  synthetic: boolean;
}

export interface Edit {
  start: number;
  end: number;
  insert: MappedSource;
}

export class MappedSource {
  readonly text: string;
  private readonly starts: number[];

  private constructor(private readonly pieces: readonly Piece[]) {
    this.text = pieces.map((p) => p.text).join('');
    let offset = 0;
    this.starts = pieces.map((p) => {
      const start = offset;
      offset += p.text.length;
      return start;
    });
  }

  /** A file's text (or part of it) starting at the given line and column. */
  static fromFile(text: string, file: string, line = 1, column = 1): MappedSource {
    return new MappedSource([{ text, origin: { file, line, column }, synthetic: false }]);
  }

  /** Text we add ourselves, reported at the position of whatever it was added for. */
  static synthetic(text: string, origin: SourcePosition): MappedSource {
    return new MappedSource([{ text, origin, synthetic: true }]);
  }

  static concat(parts: readonly MappedSource[]): MappedSource {
    return new MappedSource(parts.flatMap((p) => p.pieces).filter((p) => p.text.length > 0));
  }

  /** The original position of the character at `offset`. */
  locate(offset: number): SourcePosition {
    const index = this.pieceAt(offset);
    const piece = this.pieces[index];
    if (!piece) return { file: '', line: 1, column: 1 };
    if (piece.synthetic) return piece.origin;
    return advance(piece.origin, piece.text, offset - this.starts[index]!);
  }

  /** The original position of a line of this text (1-based), at its first visible character. */
  locateLine(line: number): SourcePosition {
    let offset = 0;
    for (let l = 1; l < line; l++) {
      const next = this.text.indexOf('\n', offset);
      if (next < 0) break;
      offset = next + 1;
    }
    const visible = /\S/.exec(this.text.slice(offset, lineEnd(this.text, offset)));
    return this.locate(offset + (visible?.index ?? 0));
  }

  /** Handlebars reports 1-based lines and 0-based columns. */
  offsetOf(line: number, column: number): number {
    let offset = 0;
    for (let l = 1; l < line; l++) offset = this.text.indexOf('\n', offset) + 1;
    return offset + column;
  }

  slice(start: number, end: number): MappedSource {
    const out: Piece[] = [];
    this.pieces.forEach((piece, i) => {
      const pieceStart = this.starts[i]!;
      const from = Math.max(start, pieceStart) - pieceStart;
      const to = Math.min(end, pieceStart + piece.text.length) - pieceStart;
      if (to <= from) return;
      const origin = piece.synthetic ? piece.origin : advance(piece.origin, piece.text, from);
      out.push({ text: piece.text.slice(from, to), origin, synthetic: piece.synthetic });
    });
    return new MappedSource(out);
  }

  /** Replace ranges (non-overlapping, any order) with other mapped text. */
  splice(edits: readonly Edit[]): MappedSource {
    const sorted = [...edits].sort((a, b) => a.start - b.start);
    const parts: MappedSource[] = [];
    let at = 0;
    for (const edit of sorted) {
      parts.push(this.slice(at, edit.start), edit.insert);
      at = edit.end;
    }
    parts.push(this.slice(at, this.text.length));
    return MappedSource.concat(parts);
  }

  private pieceAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

function advance(origin: SourcePosition, text: string, length: number): SourcePosition {
  let { line, column } = origin;
  for (let i = 0; i < length && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      column = 1;
    } else column++;
  }
  return { file: origin.file, line, column };
}

function lineEnd(text: string, offset: number): number {
  const end = text.indexOf('\n', offset);
  return end < 0 ? text.length : end;
}
