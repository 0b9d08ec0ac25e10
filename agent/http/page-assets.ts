import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Route } from './server.js';

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
}

// The page's files sit beside this module in the sources; the build output runs three levels deeper.
const PAGE_DIRS = ['./page/', '../../../agent/http/page/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));

function pageDir(): string {
  const dir = PAGE_DIRS.find((d) => existsSync(`${d}index.html`));
  if (!dir) throw new Error(`status page files not found (looked in ${PAGE_DIRS.join(', ')})`);
  return dir;
}

function asset(path: string, type: string): Asset {
  const body = readFileSync(path);
  return { type, body, gzip: gzipSync(body, { level: 9 }) };
}

/**
 * The status page and its assets, read and compressed once at start and served from memory:
 * the page is the same bytes for every visitor, only /api/v1/state changes.
 */
export function pageRoutes(): Map<string, Route> {
  const dir = pageDir();
  const uplot = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');
  const assets: Array<[string, Asset]> = [
    ['/', asset(`${dir}index.html`, 'text/html; charset=utf-8')],
    ['/assets/page.js', asset(`${dir}page.js`, 'text/javascript; charset=utf-8')],
    ['/assets/page.css', asset(`${dir}page.css`, 'text/css; charset=utf-8')],
    ['/assets/uPlot.iife.min.js', asset(uplot, 'text/javascript; charset=utf-8')],
    ['/assets/uPlot.min.css', asset(uplot.replace('uPlot.iife.min.js', 'uPlot.min.css'), 'text/css; charset=utf-8')],
  ];
  return new Map(
    assets.map(([path, a]): [string, Route] => [
      path,
      (req, res) => {
        const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        const body = gzip ? a.gzip : a.body;
        res.writeHead(200, {
          'content-type': a.type,
          'content-length': body.length,
          'cache-control': path === '/' ? 'no-cache' : 'max-age=300',
          'x-content-type-options': 'nosniff',
          vary: 'Accept-Encoding',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
    ]),
  );
}

/** The JSON the page polls, rendered by `render` on each request from state the agent already holds. */
export function stateRoute(render: () => unknown | undefined): Route {
  return (req, res) => {
    const state = render();
    if (state === undefined) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"no sample taken yet"}\n');
      return;
    }
    const body = Buffer.from(JSON.stringify(state));
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && body.length > 1024;
    const out = gzip ? gzipSync(body) : body;
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': out.length,
      'cache-control': 'no-store',
      vary: 'Accept-Encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : out);
  };
}
