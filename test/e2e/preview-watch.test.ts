import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleCampaign, requireBuild, startBulletin, STACK_TRACE } from '../helpers/cli.js';

beforeAll(() => requireBuild());

/** A raw HTTP request: the path is sent exactly as given (no URL normalising), with the Host header we choose. */
function get(port: number, rawPath: string, host: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method, headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('bulletin preview --watch', () => {
  it('serves the gallery to its own address only, nothing outside the preview folder, and stops on Ctrl-C with exit 0', async () => {
    const campaign = await exampleCampaign();
    const { child, done } = startBulletin(['preview', campaign, '--watch']);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await expect.poll(() => /http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1], { timeout: 30_000 }).toBeDefined();
    const port = Number(/http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)![1]);

    const own = await get(port, '/', `127.0.0.1:${port}`);
    expect(own.status).toBe(200);
    expect(own.body).toContain('<title>Preview: ');
    expect((await get(port, '/', `localhost:${port}`)).status).toBe(200);
    // DNS rebinding: a page on attacker.example.com resolved to 127.0.0.1 sends its own name.
    expect((await get(port, '/', `attacker.example.com:${port}`)).status).toBe(421);
    expect((await get(port, '/', 'attacker.example.com')).status).toBe(421);
    expect((await get(port, '/', `127.0.0.1:${port + 1}`)).status).toBe(421);
    // Nothing outside the preview folder: bulletin.json and recipients.csv sit one level up.
    for (const escape of ['/../bulletin.json', '/%2e%2e/bulletin.json', '/..%2frecipients.csv', '/messages/../../recipients.csv', '/%2e%2e%5crecipients.csv']) {
      const res = await get(port, escape, `127.0.0.1:${port}`);
      expect(res.status, escape).toBe(404);
      expect(res.body).not.toContain('community.liaison');
    }
    expect((await get(port, '/index.html', `127.0.0.1:${port}`, 'POST')).status).toBe(405);

    child.kill('SIGINT');
    const result = await done;
    expect(result.code).toBe(0);
    expect(stderr).toContain('Nothing is sent.');
    expect(stderr).toContain('Stopping the preview server.');
    expect(stderr).not.toMatch(STACK_TRACE);
  });

  it('refuses --json with --watch, and --port without --watch', async () => {
    const campaign = await exampleCampaign();
    const json = startBulletin(['preview', campaign, '--watch', '--json']);
    expect((await json.done).code).toBe(2);
    const port = startBulletin(['preview', campaign, '--port', '4173']);
    const result = await port.done;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--port is for --watch');
  });
});
