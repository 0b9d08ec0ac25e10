import { z } from 'zod';
import { byteSize, duration } from '../config/units.js';

const url = z.string().regex(/^https?:\/\/[^\s/]+/, 'expected an http:// or https:// URL');
const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)').refine((n) => !n.startsWith('__'), 'label names starting with "__" are reserved');

/** Prometheus's `basic_auth`: a password or a file holding it, never both. */
const basicAuthSchema = z
  .object({
    username: z.string().min(1),
    password: z.string().optional(),
    password_file: z.string().min(1).optional(),
  })
  .strict()
  .refine((b) => !(b.password !== undefined && b.password_file !== undefined), { message: 'at most one of password and password_file' });

/** Prometheus's `tls_config` for a client. */
const tlsConfigSchema = z
  .object({
    ca_file: z.string().min(1).optional(),
    cert_file: z.string().min(1).optional(),
    key_file: z.string().min(1).optional(),
    server_name: z.string().min(1).optional(),
    insecure_skip_verify: z.boolean().default(false),
  })
  .strict()
  .refine((t) => (t.cert_file === undefined) === (t.key_file === undefined), { message: 'cert_file and key_file go together' });

/** Prometheus's `queue_config`, for the fields that mean something here. */
const queueConfigSchema = z
  .object({
    /** Samples held in memory between the sampler and the disk queue; past it the oldest are dropped (and counted). */
    capacity: z.number().int().min(1000).max(1_000_000).default(10_000),
    /** Most samples in one request. */
    max_samples_per_send: z.number().int().min(1).max(100_000).default(2000),
    /** Longest a sample waits in memory before it is written to the disk queue as a batch. */
    batch_send_deadline: duration().default(5),
    /** First wait after a failed request; doubled on each failure up to max_backoff. */
    min_backoff: duration().default(0.03),
    max_backoff: duration().default(5),
    /** Retry a request the receiver answers 429 Too Many Requests (else drop it, as for other 4xx). */
    retry_on_http_429: z.boolean().default(true),
  })
  .strict()
  .refine((q) => q.min_backoff <= q.max_backoff, { message: 'min_backoff must not be longer than max_backoff', path: ['min_backoff'] })
  .refine((q) => q.capacity >= q.max_samples_per_send, { message: 'capacity must be at least max_samples_per_send', path: ['capacity'] });

/** The agent's own: where requests wait while the receiver is unreachable, and how much of it. */
const diskQueueSchema = z
  .object({
    /** Directory of the queue's segments; default: /var/lib/contention-agent/remote-write/<name>. */
    dir: z.string().min(1).optional(),
    /** Bytes of segments kept; past it the oldest segments are dropped and counted. */
    max_bytes: byteSize().default(256 * 2 ** 20),
  })
  .strict();

export const remoteWriteSchema = z
  .object({
    url,
    /** Names the endpoint in metrics and logs; default: the URL's host:port (never the URL, which may carry credentials). */
    name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits and _ . : -').optional(),
    remote_timeout: duration().default(30),
    headers: z.record(z.string(), z.string()).default({}),
    basic_auth: basicAuthSchema.optional(),
    bearer_token: z.string().min(1).optional(),
    bearer_token_file: z.string().min(1).optional(),
    tls_config: tlsConfigSchema.optional(),
    queue_config: queueConfigSchema.prefault({}),
    disk_queue: diskQueueSchema.prefault({}),
  })
  .strict()
  .superRefine((r, ctx) => {
    const auth = [r.basic_auth && 'basic_auth', r.bearer_token && 'bearer_token', r.bearer_token_file && 'bearer_token_file'].filter(Boolean);
    if (auth.length > 1) ctx.addIssue({ code: 'custom', message: `at most one of basic_auth, bearer_token and bearer_token_file (got ${auth.join(', ')})` });
    if (Object.keys(r.headers).some((h) => ['authorization', 'content-encoding', 'content-type', 'x-prometheus-remote-write-version'].includes(h.toLowerCase()))) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: 'headers may not set Authorization, Content-Encoding, Content-Type or X-Prometheus-Remote-Write-Version' });
    }
  });

export const remoteWriteListSchema = z
  .array(remoteWriteSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((r, i) => {
      const name = remoteName(r);
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `two remote_write entries are named "${name}"; give each its own name` });
      seen.set(name, i);
    });
  });

/** Labels added to every pushed series that does not have them (Prometheus's global external_labels). */
export const externalLabelsSchema = z.record(labelName, z.string().min(1)).default({});

export type RemoteWriteConfig = z.output<typeof remoteWriteSchema>;

/** How an endpoint is named in metrics, logs and its default queue directory. */
export function remoteName(r: { url: string; name?: string | undefined }): string {
  if (r.name) return r.name;
  try {
    return new URL(r.url).host;
  } catch {
    return 'invalid-url';
  }
}
