import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface PreviewServerOptions {
  /** The preview folder: nothing outside it is ever served. */
  root: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** Path of the server-sent events stream. */
  eventsPath: string;
  /** The event a page gets as soon as it connects (the current state). */
  current: () => { event: string; data: unknown };
  /**
   * Answers made on request rather than read from disk, by path inside root ('/' separated, no
   * leading '/'): files rendered but not yet written, a recipient rendered on demand. Undefined:
   * serve the file.
   */
  dynamic?: (relative: string) => DynamicResponse | undefined | Promise<DynamicResponse | undefined>;
  /** Told the path (inside root) of each file a page asks for: the watch renders what is on screen first. */
  onRequest?: (relative: string) => void;
}

/** A reply made on request rather than read from a file. */
export interface DynamicResponse {
  status: number;
  /** A file extension naming the content type (html, txt, eml, json). */
  ext: string;
  body: string | Buffer;
}

export interface PreviewServer {
  url: string;
  port: number;
  /** Sends an event to every open page. */
  broadcast(event: string, data: unknown): void;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.eml': 'message/rfc822',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
};

/** Thrown when the port is taken or cannot be used; the CLI says so in one line. */
export class PreviewServerError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * The gallery over HTTP for `preview --watch`: on 127.0.0.1 only, answering only requests
 * addressed to it by name (127.0.0.1:PORT or localhost:PORT), so a web page elsewhere cannot
 * reach it through DNS rebinding; GET and HEAD of files inside the preview folder, and the
 * events stream. It reads files and nothing else: it has no way to send mail.
 */
export async function startPreviewServer(options: PreviewServerOptions): Promise<PreviewServer> {
  const root = await realpath(options.root);
  const clients = new Set<ServerResponse>();
  let port = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'The preview server could not read that file.');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      // 421 Misdirected Request: this server answers to its own name only (DNS rebinding).
      send(res, 421, 'This preview server answers only to http://127.0.0.1:' + port + '/ and http://localhost:' + port + '/.');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'The preview is read-only.');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === options.eventsPath) {
      openEvents(res);
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname);
    } catch {
      send(res, 400, 'Bad path.');
      return;
    }
    if (relative.includes('\0')) {
      send(res, 400, 'Bad path.');
      return;
    }
    if (relative.endsWith('/')) relative += 'index.html';
    const key = path.posix.normalize(relative).replace(/^\/+/, '');
    options.onRequest?.(key);
    const made = await options.dynamic?.(key);
    if (made) {
      reply(res, req.method === 'HEAD', made.status, TYPES[`.${made.ext}`] ?? 'application/octet-stream', made.body);
      return;
    }
    const file = await inside(root, relative);
    if (!file) {
      send(res, 404, 'Not found in the preview.');
      return;
    }
    const info = await stat(file);
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, headersFor(type, info.size));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  }

  function openEvents(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Content-Type-Options': 'nosniff' });
    res.write('retry: 500\n\n');
    const { event, data } = options.current();
    res.write(eventText(event, data));
    clients.add(res);
    res.on('close', () => clients.delete(res));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new PreviewServerError(err.message, err.code)));
    server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    broadcast(event, data) {
      const text = eventText(event, data);
      for (const client of clients) client.write(text);
    },
    close() {
      for (const client of clients) client.end();
      clients.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function headersFor(type: string, length: number): Record<string, string | number> {
  return {
    'Content-Type': type,
    'Content-Length': length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...(type === 'message/rfc822' ? { 'Content-Disposition': 'attachment' } : {}),
  };
}

function reply(res: ServerResponse, headOnly: boolean, status: number, type: string, body: string | Buffer): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, headersFor(type, bytes.length));
  res.end(headOnly ? undefined : bytes);
}

function eventText(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

/**
 * The file a URL path names, when it is a file inside root (symbolic links resolved, so a link
 * cannot lead out of the preview folder); undefined otherwise.
 */
async function inside(root: string, relative: string): Promise<string | undefined> {
  const candidate = path.resolve(root, `.${path.posix.normalize(`/${relative}`)}`);
  if (candidate !== root && !candidate.startsWith(root + path.sep)) return undefined;
  const real = await realpath(candidate).catch(() => undefined);
  if (!real || !real.startsWith(root + path.sep)) return undefined;
  const info = await stat(real).catch(() => undefined);
  return info?.isFile() ? real : undefined;
}
