import type { Sample } from '../metrics/sample.js';
import type { Point, SeriesSource, StoredSeries } from './source.js';

export interface HistoryOptions {
  /** How long raw samples are kept, in seconds. */
  readonly rawSeconds: number;
  /** The sample interval, in seconds: sizes the raw ring. */
  readonly sampleSeconds: number;
  /** Width of a downsampled bucket, in seconds. */
  readonly bucketSeconds: number;
  /** How long downsampled buckets are kept, in seconds. */
  readonly retentionSeconds: number;
  /** Most series kept; a new series past this is dropped and counted. */
  readonly maxSeries: number;
  /** Families kept: a series is kept when its name starts with one of these. */
  readonly families: readonly string[];
}

export interface History extends SeriesSource {
  /** Records every watched series of a sample. */
  record(sample: Sample): void;
  /** Records one point of an internal series (per-process rings) that is not an exported family. */
  recordPoint(name: string, labels: Readonly<Record<string, string>>, t: number, v: number): void;
  /** Series held now, series refused because the cap was reached (since start), and bytes held. */
  stats(): { series: number; dropped: number; bytes: number };
}

/** A fixed-size circular buffer of (time, value) in typed arrays: 16 bytes a point, allocated once. */
interface Ring {
  readonly t: Float64Array;
  readonly v: Float64Array;
  start: number;
  length: number;
}

const ring = (capacity: number): Ring => ({ t: new Float64Array(capacity), v: new Float64Array(capacity), start: 0, length: 0 });

function push(r: Ring, t: number, v: number): void {
  const capacity = r.t.length;
  const at = (r.start + r.length) % capacity;
  r.t[at] = t;
  r.v[at] = v;
  if (r.length < capacity) r.length++;
  else r.start = (r.start + 1) % capacity;
}

function* points(r: Ring): Generator<Point> {
  for (let i = 0; i < r.length; i++) {
    const at = (r.start + i) % r.t.length;
    yield { t: r.t[at]!, v: r.v[at]! };
  }
}

interface Entry {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly raw: Ring;
  /** One point per bucket: the bucket's last value at its last time, so counters stay counters. */
  readonly buckets: Ring;
  bucketEnd: number;
  lastSeen: number;
}

/**
 * The agent's local memory of what it sampled: per series, a raw ring for the last `rawSeconds` and
 * a ring of downsampled buckets for `retentionSeconds`. Memory is fixed per series and capped by
 * `maxSeries`; series unseen for the whole raw span are forgotten.
 */
export function createHistory(opts: HistoryOptions): History {
  const rawCapacity = Math.ceil(opts.rawSeconds / opts.sampleSeconds) + 1;
  const bucketCapacity = Math.ceil(opts.retentionSeconds / opts.bucketSeconds) + 1;
  const bucketMs = opts.bucketSeconds * 1000;
  const entries = new Map<string, Entry>();
  const byName = new Map<string, Set<Entry>>();
  let dropped = 0;
  let lastSweep = 0;

  const keyOf = (name: string, labels: Readonly<Record<string, string>>): string => {
    let key = name;
    for (const k of Object.keys(labels).sort()) key += `\u0000${k}\u0001${labels[k]}`;
    return key;
  };

  const write = (name: string, labels: Readonly<Record<string, string>>, t: number, v: number): void => {
    const key = keyOf(name, labels);
    let entry = entries.get(key);
    if (!entry) {
      if (entries.size >= opts.maxSeries) {
        dropped++;
        return;
      }
      entry = { name, labels, raw: ring(rawCapacity), buckets: ring(bucketCapacity), bucketEnd: 0, lastSeen: t };
      entries.set(key, entry);
      let set = byName.get(name);
      if (!set) byName.set(name, (set = new Set()));
      set.add(entry);
    }
    push(entry.raw, t, v);
    entry.lastSeen = t;
    if (t >= entry.bucketEnd) {
      push(entry.buckets, t, v);
      entry.bucketEnd = Math.floor(t / bucketMs) * bucketMs + bucketMs;
    } else {
      const last = (entry.buckets.start + entry.buckets.length - 1) % entry.buckets.t.length;
      entry.buckets.t[last] = t;
      entry.buckets.v[last] = v;
    }
  };

  const sweep = (now: number): void => {
    if (now - lastSweep < opts.rawSeconds * 1000) return;
    lastSweep = now;
    for (const [key, e] of entries) {
      if (now - e.lastSeen > opts.rawSeconds * 1000) {
        entries.delete(key);
        byName.get(e.name)?.delete(e);
      }
    }
  };

  return {
    record(sample) {
      for (const [name, list] of sample.families) {
        if (!opts.families.some((prefix) => name.startsWith(prefix))) continue;
        for (const s of list) write(name, s.labels, sample.timestamp, s.value);
      }
      sweep(sample.timestamp);
    },
    recordPoint: write,
    select(name, startMs, endMs) {
      const out: StoredSeries[] = [];
      for (const e of byName.get(name) ?? []) {
        const raw = [...points(e.raw)];
        const rawStart = raw[0]?.t ?? Infinity;
        // Older than the raw ring reaches: downsampled buckets; within it: every raw point.
        const older = startMs < rawStart ? [...points(e.buckets)].filter((p) => p.t >= startMs && p.t < rawStart && p.t <= endMs) : [];
        const recent = raw.filter((p) => p.t >= startMs && p.t <= endMs);
        const pts = [...older, ...recent];
        if (pts.length > 0) out.push({ name, labels: e.labels, points: pts });
      }
      return out;
    },
    stats() {
      return { series: entries.size, dropped, bytes: entries.size * 16 * (rawCapacity + bucketCapacity) };
    },
  };
}
