/**
 * Secrets that must never reach output, run.json, the manifest or an error message: passwords,
 * client secrets, private keys, refresh tokens and every access token handed out. Whatever
 * text leaves a transport goes through `scrub`, which replaces each known secret (and its
 * base64 form, in which SMTP AUTH carries it) with `***`.
 */
export class SecretScrubber {
  private readonly secrets = new Set<string>();

  /** Remembers a secret. A PEM key is also remembered line by line, so no piece of it leaks. */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 4) return;
    this.secrets.add(secret);
    this.secrets.add(Buffer.from(secret).toString('base64'));
    if (secret.includes('-----BEGIN')) {
      for (const line of secret.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) this.secrets.add(line);
    }
  }

  scrub(text: string): string {
    let out = text;
    // longest first, so a secret that contains another is replaced whole
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) if (out.includes(secret)) out = out.split(secret).join('***');
    return out;
  }
}
