/** The longest stretch in which every reading was above a threshold; NaN readings break a stretch. */
export interface Run {
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  readonly peak: number;
}

/**
 * A stretch lasts from its first reading above the threshold to the first reading after it that is
 * not (or to its last reading at the end of the log), so a single high reading between two low ones
 * counts for the interval it stood for, as a rule's `for` would see it.
 */
export function longestRunAbove(times: ArrayLike<number>, values: ArrayLike<number>, threshold: number): Run | undefined {
  let best: Run | undefined;
  let start = -1;
  let peak = -Infinity;
  const close = (endIndex: number): void => {
    if (start === -1) return;
    const endMs = times[Math.min(endIndex, times.length - 1)]!;
    const run = { startMs: times[start]!, endMs, durationMs: endMs - times[start]!, peak };
    if (!best || run.durationMs > best.durationMs) best = run;
    start = -1;
    peak = -Infinity;
  };
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > threshold) {
      if (start === -1) start = i;
      peak = Math.max(peak, v);
    } else {
      close(i);
    }
  }
  close(values.length - 1);
  return best;
}

/** Minimum and maximum of the readings that are numbers, with the time of the minimum. */
export function extremes(times: ArrayLike<number>, values: ArrayLike<number>): { min: number; minAtMs: number; max: number; count: number } {
  let min = Infinity;
  let max = -Infinity;
  let minAtMs = NaN;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    count++;
    if (v < min) {
      min = v;
      minAtMs = times[i]!;
    }
    if (v > max) max = v;
  }
  return { min, minAtMs, max, count };
}
