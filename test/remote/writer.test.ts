import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/log.js';
import type { Sample } from '../../agent/metrics/sample.js';
import { openDiskQueue } from '../../agent/remote/disk-queue.js';
import { createRemoteWriter, type RemoteWriter } from '../../agent/remote/remote-write.js';
import { remoteWriteSchema } from '../../agent/remote/schema.js';
import { configSchema } from '../../agent/config/schema.js';
import { waitFor } from '../helpers/agent.js';
import { freePort } from '../helpers/servers.js';
import { makeCertificate } from '../helpers/tls.js';
import { decodeBody } from './proto.js';

function capturedLog() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
  return { log: createLogger('info', 'json', stream), lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** One sample of `n` series, each with the sample's number as its value. */
function sample(i: number, n = 10): Sample {
  return {
    timestamp: 1_764_625_000_000 + i * 1000,
    families: new Map([['contention_cpus' as never, Array.from({ length: n }, (_, s) => ({ labels: { s: String(s) }, value: i }))]]),
    collectors: [],
    facts: {},
  };
}

interface Received { headers: Record<string, string | string[] | undefined>; values: number[] }

/** A remote-write receiver on loopback whose status for each request `answer` decides; it records what it decoded. */
async function receiver(answer: (n: number) => { status: number; headers?: Record<string, string> }) {
  const received: Received[] = [];
  let attempts = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { status, headers } = answer(attempts++);
      if (status < 300) {
        const body = decodeBody(Buffer.concat(chunks));
        received.push({ headers: req.headers, values: [...new Set(body.timeseries.flatMap((t) => t.samples.map((s) => s.value)))] });
      }
      res.writeHead(status, headers).end(status < 300 ? '' : `status ${status}`);
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/api/v1/write`, received, attempts: () => attempts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const writers: RemoteWriter[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.stop()));
  await Promise.all(closers.splice(0).map((c) => c()));
});

function writer(url: string, extra: Record<string, unknown> = {}, log = capturedLog()) {
  const dir = mkdtempSync(join(tmpdir(), 'ca-rwq-'));
  const cfg = remoteWriteSchema.parse({
    url,
    name: 'test',
    ...extra,
    disk_queue: { dir, ...(extra.disk_queue as object) },
    queue_config: { batch_send_deadline: '50ms', min_backoff: '10ms', max_backoff: '100ms', ...(extra.queue_config as object) },
  });
  const w = createRemoteWriter(cfg, { labels: { job: 'contention-agent', instance: 'h' }, log: log.log });
  writers.push(w);
  return { w, dir, log };
}

describe('remote write retries', () => {
  it('retries 5xx with backoff and delivers everything in order once the receiver recovers', async () => {
    const r = await receiver((n) => ({ status: n < 3 ? 503 : 204 }));
    closers.push(r.close);
    const { w, log } = writer(r.url);
    for (let i = 0; i < 5; i++) w.offer(sample(i));
    await waitFor(() => w.stats().sent === 50, 10_000, 'all samples sent');
    expect(r.received.flatMap((x) => x.values)).toEqual([0, 1, 2, 3, 4]);
    expect(w.stats()).toMatchObject({ failures: 3, dropped: { memory_full: 0, disk_full: 0, disk_error: 0, rejected: 0 }, queuedSamples: 0 });
    expect(log.lines().some((l) => l.msg === 'remote write failed; retrying' && String(l.err).includes('HTTP 503'))).toBe(true);
    expect(r.received[0]!.headers).toMatchObject({ 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf', 'x-prometheus-remote-write-version': '0.1.0' });
  });

  it('retries 429 (honouring Retry-After within max_backoff), or drops it when retry_on_http_429 is off', async () => {
    const r = await receiver((n) => (n === 0 ? { status: 429, headers: { 'Retry-After': '0' } } : { status: 200 }));
    closers.push(r.close);
    const { w } = writer(r.url);
    w.offer(sample(1));
    await waitFor(() => w.stats().sent === 10, 10_000, 'sent after a 429');
    expect(w.stats().failures).toBe(1);

    const never = await receiver(() => ({ status: 429 }));
    closers.push(never.close);
    const off = writer(never.url, { queue_config: { retry_on_http_429: false } });
    off.w.offer(sample(1));
    await waitFor(() => off.w.stats().dropped.rejected === 10, 10_000, 'the 429 dropped');
    expect(never.attempts()).toBe(1);
  });

  it('never retries another 4xx: the request is dropped, counted and logged, and the next one goes through', async () => {
    const r = await receiver((n) => ({ status: n === 0 ? 400 : 200 }));
    closers.push(r.close);
    const { w, log } = writer(r.url);
    w.offer(sample(1));
    await waitFor(() => w.stats().dropped.rejected === 10, 10_000, 'rejected');
    w.offer(sample(2));
    await waitFor(() => w.stats().sent === 10, 10_000, 'the next request sent');
    expect(r.attempts()).toBe(2);
    expect(r.received.flatMap((x) => x.values)).toEqual([2]);
    const drop = log.lines().find((l) => l.msg === 'remote write dropped samples');
    expect(drop).toMatchObject({ reason: 'rejected', samples: 10, detail: 'HTTP 400: status 400', remote: 'test' });
  });

  it('sends basic auth, bearer tokens from a file and extra headers', async () => {
    const r = await receiver(() => ({ status: 200 }));
    closers.push(r.close);
    const token = join(mkdtempSync(join(tmpdir(), 'ca-tok-')), 'token');
    writeFileSync(token, 's3cret\n');
    const a = writer(r.url, { basic_auth: { username: 'u', password: 'p' }, headers: { 'X-Scope-OrgID': 'tenant-1' } });
    a.w.offer(sample(1));
    await waitFor(() => a.w.stats().sent === 10, 10_000);
    const b = writer(r.url, { bearer_token_file: token });
    b.w.offer(sample(2));
    await waitFor(() => b.w.stats().sent === 10, 10_000);
    expect(r.received[0]!.headers).toMatchObject({ authorization: `Basic ${Buffer.from('u:p').toString('base64')}`, 'x-scope-orgid': 'tenant-1' });
    expect(r.received[1]!.headers.authorization).toBe('Bearer s3cret');
  });
});

describe('remote write bounds', () => {
  it('holds at most queue_config.capacity samples in memory: a burst beyond it drops the oldest, counted, and keeps the newest', async () => {
    const r = await receiver(() => ({ status: 200 }));
    closers.push(r.close);
    const { w, log } = writer(r.url, { queue_config: { capacity: 1000, max_samples_per_send: 1000 } });
    // Offered back to back, without the event loop turning: nothing has reached the disk writer yet.
    for (let i = 0; i < 30; i++) w.offer(sample(i, 100));
    expect(w.stats().pendingSamples).toBeLessThanOrEqual(1000);
    expect(w.stats().dropped.memory_full).toBe(2000);
    await waitFor(() => w.stats().sent === 1000, 10_000, 'the kept samples sent');
    expect(r.received.flatMap((x) => x.values)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(log.lines().filter((l) => l.reason === 'memory_full')).toHaveLength(20);
  });

  it('gives up on a receiver that trickles an endless answer after remote_timeout, and retries', async () => {
    const trickle = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const port = await freePort();
    await new Promise<void>((r) => trickle.listen(port, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => { trickle.closeAllConnections(); trickle.close(() => r()); }));
    const { w } = writer(`http://127.0.0.1:${port}/api/v1/write`, { remote_timeout: '500ms' });
    w.offer(sample(1));
    await waitFor(() => w.stats().failures >= 2, 10_000, 'the endless answer cut off and retried');
    expect(w.stats()).toMatchObject({ sent: 0, queuedSamples: 10 });
  });
});

describe('remote write over TLS', () => {
  it('verifies the receiver against ca_file and presents cert_file/key_file; an unknown CA is a retried failure, not a send', async () => {
    const server = makeCertificate('receiver');
    const client = makeCertificate('agent');
    const seen: Array<string | undefined> = [];
    const https = createHttpsServer({ cert: server.cert, key: server.key, ca: client.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      seen.push((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN);
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    const port = await freePort();
    await new Promise<void>((r) => https.listen(port, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => https.close(() => r())));
    const url = `https://127.0.0.1:${port}/api/v1/write`;
    const good = writer(url, { tls_config: { ca_file: server.certFile, cert_file: client.certFile, key_file: client.keyFile } });
    good.w.offer(sample(1));
    await waitFor(() => good.w.stats().sent === 10, 10_000, 'sent over mutual TLS');
    expect(seen).toEqual(['agent']);
    const untrusted = writer(url, { tls_config: { cert_file: client.certFile, key_file: client.keyFile } });
    untrusted.w.offer(sample(2));
    await waitFor(() => untrusted.w.stats().failures > 0, 10_000, 'a TLS failure');
    expect(untrusted.w.stats()).toMatchObject({ sent: 0, dropped: { rejected: 0 } });
    expect(seen).toEqual(['agent']);
  });
});

describe('the disk queue', () => {
  it('holds requests while the receiver is unreachable, drops the oldest past max_bytes and says what it dropped', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/api/v1/write`;
    // About four segments of 10 samples fit in 1,000 bytes.
    const { w, log } = writer(url, { disk_queue: { max_bytes: 1000 } });
    for (let i = 0; i < 20; i++) {
      w.offer(sample(i));
      await waitFor(() => w.stats().pendingSamples === 0, 5000);
    }
    await waitFor(() => w.stats().dropped.disk_full > 0, 5000, 'a drop');
    const s = w.stats();
    expect(s.queuedBytes).toBeLessThanOrEqual(1000);
    expect(s.queuedSamples + s.dropped.disk_full).toBe(200);
    expect(s.failures).toBeGreaterThan(0);
    const drops = log.lines().filter((l) => l.msg === 'remote write dropped samples');
    // Each drop names the sample time it lost; the oldest go first (but for the one being sent, which stays).
    const lost = drops.map((d) => (Date.parse(String(d.from)) - sample(0).timestamp) / 1000);
    expect(drops.every((d) => d.reason === 'disk_full' && d.samples === 10)).toBe(true);
    expect(lost.length).toBe(s.dropped.disk_full / 10);
    expect(Math.max(...lost)).toBeLessThan(20 - s.queuedSamples / 10 + 1);

    // The receiver comes up on the same port: the newest requests arrive, the oldest were the ones given up.
    const values: number[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        values.push(...new Set(decodeBody(Buffer.concat(chunks)).timeseries.flatMap((t) => t.samples.map((p) => p.value))));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    await waitFor(() => w.stats().queuedSamples === 0, 10_000, 'the queue to drain');
    expect(values.at(-1)).toBe(19);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(values.length * 10).toBe(s.queuedSamples);
    // Delivered and dropped make up every sample offered, each exactly once.
    expect([...values, ...lost].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('keeps what was queued across a restart of the agent, and sends it then', async () => {
    const port = await freePort();
    const first = writer(`http://127.0.0.1:${port}/api/v1/write`);
    for (let i = 0; i < 3; i++) first.w.offer(sample(i));
    await first.w.stop();
    expect(readdirSync(first.dir).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(0);
    // A half-written segment from a crash is not part of the queue.
    writeFileSync(join(first.dir, '0000000000000099-10-0.seg.tmp'), 'garbage');

    const r = await receiver(() => ({ status: 200 }));
    closers.push(r.close);
    const cfg = remoteWriteSchema.parse({ url: r.url, name: 'test', disk_queue: { dir: first.dir }, queue_config: { batch_send_deadline: '50ms' } });
    const log = capturedLog();
    const second = createRemoteWriter(cfg, { labels: { instance: 'h' }, log: log.log });
    writers.push(second);
    await waitFor(() => second.stats().sent === 30, 10_000, 'the previous run\'s queue sent');
    expect(r.received.flatMap((x) => x.values)).toEqual([0, 1, 2]);
    expect(existsSync(join(first.dir, '0000000000000099-10-0.seg.tmp'))).toBe(false);
    expect(log.lines().some((l) => l.msg === 'remote write: resending the queue a previous run left' && l.samples === 30)).toBe(true);
  });

  it('never drops the segment being sent, nor the newest one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-dq-'));
    const q = openDiskQueue(dir, 10);
    await q.append(Buffer.alloc(8), 1, 1);
    q.hold(q.head());
    const dropped = await q.append(Buffer.alloc(8), 1, 2);
    expect(dropped).toBeUndefined();
    expect(q.stats()).toMatchObject({ segments: 2, bytes: 16 });
    const third = await q.append(Buffer.alloc(8), 1, 3);
    expect(third).toEqual({ segments: 1, samples: 1, from: 2, to: 2 });
    expect(q.stats()).toMatchObject({ segments: 2, oldest: 1 });
  });
});

describe('remote_write config', () => {
  const errors = (remoteWrite: unknown): string[] => {
    const r = configSchema.safeParse({ remote_write: remoteWrite });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes Prometheus\'s shape with its defaults', () => {
    const c = configSchema.parse({ remote_write: [{ url: 'https://mimir.example:443/api/v1/push' }], external_labels: { site: 'dmz' } });
    expect(c.remote_write[0]).toMatchObject({
      url: 'https://mimir.example:443/api/v1/push',
      remote_timeout: 30,
      queue_config: { capacity: 10_000, max_samples_per_send: 2000, batch_send_deadline: 5, min_backoff: 0.03, max_backoff: 5, retry_on_http_429: true },
      disk_queue: { max_bytes: 256 * 2 ** 20 },
    });
    expect(c.external_labels).toEqual({ site: 'dmz' });
    expect(configSchema.parse({}).remote_write).toEqual([]);
  });

  it('names what is wrong', () => {
    expect(errors([{ url: 'mimir:9009' }])).toEqual(['remote_write.0.url: expected an http:// or https:// URL']);
    expect(errors([{ url: 'http://a/x', basic_auth: { username: 'u', password: 'p' }, bearer_token: 't' }])[0]).toMatch(/at most one of basic_auth, bearer_token/);
    expect(errors([{ url: 'http://a/x', queue_config: { min_backoff: '10s', max_backoff: '1s' } }])).toEqual(['remote_write.0.queue_config.min_backoff: min_backoff must not be longer than max_backoff']);
    expect(errors([{ url: 'http://a/x' }, { url: 'http://a/y' }])).toEqual(['remote_write.1.name: two remote_write entries are named "a"; give each its own name']);
    expect(errors([{ url: 'http://a/x', headers: { Authorization: 'x' } }])[0]).toMatch(/headers may not set Authorization/);
    expect(configSchema.safeParse({ external_labels: { __name__: 'x' } }).success).toBe(false);
  });
});
