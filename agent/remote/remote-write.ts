import { join } from 'node:path';
import type { Logger } from 'pino';
import { compress } from 'snappyjs';
import type { Sample } from '../metrics/sample.js';
import type { Stage } from '../metrics/sample.js';
import { openDiskQueue, type DiskQueue, type Dropped } from './disk-queue.js';
import { remoteName, type RemoteWriteConfig } from './schema.js';
import { createSender, type Send } from './send.js';
import { pointCount, toTimeSeries } from './series.js';
import { encodeWriteRequest } from './write-request.js';

/** Where an endpoint's queue lives unless its disk_queue.dir says otherwise: beside the service's config and logs on Windows. */
export const DEFAULT_QUEUE_ROOT =
  process.platform === 'win32' ? join(process.env.ProgramData ?? 'C:\\ProgramData', 'contention-agent', 'remote-write') : '/var/lib/contention-agent/remote-write';

export type DropReason = 'memory_full' | 'disk_full' | 'disk_error' | 'rejected';

export interface RemoteWriteStats {
  readonly remote: string;
  readonly sent: number;
  readonly failures: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  readonly pendingSamples: number;
  readonly queuedSamples: number;
  readonly queuedBytes: number;
  readonly maxBytes: number;
  /** Unix ms of the oldest sample still waiting on disk. */
  readonly oldestQueued?: number;
}

export interface RemoteWriter {
  /** Takes a sample to push. Returns at once: encoding, disk and network happen later, off the sampling path. */
  offer(sample: Sample): void;
  stats(): RemoteWriteStats;
  /** Writes what is still in memory to the disk queue and stops sending; the queue is resent at the next start. */
  stop(): Promise<void>;
}

export interface RemoteWriterOptions {
  readonly labels: Readonly<Record<string, string>>;
  readonly log: Logger;
  /** Series the sample does not hold but the receiver should get (the agent's start time). */
  readonly extra?: (sample: Sample) => ReadonlyArray<{ name: string; value: number }>;
  /** For tests: a sender other than HTTP. */
  readonly send?: Send;
}

const queueDir = (cfg: RemoteWriteConfig): string => cfg.disk_queue.dir ?? join(DEFAULT_QUEUE_ROOT, remoteName(cfg).replace(/[^A-Za-z0-9_.-]/g, '_'));

/**
 * One remote_write endpoint: samples wait in memory (bounded by queue_config.capacity) until a batch
 * is due, are encoded and compressed once into a segment of the disk queue (bounded by
 * disk_queue.max_bytes), and are sent oldest first, one request at a time, so the receiver gets every
 * series in order. A 5xx, a 429 or a network error keeps the segment and retries with doubling
 * backoff; any other 4xx drops it (it would fail the same way for ever) and says so.
 * Throws when the queue directory or a TLS file cannot be used: the agent then fails to start.
 */
export function createRemoteWriter(cfg: RemoteWriteConfig, opts: RemoteWriterOptions): RemoteWriter {
  const remote = remoteName(cfg);
  const log = opts.log.child({ remote });
  const q = cfg.queue_config;
  const send = opts.send ?? createSender(cfg);
  const disk: DiskQueue = openDiskQueue(queueDir(cfg), cfg.disk_queue.max_bytes);
  const dropped: Record<DropReason, number> = { memory_full: 0, disk_full: 0, disk_error: 0, rejected: 0 };
  let sent = 0;
  let failures = 0;
  let pending: Sample[] = [];
  let pendingPoints = 0;
  /** Points handed to the disk writer and not yet written: they count against the memory bound too, so a stalled disk cannot grow memory. */
  let writingPoints = 0;
  let batchTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let sending = false;
  let backoffMs = 0;
  let stopped = false;
  const abort = new AbortController();
  const recovered = disk.stats();
  if (recovered.segments > 0) log.info({ samples: recovered.samples, bytes: recovered.bytes }, 'remote write: resending the queue a previous run left');

  const pointsOf = (s: Sample): number => {
    let n = opts.extra?.(s).length ?? 0;
    for (const values of s.families.values()) n += values.length;
    return n;
  };

  const reportDrop = (reason: DropReason, what: Dropped | { samples: number; from: number; to: number }, detail: string): void => {
    dropped[reason] += what.samples;
    log.warn(
      { reason, samples: what.samples, from: new Date(what.from).toISOString(), to: new Date(what.to).toISOString(), detail },
      'remote write dropped samples',
    );
  };

  /** Encodes what waits in memory into segments of at most max_samples_per_send points, in time order. */
  const flush = (): Promise<void> => {
    if (batchTimer) clearTimeout(batchTimer);
    batchTimer = undefined;
    const batch = pending;
    const batchPoints = pendingPoints;
    pending = [];
    pendingPoints = 0;
    if (batch.length === 0) return flushing;
    writingPoints += batchPoints;
    flushing = flushing.then(async () => {
      try {
        await writeBatch(batch);
      } finally {
        writingPoints -= batchPoints;
      }
      void pump();
    });
    return flushing;
  };

  const writeBatch = async (batch: Sample[]): Promise<void> => {
    // Whole samples per request where they fit, so one request is one or more instants of the host.
    const groups: Sample[][] = [];
    let group: Sample[] = [];
    let points = 0;
    for (const s of batch) {
      const n = pointsOf(s);
      if (group.length > 0 && points + n > q.max_samples_per_send) {
        groups.push(group);
        group = [];
        points = 0;
      }
      group.push(s);
      points += n;
    }
    if (group.length > 0) groups.push(group);
    for (const g of groups) {
      const all = toTimeSeries(g, opts.labels, opts.extra);
      // One sample can hold more series than a request may: split it by series.
      for (let i = 0; i < all.length; ) {
        const chunk = [];
        let n = 0;
        while (i < all.length && (chunk.length === 0 || n + all[i]!.samples.length <= q.max_samples_per_send)) {
          n += all[i]!.samples.length;
          chunk.push(all[i++]!);
        }
        const oldest = g[0]!.timestamp;
        try {
          const body = Buffer.from(compress(encodeWriteRequest(chunk)));
          const lost = await disk.append(body, pointCount(chunk), oldest);
          if (lost) reportDrop('disk_full', lost, `the disk queue holds at most ${cfg.disk_queue.max_bytes} bytes; the oldest segments went`);
        } catch (err) {
          reportDrop('disk_error', { samples: pointCount(chunk), from: oldest, to: g.at(-1)!.timestamp }, (err as Error).message);
        }
      }
    }
  };

  const pump = async (): Promise<void> => {
    if (sending || stopped || retryTimer) return;
    sending = true;
    try {
      for (let head = disk.head(); head && !stopped; head = disk.head()) {
        disk.hold(head);
        let body: Buffer;
        try {
          body = await disk.read(head);
        } catch (err) {
          await disk.remove(head).catch(() => undefined);
          reportDrop('disk_error', { samples: head.samples, from: head.oldest, to: head.oldest }, `cannot read a queued segment: ${(err as Error).message}`);
          continue;
        }
        const outcome = await send(body, abort.signal);
        if (stopped) return;
        if (outcome.kind === 'ok') {
          await disk.remove(head).catch((err: Error) => log.warn({ err: err.message }, 'remote write: cannot remove a sent segment'));
          sent += head.samples;
          if (backoffMs > 0) log.info({ queued_samples: disk.stats().samples }, 'remote write: receiver accepts again');
          backoffMs = 0;
          continue;
        }
        if (outcome.kind === 'reject') {
          await disk.remove(head).catch(() => undefined);
          reportDrop('rejected', { samples: head.samples, from: head.oldest, to: head.oldest }, outcome.reason);
          continue;
        }
        failures++;
        backoffMs = Math.min(q.max_backoff * 1000, backoffMs === 0 ? q.min_backoff * 1000 : backoffMs * 2);
        const wait = Math.min(q.max_backoff * 1000, Math.max(backoffMs, outcome.retryAfterMs ?? 0));
        // Logged when the backoff first reaches its ceiling and then once a minute, not at every retry.
        if (failures === 1 || backoffMs < q.max_backoff * 1000 || failures % Math.max(1, Math.round(60_000 / wait)) === 0) {
          log.warn({ err: outcome.reason, retry_in_ms: Math.round(wait), queued_samples: disk.stats().samples }, 'remote write failed; retrying');
        }
        disk.hold(undefined);
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          void pump();
        }, wait);
        return;
      }
    } finally {
      sending = false;
    }
  };

  void pump();

  return {
    offer(sample) {
      if (stopped) return;
      pending.push(sample);
      pendingPoints += pointsOf(sample);
      while (pendingPoints + writingPoints > q.capacity && pending.length > 0) {
        const old = pending.shift()!;
        const n = pointsOf(old);
        pendingPoints -= n;
        reportDrop('memory_full', { samples: n, from: old.timestamp, to: old.timestamp }, `more than queue_config.capacity (${q.capacity}) samples waited for the disk`);
      }
      if (pending.length === 0) return;
      if (pendingPoints >= q.max_samples_per_send) setImmediate(() => void flush());
      else batchTimer ??= setTimeout(() => void flush(), q.batch_send_deadline * 1000);
    },
    stats() {
      const d = disk.stats();
      return {
        remote,
        sent,
        failures,
        dropped: { ...dropped },
        pendingSamples: pendingPoints + writingPoints,
        queuedSamples: d.samples,
        queuedBytes: d.bytes,
        maxBytes: cfg.disk_queue.max_bytes,
        ...(d.oldest !== undefined ? { oldestQueued: d.oldest } : {}),
      };
    },
    async stop() {
      await flush();
      stopped = true;
      abort.abort();
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
    },
  };
}

/** A stage that exports each endpoint's counters with every sample (they are pushed too). */
export function remoteWriteMetricsStage(writers: readonly Pick<RemoteWriter, 'stats'>[]): Stage {
  return {
    name: 'remote_write',
    run(_sample, sink) {
      for (const w of writers) {
        const s = w.stats();
        const remote = { remote: s.remote };
        sink.set('contention_remote_write_samples_sent_total', remote, s.sent);
        sink.set('contention_remote_write_failures_total', remote, s.failures);
        for (const [reason, n] of Object.entries(s.dropped)) sink.set('contention_remote_write_samples_dropped_total', { ...remote, reason }, n);
        sink.set('contention_remote_write_pending_samples', remote, s.pendingSamples);
        sink.set('contention_remote_write_queue_samples', remote, s.queuedSamples);
        sink.set('contention_remote_write_queue_bytes', remote, s.queuedBytes);
        sink.set('contention_remote_write_queue_max_bytes', remote, s.maxBytes);
        if (s.oldestQueued !== undefined) sink.set('contention_remote_write_queue_oldest_timestamp_seconds', remote, s.oldestQueued / 1000);
      }
    },
  };
}
