import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AGENT_VERSION } from '../version.js';
import type { RemoteWriteConfig } from './schema.js';

/** What became of one request: accepted, worth retrying (5xx, 429, the network), or refused for good (other 4xx). */
export type SendOutcome =
  | { readonly kind: 'ok'; readonly status: number }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'reject'; readonly status: number; readonly reason: string };

export type Send = (body: Buffer, signal?: AbortSignal) => Promise<SendOutcome>;

/** How much of an error response is kept for the log. */
const MAX_ERROR_BODY = 512;

/** Decides what a response status means, as Prometheus's remote-write client does. */
export function classify(status: number, retryOn429: boolean): 'ok' | 'retry' | 'reject' {
  if (status >= 200 && status < 300) return 'ok';
  if (status >= 500 || (status === 429 && retryOn429)) return 'retry';
  return 'reject';
}

/** A Retry-After header in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const readSecret = (file: string): string => readFileSync(file, 'utf8').trim();

/**
 * A sender for one endpoint. Files named by the config (CA, certificate, key) are read now, so a
 * bad path fails the start; password and token files are read at each request, so a rotated secret
 * is picked up without a restart.
 */
export function createSender(cfg: RemoteWriteConfig): Send {
  const url = new URL(cfg.url);
  const https = url.protocol === 'https:';
  const tls = cfg.tls_config;
  const tlsOptions = https
    ? {
        ...(tls?.ca_file ? { ca: readFileSync(tls.ca_file) } : {}),
        ...(tls?.cert_file ? { cert: readFileSync(tls.cert_file) } : {}),
        ...(tls?.key_file ? { key: readFileSync(tls.key_file) } : {}),
        ...(tls?.server_name ? { servername: tls.server_name } : {}),
        rejectUnauthorized: !(tls?.insecure_skip_verify ?? false),
      }
    : {};
  if (cfg.basic_auth?.password_file) readSecret(cfg.basic_auth.password_file);
  if (cfg.bearer_token_file) readSecret(cfg.bearer_token_file);
  const authorization = (): string | undefined => {
    if (cfg.basic_auth) {
      const password = cfg.basic_auth.password_file ? readSecret(cfg.basic_auth.password_file) : (cfg.basic_auth.password ?? '');
      return `Basic ${Buffer.from(`${cfg.basic_auth.username}:${password}`).toString('base64')}`;
    }
    if (cfg.bearer_token) return `Bearer ${cfg.bearer_token}`;
    if (cfg.bearer_token_file) return `Bearer ${readSecret(cfg.bearer_token_file)}`;
    // Credentials in the URL (https://user:pass@host) are sent as basic auth, as Go's client does.
    if (url.username) return `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    return undefined;
  };
  const request = https ? httpsRequest : httpRequest;

  return (body, signal) =>
    new Promise<SendOutcome>((resolve) => {
      let auth: string | undefined;
      try {
        auth = authorization();
      } catch (err) {
        resolve({ kind: 'retry', reason: `cannot read credentials: ${(err as Error).message}` });
        return;
      }
      const req = request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || (https ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          timeout: cfg.remote_timeout * 1000,
          ...(signal ? { signal } : {}),
          ...tlsOptions,
          headers: {
            ...cfg.headers,
            'Content-Encoding': 'snappy',
            'Content-Type': 'application/x-protobuf',
            'Content-Length': body.length,
            'User-Agent': `contention-agent/${AGENT_VERSION}`,
            'X-Prometheus-Remote-Write-Version': '0.1.0',
            ...(auth ? { Authorization: auth } : {}),
          },
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (text.length < MAX_ERROR_BODY) text += chunk.slice(0, MAX_ERROR_BODY - text.length);
          });
          res.on('error', () => undefined);
          res.on('end', () => {
            const kind = classify(status, cfg.queue_config.retry_on_http_429);
            const reason = `HTTP ${status}${text.trim() ? `: ${text.trim()}` : ''}`;
            if (kind === 'ok') resolve({ kind, status });
            else if (kind === 'reject') resolve({ kind, status, reason });
            else {
              const after = retryAfterMs(res.headers['retry-after'] as string | undefined);
              resolve({ kind, reason, ...(after !== undefined ? { retryAfterMs: after } : {}) });
            }
          });
        },
      );
      // remote_timeout bounds the whole exchange, not only silences: a receiver that trickles an endless answer is cut off too.
      const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${cfg.remote_timeout}s`)), cfg.remote_timeout * 1000);
      req.on('close', () => clearTimeout(deadline));
      req.on('timeout', () => req.destroy(new Error(`no answer within ${cfg.remote_timeout}s`)));
      req.on('error', (err) => resolve({ kind: 'retry', reason: err.message }));
      req.end(body);
    });
}
