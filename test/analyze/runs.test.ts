import { describe, expect, it } from 'vitest';
import { extremes, longestRunAbove } from '../../agent/analyze/runs.js';

const t = (n: number) => Array.from({ length: n }, (_, i) => i * 15_000);

describe('longestRunAbove', () => {
  it('measures the longest stretch above, to the first reading that is not', () => {
    const v = [0, 5, 6, 0, 7, 8, 9, 9, 0];
    expect(longestRunAbove(t(9), v, 4)).toEqual({ startMs: 60_000, endMs: 120_000, durationMs: 60_000, peak: 9 });
  });
  it('is silent at the threshold itself and for no readings above', () => {
    expect(longestRunAbove(t(4), [2, 2, 2, 2], 2)).toBeUndefined();
  });
  it('runs to the last reading when the log ends high', () => {
    expect(longestRunAbove(t(4), [0, 0, 5, 5], 2)).toMatchObject({ startMs: 30_000, endMs: 45_000, durationMs: 15_000 });
  });
  it('treats a missing reading as a break', () => {
    expect(longestRunAbove(t(5), [5, 5, NaN, 5, 5], 2)!.durationMs).toBe(30_000);
  });
});

describe('extremes', () => {
  it('skips NaN and times the minimum', () => {
    expect(extremes(t(4), [NaN, 9, 3, 7])).toEqual({ min: 3, minAtMs: 30_000, max: 9, count: 3 });
  });
});
