// mbox-reader 1.2 ships no types; this is the part bulletin uses.
declare module 'mbox-reader' {
  import type { Readable } from 'node:stream';

  export interface MboxMessage {
    /** From the "From " line. */
    returnPath: string | undefined;
    time: Date | false;
    /** The message, ">From " unquoted, with LF line endings. */
    content: Buffer;
    flags: string[];
    labels: string[];
    /** Bytes of the file read so far. */
    readSize: number;
  }

  export function mboxReader(input: Readable, options?: { gz?: boolean }): AsyncGenerator<MboxMessage>;
}
