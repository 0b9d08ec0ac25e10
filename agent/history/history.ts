import { labelsKey } from '../metrics/labels.js';
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
  /** Most series kept; a new series past this is refused and counted. */
  readonly maxSeries: number;
  /** Families kept: a series is kept when its name starts with one of these. */
  readonly families: readonly string[];
}

export interface History extends SeriesSource {
  /**
   * Records every watched series of a sample (or of part of one). A series recorded twice at the same
   * time keeps the later value; the pipeline's history stage records each series once.
   */
  record(sample: Pick<Sample, 'timestamp' | 'families'>): void;
  /** Records one point of an internal series (per-process rings) that is not an exported family. */
  recordPoint(name: string, labels: Readonly<Record<string, string>>, t: number, v: number): void;
  /**
   * Like `select`, but beyond the raw span each downsampled bucket gives its minimum rather than its
   * last value: the floor a leak test needs (a sawtooth's last values are as likely peaks as troughs).
   * Returns typed arrays: the detector reads every watched series each sample, and a point object per
   * reading made most of its cost garbage.
   */
  selectFloors(name: string, startMs: number, endMs: number): ArraySeries[];
  /** Series held now, series refused because the cap was reached (since start), and bytes held. */
  stats(): { series: number; dropped: number; bytes: number };
}

export interface ArraySeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Unix ms, in time order. */
  readonly t: Float64Array;
  readonly v: Float64Array;
}

/** Bytes one series holds: a raw point is time and value, a bucket is time, min, max and last (all float64). */
export function bytesPerSeries(opts: Pick<HistoryOptions, 'rawSeconds' | 'sampleSeconds' | 'bucketSeconds' | 'retentionSeconds'>): number {
  const { raw, buckets } = capacities(opts);
  return raw * 16 + buckets * 32;
}

function capacities(opts: Pick<HistoryOptions, 'rawSeconds' | 'sampleSeconds' | 'bucketSeconds' | 'retentionSeconds'>) {
  return {
    raw: Math.ceil(opts.rawSeconds / opts.sampleSeconds) + 1,
    buckets: Math.ceil(opts.retentionSeconds / opts.bucketSeconds) + 1,
  };
}

/** A circular index over fixed-size typed arrays allocated once. */
interface Ring {
  readonly capacity: number;
  start: number;
  length: number;
}

/** The slot a new element goes to; advances the ring, overwriting the oldest when full. */
function advance(r: Ring): number {
  const at = (r.start + r.length) % r.capacity;
  if (r.length < r.capacity) r.length++;
  else r.start = (r.start + 1) % r.capacity;
  return at;
}

const slot = (r: Ring, i: number): number => (r.start + i) % r.capacity;

interface Entry {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly raw: Ring;
  readonly rawT: Float64Array;
  readonly rawV: Float64Array;
  readonly buckets: Ring;
  /** Time of a bucket's last point; its value is the bucket's last value, so counters stay counters. */
  readonly bucketT: Float64Array;
  readonly bucketLast: Float64Array;
  readonly bucketMin: Float64Array;
  readonly bucketMax: Float64Array;
  /** End (exclusive) of the newest bucket. */
  bucketEnd: number;
  lastSeen: number;
}

/**
 * The agent's local memory of what it sampled: per series, a raw ring for the last `rawSeconds` and
 * a ring of downsampled buckets (min, max, last) for `retentionSeconds`. Memory is fixed per series
 * and capped by `maxSeries`; series unseen for the whole raw span are forgotten.
 */
export function createHistory(opts: HistoryOptions): History {
  const cap = capacities(opts);
  const perSeries = bytesPerSeries(opts);
  const bucketMs = opts.bucketSeconds * 1000;
  const forgetMs = opts.rawSeconds * 1000;
  const entries = new Map<string, Entry>();
  const byName = new Map<string, Set<Entry>>();
  let dropped = 0;
  let lastSweep = 0;

  const keyOf = (name: string, labels: Readonly<Record<string, string>>): string => `${name}\u0002${labelsKey(labels)}`;

  const create = (name: string, labels: Readonly<Record<string, string>>): Entry => ({
    name,
    labels: { ...labels },
    raw: { capacity: cap.raw, start: 0, length: 0 },
    rawT: new Float64Array(cap.raw),
    rawV: new Float64Array(cap.raw),
    buckets: { capacity: cap.buckets, start: 0, length: 0 },
    bucketT: new Float64Array(cap.buckets),
    bucketLast: new Float64Array(cap.buckets),
    bucketMin: new Float64Array(cap.buckets),
    bucketMax: new Float64Array(cap.buckets),
    bucketEnd: -Infinity,
    lastSeen: -Infinity,
  });

  const write = (name: string, labels: Readonly<Record<string, string>>, t: number, v: number): void => {
    const key = keyOf(name, labels);
    let e = entries.get(key);
    if (!e) {
      if (entries.size >= opts.maxSeries) {
        dropped++;
        return;
      }
      e = create(name, labels);
      entries.set(key, e);
      let set = byName.get(name);
      if (!set) byName.set(name, (set = new Set()));
      set.add(e);
    }
    // A clock stepping back would break time order; such points wait until time catches up.
    if (t < e.lastSeen) return;
    const newestBucket = e.buckets.length > 0 ? slot(e.buckets, e.buckets.length - 1) : -1;
    if (t === e.lastSeen) {
      e.rawV[slot(e.raw, e.raw.length - 1)] = v;
      e.bucketLast[newestBucket] = v;
      // Min and max keep the overwritten value too: a re-recorded sample carries the same readings.
      e.bucketMin[newestBucket] = Math.min(e.bucketMin[newestBucket]!, v);
      e.bucketMax[newestBucket] = Math.max(e.bucketMax[newestBucket]!, v);
      return;
    }
    const at = advance(e.raw);
    e.rawT[at] = t;
    e.rawV[at] = v;
    e.lastSeen = t;
    if (t >= e.bucketEnd) {
      const b = advance(e.buckets);
      e.bucketT[b] = t;
      e.bucketLast[b] = v;
      e.bucketMin[b] = v;
      e.bucketMax[b] = v;
      e.bucketEnd = Math.floor(t / bucketMs) * bucketMs + bucketMs;
    } else {
      e.bucketT[newestBucket] = t;
      e.bucketLast[newestBucket] = v;
      if (v < e.bucketMin[newestBucket]!) e.bucketMin[newestBucket] = v;
      if (v > e.bucketMax[newestBucket]!) e.bucketMax[newestBucket] = v;
    }
  };

  const sweep = (now: number): void => {
    // Often enough that a churn of short-lived series frees its slots well before the cap bites.
    if (now - lastSweep < Math.min(forgetMs, 60_000)) return;
    lastSweep = now;
    for (const [key, e] of entries) {
      if (now - e.lastSeen > forgetMs) {
        entries.delete(key);
        const set = byName.get(e.name)!;
        set.delete(e);
        if (set.size === 0) byName.delete(e.name);
      }
    }
  };

  /** Calls `emit` for each point in range, in time order: buckets (`older`) before the raw ring reaches, then raw points. */
  const read = (e: Entry, startMs: number, endMs: number, older: Float64Array, emit: (t: number, v: number) => void): void => {
    const rawStart = e.raw.length > 0 ? e.rawT[slot(e.raw, 0)]! : Infinity;
    if (startMs < rawStart) {
      for (let i = 0; i < e.buckets.length; i++) {
        const at = slot(e.buckets, i);
        const t = e.bucketT[at]!;
        if (t >= rawStart || t > endMs) break;
        if (t >= startMs) emit(t, older[at]!);
      }
    }
    for (let i = 0; i < e.raw.length; i++) {
      const at = slot(e.raw, i);
      const t = e.rawT[at]!;
      if (t > endMs) break;
      if (t >= startMs) emit(t, e.rawV[at]!);
    }
  };

  const select = (name: string, startMs: number, endMs: number): StoredSeries[] => {
    const out: StoredSeries[] = [];
    for (const e of byName.get(name) ?? []) {
      const points: Point[] = [];
      read(e, startMs, endMs, e.bucketLast, (t, v) => points.push({ t, v }));
      if (points.length > 0) out.push({ name, labels: e.labels, points });
    }
    return out;
  };

  const selectFloors = (name: string, startMs: number, endMs: number): ArraySeries[] => {
    const out: ArraySeries[] = [];
    for (const e of byName.get(name) ?? []) {
      let n = 0;
      read(e, startMs, endMs, e.bucketMin, () => n++);
      if (n === 0) continue;
      const t = new Float64Array(n);
      const v = new Float64Array(n);
      let i = 0;
      read(e, startMs, endMs, e.bucketMin, (pt, pv) => {
        t[i] = pt;
        v[i++] = pv;
      });
      out.push({ labels: e.labels, t, v });
    }
    return out;
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
    select,
    selectFloors,
    stats: () => ({ series: entries.size, dropped, bytes: entries.size * perSeries }),
  };
}
