import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's `chromium` package; browser tests never use a browser downloaded by playwright. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Launches headless Chromium for browser tests. Throws (so the test fails, never skips)
 * when the browser is not installed.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium was not found at ${CHROMIUM_PATH}. The browser tests need Debian's browser: ` +
        'run `apt-get update && apt-get install -y chromium` and try again.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
