/** What the planner hands the delivery layer, one per recipient, in CSV order. */
export interface OutgoingMessage {
  /** Normalised address (lowercase), unique in the run. */
  key: string;
  /** Address as sent. */
  email: string;
  /** CSV line number. */
  line: number;
  /** `<...@domain>`, already inside raw. */
  messageId: string;
  envelope: { from: string; to: string[] };
  /** The complete RFC 5322 message, built by nodemailer's MailComposer. */
  raw: Buffer;
}
