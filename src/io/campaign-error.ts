/**
 * A problem that stops a command before it starts (exit 2): one clear line and a hint.
 * Its own module, with no imports, so the CLI's entry point can recognise it without loading
 * the campaign loader (and zod with it) just to print --help.
 */
export class CampaignError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CampaignError';
  }
}
