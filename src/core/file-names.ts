/**
 * A recipient's address as part of a file name (preview files, outbox .eml): lower case,
 * letters, digits and `@._-` only, so it is safe on every file system. Callers put a
 * sequence number in front, which keeps names unique.
 */
export function safeFileName(address: string): string {
  return address.toLowerCase().replace(/[^a-z0-9@._-]+/g, '_').slice(0, 100);
}
