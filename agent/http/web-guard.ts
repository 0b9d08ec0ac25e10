import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { createBasicAuthCheck, type BasicAuthCheck } from './basic-auth.js';
import { clientCertRefusal, loadWebConfig, type WebSecurity } from './web-config.js';

/** Decides, before any route runs, whether a request may go on; when not, it has answered it. */
export interface WebGuard {
  /** TLS settings the server starts with; whether TLS is on is fixed for the process's life. */
  readonly tls: WebSecurity['tls'];
  admit(req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean>;
  /** Re-reads the web config file (users, certificates); a bad file keeps the running settings. */
  reload(server: unknown, log: Logger): void;
}

export type WebGuardResult = { ok: true; guard: WebGuard | undefined } | { ok: false; errors: string[] };

/** The guard for `web.config_file`, or none when no file is given (plain HTTP, no auth). */
export function createWebGuard(file: string | undefined): WebGuardResult {
  if (file === undefined) return { ok: true, guard: undefined };
  const first = loadWebConfig(file);
  if (!first.ok) return first;
  let security = first.security;
  let check: BasicAuthCheck | undefined = authCheckOf(security);

  const guard: WebGuard = {
    tls: security.tls,
    admit(req, res) {
      if (security.tls) {
        const refusal = clientCertRefusal(security.tls.clientAuth, req.socket as TLSSocket);
        if (refusal) {
          res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`Forbidden: ${refusal}\n`);
          return false;
        }
      }
      if (!check) return true;
      return check(req.headers.authorization, req.socket.remoteAddress ?? '').then((outcome) => {
        if (outcome === 'ok') return true;
        if (outcome === 'denied') {
          res
            .writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Basic realm="contention-agent", charset="UTF-8"', connection: 'close' })
            .end('Unauthorized\n');
        } else {
          // Neither is worth a verification: the client failed too often lately, or too many wait already.
          const status = outcome === 'limited' ? 429 : 503;
          res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '2', connection: 'close' }).end(outcome === 'limited' ? 'Too many failed logins from this address\n' : 'Too many logins being verified\n');
        }
        return false;
      });
    },
    reload(server, log) {
      const next = loadWebConfig(file);
      if (!next.ok) {
        log.error({ errors: next.errors }, 'web config reload failed; keeping the running web config');
        return;
      }
      if (next.security.tls?.clientAuth !== security.tls?.clientAuth) {
        log.warn({ file }, 'turning TLS on or off or changing client_auth_type takes effect only after a restart; keeping the running web config');
        return;
      }
      const t = next.security.tls;
      if (t && server instanceof HttpsServer) server.setSecureContext({ cert: t.cert, key: t.key, ca: t.ca, minVersion: t.minVersion, maxVersion: t.maxVersion });
      security = next.security;
      check = authCheckOf(security);
      log.info({ file, users: security.users.size, tls: Boolean(security.tls) }, 'web config reloaded');
    },
  };
  return { ok: true, guard };
}

function authCheckOf(security: WebSecurity): BasicAuthCheck | undefined {
  return security.users.size > 0 ? createBasicAuthCheck(security.users) : undefined;
}
