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
  /** Every series' points, oldest first, to persist. */
  snapshot(): SeriesSnapshot[];
  /**
   * Puts persisted series back (at start, into an empty history): raw points and buckets are
   * appended as if recorded, so sizes changed since they were saved keep only what fits.
   */
  restore(series: readonly SeriesSnapshot[]): void;
}

/** One series as persisted: raw points, and buckets (time of last point, last, min, max) with the end of the newest. */
export interface SeriesSnapshot {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly rawT: Float64Array;
  readonly rawV: Float64Array;
  readonly bucketT: Float64Array;
  readonly bucketLast: Float64Array;
  readonly bucketMin: Float64Array;
  readonly bucketMax: Float64Array;
  readonly bucketEnd: number;
}

export interface ArraySeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Unix ms, in time order. */
  readonly t: Float64Array;
  readonly v: Float64Array;
}

/** Bytes one series holds at most: a raw point is time and value, a bucket is time, min, max and last (all float64). */
export function bytesPerSeries(opts: Pick<HistoryOptions, 'rawSeconds' | 'sampleSeconds' | 'bucketSeconds' | 'retentionSeconds'>): number {
  const { raw, buckets } = capacities(opts);
  return raw * RAW_FIELDS * 8 + buckets * BUCKET_FIELDS * 8;
}

function capacities(opts: Pick<HistoryOptions, 'rawSeconds' | 'sampleSeconds' | 'bucketSeconds' | 'retentionSeconds'>) {
  return {
    raw: Math.ceil(opts.rawSeconds / opts.sampleSeconds) + 1,
    buckets: Math.ceil(opts.retentionSeconds / opts.bucketSeconds) + 1,
  };
}

// A raw point is [t, v]; a bucket is [t of its last point, last, min, max], interleaved in one array
// per ring: two typed arrays a series instead of six, each with its own buffer and header.
const RAW_FIELDS = 2;
const BUCKET_FIELDS = 4;
const LAST = 1;
const MIN = 2;
const MAX = 3;
// A ring starts this small and doubles up to its full size: most series a host churns through (a
// pid in the top set for a few samples) never need an hour of points, and a series is forgotten
// with everything it held after a raw span unseen.
const FIRST_RAW = 16;
const FIRST_BUCKETS = 4;

/** A circular index over a typed array of `capacity` elements of `fields` numbers, grown up to `max`. */
interface Ring {
  readonly fields: number;
  readonly max: number;
  capacity: number;
  start: number;
  length: number;
  data: Float64Array;
}

const ring = (fields: number, first: number, max: number): Ring => {
  const capacity = Math.min(first, max);
  return { fields, max, capacity, start: 0, length: 0, data: new Float64Array(capacity * fields) };
};

/** Doubles a full ring (up to its maximum), oldest element first at slot 0. */
function grow(r: Ring): void {
  const capacity = Math.min(r.max, r.capacity * 2);
  const data = new Float64Array(capacity * r.fields);
  for (let i = 0; i < r.length; i++) {
    const from = at(r, i);
    for (let f = 0; f < r.fields; f++) data[i * r.fields + f] = r.data[from + f]!;
  }
  r.data = data;
  r.capacity = capacity;
  r.start = 0;
}

/** The index in `data` a new element goes to; advances the ring, growing it or else overwriting the oldest when full. */
function advance(r: Ring): number {
  if (r.length === r.capacity && r.capacity < r.max) grow(r);
  const next = (r.start + r.length) % r.capacity;
  if (r.length < r.capacity) r.length++;
  else r.start = (r.start + 1) % r.capacity;
  return next * r.fields;
}

const slot = (r: Ring, i: number): number => (r.start + i) % r.capacity;
/** Index in `data` of element `i` (0 the oldest). */
const at = (r: Ring, i: number): number => slot(r, i) * r.fields;

interface Entry {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly raw: Ring;
  readonly buckets: Ring;
  /** End (exclusive) of the newest bucket. */
  bucketEnd: number;
  lastSeen: number;
}

const held = (e: Entry): number => (e.raw.capacity * e.raw.fields + e.buckets.capacity * e.buckets.fields) * 8;

/**
 * The agent's local memory of what it sampled: per series, a raw ring for the last `rawSeconds` and
 * a ring of downsampled buckets (min, max, last) for `retentionSeconds`. A series holds what it has
 * recorded, up to a fixed size (`bytesPerSeries`), and there are at most `maxSeries`; series unseen
 * for the whole raw span are forgotten.
 */
export function createHistory(opts: HistoryOptions): History {
  const cap = capacities(opts);
  const bucketMs = opts.bucketSeconds * 1000;
  const forgetMs = opts.rawSeconds * 1000;
  const entries = new Map<string, Entry>();
  const byName = new Map<string, Set<Entry>>();
  let dropped = 0;
  let lastSweep = 0;
  // Restored series get a raw span from the restore to be seen again: the host may have been down for longer.
  let restoredAt = -Infinity;

  const keyOf = (name: string, labels: Readonly<Record<string, string>>): string => `${name}\u0002${labelsKey(labels)}`;

  const add = (key: string, name: string, labels: Readonly<Record<string, string>>, raw: number, buckets: number): Entry => {
    const e: Entry = {
      name,
      labels: { ...labels },
      raw: ring(RAW_FIELDS, Math.max(raw, FIRST_RAW), cap.raw),
      buckets: ring(BUCKET_FIELDS, Math.max(buckets, FIRST_BUCKETS), cap.buckets),
      bucketEnd: -Infinity,
      lastSeen: -Infinity,
    };
    entries.set(key, e);
    let set = byName.get(name);
    if (!set) byName.set(name, (set = new Set()));
    set.add(e);
    return e;
  };

  const write = (name: string, labels: Readonly<Record<string, string>>, t: number, v: number): void => {
    const key = keyOf(name, labels);
    let e = entries.get(key);
    if (!e) {
      if (entries.size >= opts.maxSeries) {
        dropped++;
        return;
      }
      e = add(key, name, labels, 0, 0);
    }
    // A clock stepping back would break time order; such points wait until time catches up.
    if (t < e.lastSeen) return;
    const b = e.buckets;
    if (t === e.lastSeen) {
      const newest = at(b, b.length - 1);
      e.raw.data[at(e.raw, e.raw.length - 1) + 1] = v;
      b.data[newest + LAST] = v;
      // Min and max keep the overwritten value too: a re-recorded sample carries the same readings.
      b.data[newest + MIN] = Math.min(b.data[newest + MIN]!, v);
      b.data[newest + MAX] = Math.max(b.data[newest + MAX]!, v);
      return;
    }
    const r = advance(e.raw);
    e.raw.data[r] = t;
    e.raw.data[r + 1] = v;
    e.lastSeen = t;
    if (t >= e.bucketEnd) {
      const n = advance(b);
      b.data[n] = t;
      b.data[n + LAST] = v;
      b.data[n + MIN] = v;
      b.data[n + MAX] = v;
      e.bucketEnd = Math.floor(t / bucketMs) * bucketMs + bucketMs;
    } else {
      const newest = at(b, b.length - 1);
      b.data[newest] = t;
      b.data[newest + LAST] = v;
      if (v < b.data[newest + MIN]!) b.data[newest + MIN] = v;
      if (v > b.data[newest + MAX]!) b.data[newest + MAX] = v;
    }
  };

  const sweep = (now: number): void => {
    // Often enough that a churn of short-lived series frees its slots well before the cap bites.
    if (now - lastSweep < Math.min(forgetMs, 60_000)) return;
    lastSweep = now;
    for (const [key, e] of entries) {
      if (now - Math.max(e.lastSeen, restoredAt) > forgetMs) {
        entries.delete(key);
        const set = byName.get(e.name)!;
        set.delete(e);
        if (set.size === 0) byName.delete(e.name);
      }
    }
  };

  /** Calls `emit` for each point in range, in time order: buckets (their `field`) before the raw ring reaches, then raw points. */
  const read = (e: Entry, startMs: number, endMs: number, field: number, emit: (t: number, v: number) => void): void => {
    const raw = e.raw.data;
    const rawStart = e.raw.length > 0 ? raw[at(e.raw, 0)]! : Infinity;
    if (startMs < rawStart) {
      const b = e.buckets.data;
      for (let i = 0; i < e.buckets.length; i++) {
        const k = at(e.buckets, i);
        const t = b[k]!;
        if (t >= rawStart || t > endMs) break;
        if (t >= startMs) emit(t, b[k + field]!);
      }
    }
    for (let i = 0; i < e.raw.length; i++) {
      const k = at(e.raw, i);
      const t = raw[k]!;
      if (t > endMs) break;
      if (t >= startMs) emit(t, raw[k + 1]!);
    }
  };

  const select = (name: string, startMs: number, endMs: number): StoredSeries[] => {
    const out: StoredSeries[] = [];
    for (const e of byName.get(name) ?? []) {
      const points: Point[] = [];
      read(e, startMs, endMs, LAST, (t, v) => points.push({ t, v }));
      if (points.length > 0) out.push({ name, labels: e.labels, points });
    }
    return out;
  };

  const selectFloors = (name: string, startMs: number, endMs: number): ArraySeries[] => {
    const out: ArraySeries[] = [];
    for (const e of byName.get(name) ?? []) {
      let n = 0;
      read(e, startMs, endMs, MIN, () => n++);
      if (n === 0) continue;
      const t = new Float64Array(n);
      const v = new Float64Array(n);
      let i = 0;
      read(e, startMs, endMs, MIN, (pt, pv) => {
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
    stats() {
      let bytes = 0;
      entries.forEach((e) => (bytes += held(e)));
      return { series: entries.size, dropped, bytes };
    },
    snapshot() {
      const column = (r: Ring, field: number): Float64Array => {
        const out = new Float64Array(r.length);
        for (let i = 0; i < r.length; i++) out[i] = r.data[at(r, i) + field]!;
        return out;
      };
      return [...entries.values()].map((e) => ({
        name: e.name,
        labels: e.labels,
        rawT: column(e.raw, 0),
        rawV: column(e.raw, 1),
        bucketT: column(e.buckets, 0),
        bucketLast: column(e.buckets, LAST),
        bucketMin: column(e.buckets, MIN),
        bucketMax: column(e.buckets, MAX),
        bucketEnd: e.bucketEnd,
      }));
    },
    restore(series) {
      restoredAt = Date.now();
      for (const s of series) {
        const key = keyOf(s.name, s.labels);
        if (entries.has(key) || entries.size >= opts.maxSeries) continue;
        const e = add(key, s.name, s.labels, s.rawT.length, s.bucketT.length);
        for (let i = 0; i < s.bucketT.length; i++) {
          const n = advance(e.buckets);
          e.buckets.data[n] = s.bucketT[i]!;
          e.buckets.data[n + LAST] = s.bucketLast[i]!;
          e.buckets.data[n + MIN] = s.bucketMin[i]!;
          e.buckets.data[n + MAX] = s.bucketMax[i]!;
        }
        for (let i = 0; i < s.rawT.length; i++) {
          const n = advance(e.raw);
          e.raw.data[n] = s.rawT[i]!;
          e.raw.data[n + 1] = s.rawV[i]!;
        }
        e.bucketEnd = s.bucketEnd;
        e.lastSeen = s.rawT.length > 0 ? s.rawT[s.rawT.length - 1]! : -Infinity;
      }
    },
  };
}
