import { describe, expect, it } from 'vitest';
import { bytesPerSeries, createHistory, type HistoryOptions } from '../../agent/history/history.js';
import type { Sample, SeriesValue } from '../../agent/metrics/sample.js';
import { sampleOf } from '../helpers/builders.js';

const OPTS: HistoryOptions = { rawSeconds: 60, sampleSeconds: 5, bucketSeconds: 30, retentionSeconds: 300, maxSeries: 50, families: ['contention_'] };
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 30_000);

const sample = (timestamp: number, families: Record<string, SeriesValue[]>): Sample => sampleOf(timestamp, families);

/** Records `contention_x` every 5 s for `seconds`, with value f(i). */
function fill(h: ReturnType<typeof createHistory>, seconds: number, f: (i: number) => number, labels = {}) {
  for (let i = 0; i * 5 < seconds; i++) h.record(sample(T0 + i * 5000, { contention_x: [{ labels, value: f(i) }] }));
}

describe('history', () => {
  it('keeps every raw point of the raw span and serves them in time order', () => {
    const h = createHistory(OPTS);
    fill(h, 60, (i) => i);
    const [s] = h.select('contention_x', T0, T0 + 60_000);
    expect(s!.points.map((p) => p.v)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(s!.points.map((p) => p.t)).toEqual(Array.from({ length: 12 }, (_, i) => T0 + i * 5000));
  });

  it('honours both ends of a range and leaves out series with nothing in it', () => {
    const h = createHistory(OPTS);
    fill(h, 60, (i) => i);
    expect(h.select('contention_x', T0 + 10_000, T0 + 20_000)[0]!.points.map((p) => p.v)).toEqual([2, 3, 4]);
    expect(h.select('contention_x', T0 + 120_000, T0 + 180_000)).toEqual([]);
    expect(h.select('contention_unknown', T0, T0 + 60_000)).toEqual([]);
  });

  it('beyond the raw span serves one point per bucket: the last value for select, the minimum for selectFloors', () => {
    const h = createHistory(OPTS);
    // 5 minutes of a sawtooth 0..5 repeating every 30 s (one bucket)
    fill(h, 300, (i) => (i % 6) * 10 + 100);
    const now = T0 + 295_000;
    const [last] = h.select('contention_x', now - 300_000, now);
    const [floors] = h.selectFloors('contention_x', now - 300_000, now);
    const floor = { points: Array.from(floors!.t, (t, i) => ({ t, v: floors!.v[i]! })) };
    const rawStart = now - 60_000;
    const oldLast = last!.points.filter((p) => p.t < rawStart);
    const oldFloor = floor!.points.filter((p) => p.t < rawStart);
    expect(oldLast.length).toBeGreaterThanOrEqual(7);
    expect(oldLast.every((p) => p.v === 150)).toBe(true);
    expect(oldFloor.every((p) => p.v === 100)).toBe(true);
    // and the recent part is raw, identical in both
    expect(last!.points.filter((p) => p.t >= rawStart)).toEqual(floor!.points.filter((p) => p.t >= rawStart));
    expect(last!.points.filter((p) => p.t >= rawStart)).toHaveLength(13);
    // time order across the seam
    const ts = last!.points.map((p) => p.t);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  });

  it('forgets buckets older than the retention', () => {
    const h = createHistory(OPTS);
    fill(h, 900, (i) => i);
    const now = T0 + 895_000;
    const [s] = h.select('contention_x', 0, now);
    expect(s!.points[0]!.t).toBeGreaterThanOrEqual(now - 330_000);
  });

  it('recording the same sample again overwrites instead of adding a point', () => {
    const h = createHistory(OPTS);
    h.record(sample(T0, { contention_x: [{ labels: {}, value: 1 }] }));
    h.record(sample(T0, { contention_x: [{ labels: {}, value: 1 }], contention_y: [{ labels: {}, value: 7 }] }));
    expect(h.select('contention_x', T0, T0)[0]!.points).toEqual([{ t: T0, v: 1 }]);
    expect(h.select('contention_y', T0, T0)[0]!.points).toEqual([{ t: T0, v: 7 }]);
  });

  it('ignores a point older than the newest (a clock stepping back)', () => {
    const h = createHistory(OPTS);
    h.record(sample(T0 + 5000, { contention_x: [{ labels: {}, value: 2 }] }));
    h.record(sample(T0, { contention_x: [{ labels: {}, value: 1 }] }));
    expect(h.select('contention_x', 0, T0 + 10_000)[0]!.points).toEqual([{ t: T0 + 5000, v: 2 }]);
  });

  it('keeps only the configured families and tells series apart by every label', () => {
    const h = createHistory(OPTS);
    h.record(sample(T0, { contention_x: [{ labels: { a: '1' }, value: 1 }, { labels: { a: '2' }, value: 2 }], other_metric: [{ labels: {}, value: 3 }] }));
    expect(h.select('contention_x', T0, T0).map((s) => s.labels)).toEqual([{ a: '1' }, { a: '2' }]);
    expect(h.select('other_metric', T0, T0)).toEqual([]);
  });

  it('refuses new series past the cap, counts them, and takes them again once old ones are forgotten', () => {
    const h = createHistory({ ...OPTS, maxSeries: 10 });
    const many = (from: number) => Array.from({ length: 15 }, (_, i) => ({ labels: { pid: String(from + i) }, value: i }));
    h.record(sample(T0, { contention_x: many(0) }));
    expect(h.stats()).toMatchObject({ series: 10, dropped: 5 });
    // the first ten vanish; after the raw span they are forgotten and new ones fit
    for (let t = 5000; t <= 125_000; t += 5000) h.record(sample(T0 + t, { contention_y: [{ labels: {}, value: 1 }] }));
    h.record(sample(T0 + 130_000, { contention_x: many(100) }));
    expect(h.stats().series).toBe(10);
    expect(h.select('contention_x', T0 + 130_000, T0 + 130_000).map((s) => s.labels.pid)).toHaveLength(9);
    expect(h.select('contention_x', 0, T0).length).toBe(0);
  });

  it('states its memory: what it holds, growing with the points recorded up to 16 bytes a raw point and 32 a bucket a series, and that is what it allocates', () => {
    const defaults = { rawSeconds: 3600, sampleSeconds: 5, bucketSeconds: 300, retentionSeconds: 86_400 };
    expect(bytesPerSeries(defaults)).toBe(721 * 16 + 289 * 32);
    const h = createHistory({ ...defaults, maxSeries: 2000, families: ['contention_'] });
    const all = (n: number, t: number) => Array.from({ length: n }, (_, i) => ({ labels: { i: String(i) }, value: i + t }));
    const before = process.memoryUsage().arrayBuffers;
    const allocated = () => process.memoryUsage().arrayBuffers - before;
    h.record(sample(T0, { contention_x: all(2500, 0) }));
    // a new series holds 16 raw points and 4 buckets, not a day of them
    expect(h.stats()).toMatchObject({ series: 2000, dropped: 500, bytes: 2000 * (16 * 16 + 4 * 32) });
    expect(allocated()).toBeGreaterThan(h.stats().bytes * 0.95);
    expect(allocated()).toBeLessThan(h.stats().bytes * 1.05);

    // two hours of 100 of them: the raw ring is full (721 points), 25 buckets hold in 32
    const few = createHistory({ ...defaults, maxSeries: 2000, families: ['contention_'] });
    const start = process.memoryUsage().arrayBuffers;
    for (let t = 0; t <= 7_200_000; t += 5000) few.record(sample(T0 + t, { contention_x: all(100, t) }));
    expect(few.stats().bytes).toBe(100 * (721 * 16 + 32 * 32));
    const [first] = few.select('contention_x', T0 + 3_600_000, T0 + 7_200_000).filter((s) => s.labels.i === '0');
    expect(first!.points).toHaveLength(721);
    expect(first!.points.at(-1)).toEqual({ t: T0 + 7_200_000, v: 7_200_000 });
    // a day: every ring at its full size, which is the bound, and an hour more allocates nothing
    for (let t = 7_205_000; t <= 90_000_000; t += 5000) few.record(sample(T0 + t, { contention_x: all(100, t) }));
    expect(few.stats().bytes).toBe(100 * bytesPerSeries(defaults));
    const full = process.memoryUsage().arrayBuffers - start;
    for (let t = 90_005_000; t <= 93_600_000; t += 5000) few.record(sample(T0 + t, { contention_x: all(100, t) }));
    expect(few.stats().bytes).toBe(100 * bytesPerSeries(defaults));
    expect(process.memoryUsage().arrayBuffers - start).toBeLessThan(full + 100 * bytesPerSeries(defaults) * 0.05);
    const floors = few.selectFloors('contention_x', T0, T0 + 93_600_000).find((s) => s.labels.i === '0')!;
    expect(floors.t.length).toBe(289 - 13 + 721); // the buckets whose last point precedes the raw span (13 overlap it), then every raw point
    expect(floors.v.at(-1)).toBe(93_600_000);
  });

  it('gives back what a forgotten series held', () => {
    const h = createHistory(OPTS);
    h.record(sample(T0, { contention_x: Array.from({ length: 10 }, (_, i) => ({ labels: { pid: String(i) }, value: i })) }));
    const ten = h.stats().bytes;
    expect(ten).toBe(10 * (13 * 16 + 4 * 32)); // OPTS: a raw ring of 13, under the first 16
    for (let t = 5000; t <= 125_000; t += 5000) h.record(sample(T0 + t, { contention_y: [{ labels: {}, value: 1 }] }));
    // the one left has 5 buckets of 30 s, held in 8
    expect(h.stats()).toMatchObject({ series: 1, bytes: 13 * 16 + 8 * 32 });
  });

  it('records internal per-process series through recordPoint', () => {
    const h = createHistory(OPTS);
    h.recordPoint('process:private_bytes', { pid: '42', start: '1' }, T0, 100);
    h.recordPoint('process:private_bytes', { pid: '42', start: '1' }, T0 + 5000, 200);
    expect(h.select('process:private_bytes', T0, T0 + 5000)[0]!.points.map((p) => p.v)).toEqual([100, 200]);
  });
});
