import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Exposition } from '../sampler/exposition.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A read-only route: it answers from state the sampler produced and never changes anything. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpOptions {
  readonly telemetryPath: string;
  readonly exposition: () => Exposition | undefined;
  readonly routes?: ReadonlyMap<string, Route>;
  readonly log: Logger;
}

export function createHttpServer(opts: HttpOptions): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('read-only: only GET and HEAD\n');
      return;
    }
    if (path === opts.telemetryPath) return serveMetrics(req, res, opts.exposition());
    if (path === '/-/healthy') return text(res, 200, 'Healthy\n');
    if (path === '/-/ready') {
      return opts.exposition() ? text(res, 200, 'Ready\n') : text(res, 503, 'Not ready: no sample taken yet\n');
    }
    const route = opts.routes?.get(path);
    if (route) return route(req, res);
    if (path === '/') return landingPage(res, opts.telemetryPath);
    text(res, 404, 'Not found\n');
  });
  // Slow or idle clients must not hold sockets: the server only ever sends small cached answers.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  server.on('clientError', (err, socket) => {
    opts.log.debug({ err: err.message }, 'client error');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function serveMetrics(req: IncomingMessage, res: ServerResponse, exposition: Exposition | undefined): void {
  if (!exposition) return text(res, 503, 'No sample taken yet\n');
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? exposition.gzip : exposition.text;
  res.writeHead(200, {
    'content-type': EXPOSITION_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    vary: 'Accept-Encoding',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

function landingPage(res: ServerResponse, telemetryPath: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
    `<!doctype html><html><head><meta charset="utf-8"><title>contention-agent</title></head>` +
      `<body><h1>contention-agent</h1><p><a href="${telemetryPath}">Metrics</a></p></body></html>\n`,
  );
}

/** Parses ":9947", "127.0.0.1:9947" or "[::1]:9947" into what net.Server.listen takes. */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`bad listen address ${JSON.stringify(address)}`);
  return { host: m[1] ?? (m[2] || undefined), port: Number(m[3]) };
}
