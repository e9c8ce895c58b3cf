/**
 * A mail source that cannot be opened or read (a wrong path, a refused IMAP login, a missing
 * folder): one clear line and a hint. No imports, like CampaignError, so the CLI can recognise
 * it without loading imapflow.
 */
export class MailSourceError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'MailSourceError';
  }
}

/** The environment variable the IMAP password comes from (named in hints). */
export const IMAP_PASSWORD_VARIABLE = 'BULLETIN_IMAP_PASSWORD';
