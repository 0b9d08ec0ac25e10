import { describe, expect, it } from 'vitest';
import { assessTrend, mannKendallConfidence, normalCdf, theilSen } from '../../agent/detect/trend.js';

// 2 hours at 15 s: 480 points. Deterministic noise so every run sees the same series.
const N = 480;
const STEP = 15_000;
const times = Array.from({ length: N }, (_, i) => i * STEP);
const noise = (seed: number) => (i: number) => {
  const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
};
const MiB = 2 ** 20;
const shape = (f: (i: number) => number) => times.map((_, i) => f(i));
const judge = (values: number[]) => assessTrend(times, values);

describe('assessTrend tells leaks from their look-alikes', () => {
  it('a steady leak: 200 MiB + 50 MiB/h with noise', () => {
    const n = noise(1);
    const r = judge(shape((i) => 200 * MiB + (50 * MiB * i * STEP) / 3_600_000 + 5 * MiB * n(i)));
    expect(r.leak).toBe(true);
    expect(r.slopePerSecond * 3600 / MiB).toBeGreaterThan(40);
    expect(r.slopePerSecond * 3600 / MiB).toBeLessThan(60);
    expect(r.confidence).toBeGreaterThan(0.999);
  });

  it('a slow leak: 2 MiB/h under 1 MiB of noise on 300 MiB', () => {
    const n = noise(2);
    const r = judge(shape((i) => 300 * MiB + (2 * MiB * i * STEP) / 3_600_000 + MiB * n(i)));
    expect(r.leak).toBe(true);
    expect(r.slopePerSecond * 3600 / MiB).toBeGreaterThan(1);
  });

  it('a garbage-collected sawtooth whose floor rises is a leak', () => {
    const r = judge(shape((i) => 100 * MiB + (i % 40) * 2 * MiB + (20 * MiB * i * STEP) / 3_600_000));
    expect(r.leak).toBe(true);
  });

  it('a sawtooth with a flat floor is healthy', () => {
    const r = judge(shape((i) => 100 * MiB + (i % 40) * 2 * MiB));
    expect(r.leak).toBe(false);
  });

  it('a warm-up that plateaus (a cache filling) is not a leak', () => {
    const n = noise(3);
    const r = judge(shape((i) => 100 * MiB + 300 * MiB * (1 - Math.exp(-i / 40)) + MiB * n(i)));
    expect(r.leak).toBe(false);
    expect(r.reason).toBe('plateau-or-step');
  });

  it('a one-time step up (an allocation) is not a leak', () => {
    const n = noise(4);
    const r = judge(shape((i) => (i < N / 2 ? 100 * MiB : 400 * MiB) + MiB * n(i)));
    expect(r.leak).toBe(false);
  });

  it('a step near the end is not a leak either', () => {
    const n = noise(5);
    expect(judge(shape((i) => (i < N * 0.85 ? 100 * MiB : 180 * MiB) + MiB * n(i))).leak).toBe(false);
  });

  it('noisy but flat is healthy', () => {
    const n = noise(6);
    const r = judge(shape((i) => 500 * MiB + 50 * MiB * n(i)));
    expect(r.leak).toBe(false);
  });

  it('a falling series is not a leak', () => {
    expect(judge(shape((i) => 900 * MiB - i * MiB)).leak).toBe(false);
  });

  it('a faint drift too small to matter is not reported', () => {
    // 1 MiB in two hours on 1 GiB (1.2% a day): statistically real, practically nothing
    const r = judge(shape((i) => 1000 * MiB + (MiB * i) / N));
    expect(r.leak).toBe(false);
    expect(r.reason).toBe('too-small');
  });

  it('draws the materiality line at 5% of the level a day', () => {
    const perDay = (share: number) => judge(shape((i) => 1000 * MiB + (share * 1000 * MiB * i * STEP) / 86_400_000));
    expect(perDay(0.06).leak).toBe(true);
    expect(perDay(0.04).leak).toBe(false);
    expect(perDay(0.04).reason).toBe('too-small');
  });

  it('handle counts: a leak of 1 handle a minute among noise', () => {
    const n = noise(7);
    const r = judge(shape((i) => Math.round(400 + (i * STEP) / 60_000 + 5 * n(i))));
    expect(r.leak).toBe(true);
  });

  it('says too few points below twelve, and skips NaN readings', () => {
    expect(assessTrend([0, 1, 2], [1, 2, 3]).reason).toBe('too-few-points');
    const values = shape((i) => (i % 10 === 0 ? NaN : 100 + i));
    const r = judge(values);
    expect(r.points).toBe(N - N / 10);
    expect(r.leak).toBe(true);
  });
});

describe('the statistics', () => {
  it('theilSen ignores an outlier', () => {
    expect(theilSen([0, 1, 2, 3, 4], [0, 1, 2, 100, 4])).toBe(1);
  });
  it('mannKendall is near 1 for a rising series, 0 for a falling one, and handles ties', () => {
    expect(mannKendallConfidence([1, 2, 3, 4, 5, 6, 7, 8])).toBeGreaterThan(0.999);
    expect(mannKendallConfidence([8, 7, 6, 5, 4, 3, 2, 1])).toBe(0);
    expect(mannKendallConfidence([5, 5, 5, 5, 5, 5])).toBe(0);
  });
  it('normalCdf matches known values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 3);
    expect(normalCdf(-2.326)).toBeCloseTo(0.01, 3);
  });
});
