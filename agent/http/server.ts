import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Exposition } from '../sampler/exposition.js';
import type { WebGuard } from './web-guard.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A read-only route: it answers from state the sampler produced and never changes anything. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpOptions {
  readonly telemetryPath: string;
  readonly exposition: () => Exposition | undefined;
  readonly routes?: ReadonlyMap<string, Route>;
  readonly log: Logger;
  /** TLS, client certificates and basic auth from the web config file; none means plain HTTP for all. */
  readonly guard?: WebGuard;
}

/** Every request is small (a GET with a few headers): anything bigger or slower is not a scraper. */
export const HTTP_LIMITS = {
  maxHeaderSize: 8 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
  /** Open connections from one client address: a scraper needs one or two, a flood takes the rest. */
  maxConnectionsPerAddress: 16,
  /** A connection that has not sent a whole request by then is closed: it holds a slot and proves nothing. */
  firstRequestTimeoutMs: 3_000,
} as const;

export function createHttpServer(opts: HttpOptions): Server {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
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
  };
  const guarded = (req: IncomingMessage, res: ServerResponse): void => {
    const admitted = opts.guard ? opts.guard.admit(req, res) : true;
    if (admitted === true) return handle(req, res);
    if (admitted === false) return;
    admitted.then(
      (ok) => ok && handle(req, res),
      (err: Error) => {
        opts.log.error({ err: err.message }, 'authentication failed with an error');
        if (!res.headersSent) text(res, 500, 'Internal error\n');
      },
    );
  };
  // Slow or idle clients must not hold sockets: the server only ever sends small cached answers.
  // Node checks the header and request timeouts on this interval (30 s by default), so a
  // slowloris-style client is dropped within a second of its timeout rather than half a minute later.
  const limits: ServerOptions = {
    maxHeaderSize: HTTP_LIMITS.maxHeaderSize,
    headersTimeout: HTTP_LIMITS.headersTimeoutMs,
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: 1_000,
  };
  const tls = opts.guard?.tls;
  const server: Server = tls
    ? createHttpsServer(
        {
          ...limits,
          // A client that opens a connection and never finishes the handshake is dropped as soon as a slow header sender.
          handshakeTimeout: HTTP_LIMITS.headersTimeoutMs,
          cert: tls.cert,
          key: tls.key,
          ca: tls.ca,
          requestCert: tls.requestCert,
          rejectUnauthorized: tls.rejectUnauthorized,
          minVersion: tls.minVersion,
          maxVersion: tls.maxVersion,
        },
        guarded,
      )
    : createServer(limits, guarded);
  server.maxHeadersCount = 100;
  server.maxConnections = HTTP_LIMITS.maxConnections;
  limitConnections(server, tls !== undefined);
  if (tls) {
    // A plaintext request or a failed handshake ends here: the socket is closed without an HTTP answer.
    server.on('tlsClientError', (err) => opts.log.debug({ err: err.message }, 'TLS handshake refused'));
  }
  server.on('clientError', (err, socket) => {
    opts.log.debug({ err: err.message }, 'client error');
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // A failed or timed-out TLS handshake has no HTTP to answer in: writing one would keep the socket open.
    if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) return void socket.destroy();
    const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    else socket.destroy();
  });
  return server;
}

/**
 * Per client address, at most maxConnectionsPerAddress open connections (the next are closed at once),
 * and every connection must have sent a whole request within firstRequestTimeoutMs of being accepted
 * (of finishing its handshake, under TLS). Without these one address could hold every slot of the
 * global maxConnections with half-sent request lines until the headers timeout.
 */
function limitConnections(server: Server, tls: boolean): void {
  const perAddress = new Map<string, number>();
  const answered = new WeakSet<object>();
  const deadline = (socket: Socket): void => {
    const timer = setTimeout(() => {
      if (answered.has(socket)) return;
      // As Node answers a headers timeout: a 408 the client can read, then the socket is gone.
      if (socket.writable) socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      setTimeout(() => socket.destroy(), 1_000).unref();
    }, HTTP_LIMITS.firstRequestTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const open = perAddress.get(address) ?? 0;
    if (open >= HTTP_LIMITS.maxConnectionsPerAddress) return void socket.destroy();
    perAddress.set(address, open + 1);
    socket.once('close', () => {
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left <= 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    if (!tls) deadline(socket);
  });
  if (tls) server.on('secureConnection', deadline);
  server.on('request', (req: IncomingMessage) => void answered.add(req.socket));
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
