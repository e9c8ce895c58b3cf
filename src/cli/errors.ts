/** Exit codes of PRODUCT.md. */
export const EXIT = {
  ok: 0,
  problems: 1,
  cannotStart: 2,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the user can fix: printed as one line and a hint, never a stack. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: ExitCode = EXIT.cannotStart,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
