/**
 * Leak or not: robust trend statistics on one series, shared by the running agent's detector and by
 * `analyze`. Pure functions of times (Unix ms) and values.
 *
 * The series is cut into windows and each window contributes its minimum: a garbage-collected heap
 * saws up and down, and only its floor tells whether memory comes back. On those floors:
 * - the Theil–Sen slope (median of pairwise slopes) gives the growth rate, unmoved by outliers;
 * - the Mann–Kendall test gives the confidence that the floors rise (one-sided, ties corrected);
 * - both halves of the span must rise on their own, and the later half at no less than a third of
 *   the overall rate, so a warm-up that plateaus (rises, then flattens) and a one-time step (flat,
 *   jump, flat) are not leaks, while a steady or slow leak is;
 * - the rise must be spread over the span, not carried by one or two jumps (deploy steps);
 * - the growth must be material: at least 5% of the level per day by default, so a flat but noisy
 *   series with a faint drift is not reported.
 */
export interface TrendOptions {
  /** Most windows to cut the span into. */
  readonly windows?: number;
  /** Confidence the whole span rises, 0 to 1. */
  readonly minConfidence?: number;
  /** Confidence each half rises on its own. */
  readonly minHalfConfidence?: number;
  /** Growth per day as a share of the median level below which it is not a leak. */
  readonly minDailyGrowth?: number;
  /** Slope of the later half as a share of the overall slope below which growth has stopped. */
  readonly minLateShare?: number;
  /**
   * Most of the rise the largest sixth of the rises between consecutive floors may carry: above it
   * the growth came in a few steps (deploys, one-time allocations), not steadily.
   */
  readonly maxStepShare?: number;
}

export interface TrendResult {
  readonly leak: boolean;
  /** Theil–Sen slope of the window floors, in value units per second. */
  readonly slopePerSecond: number;
  /** Mann–Kendall confidence that the floors rise, 0 to 1. */
  readonly confidence: number;
  /** Growth per day at this slope relative to the median floor. */
  readonly dailyGrowth: number;
  readonly points: number;
  readonly spanSeconds: number;
  /** Theil–Sen slopes of the earlier and the later half of the floors, per second (0 when not judged). */
  readonly earlySlopePerSecond?: number;
  readonly lateSlopePerSecond?: number;
  /** Why it is not a leak, when it is not. */
  readonly reason?: 'too-few-points' | 'not-rising' | 'plateau-or-step' | 'steps' | 'too-small';
}

const DEFAULTS: Required<TrendOptions> = { windows: 12, minConfidence: 0.99, minHalfConfidence: 0.8, minDailyGrowth: 0.05, minLateShare: 1 / 3, maxStepShare: 0.6 };
const MIN_POINTS = 12;

export function assessTrend(times: ArrayLike<number>, values: ArrayLike<number>, options: TrendOptions = {}): TrendResult {
  const opts = { ...DEFAULTS, ...options };
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(values[i]!) && Number.isFinite(values[i]!)) {
      t.push(times[i]!);
      v.push(values[i]!);
    }
  }
  const spanSeconds = t.length > 1 ? (t[t.length - 1]! - t[0]!) / 1000 : 0;
  const none = (reason: TrendResult['reason'], extra: Partial<TrendResult> = {}): TrendResult => ({
    leak: false, slopePerSecond: 0, confidence: 0, dailyGrowth: 0, points: t.length, spanSeconds, reason, ...extra,
  });
  if (t.length < MIN_POINTS || spanSeconds <= 0) return none('too-few-points');

  const floors = windowMinima(t, v, Math.min(opts.windows, Math.floor(t.length / 3)));
  const slope = theilSen(floors.t, floors.v) * 1000;
  const confidence = mannKendallConfidence(floors.v);
  const level = median(floors.v);
  const dailyGrowth = level > 0 ? (slope * 86_400) / level : slope > 0 ? Infinity : 0;
  const result = { slopePerSecond: slope, confidence, dailyGrowth, points: t.length, spanSeconds };
  if (confidence < opts.minConfidence || slope <= 0) return none('not-rising', result);

  const half = Math.floor(floors.v.length / 2);
  const early = mannKendallConfidence(floors.v.slice(0, half));
  const late = mannKendallConfidence(floors.v.slice(floors.v.length - half));
  const lateSlope = theilSen(floors.t.slice(floors.t.length - half), floors.v.slice(floors.v.length - half)) * 1000;
  const earlySlope = theilSen(floors.t.slice(0, half), floors.v.slice(0, half)) * 1000;
  Object.assign(result, { earlySlopePerSecond: earlySlope, lateSlopePerSecond: lateSlope });
  if (early < opts.minHalfConfidence || late < opts.minHalfConfidence || lateSlope < opts.minLateShare * slope) {
    return none('plateau-or-step', result);
  }
  if (stepShare(floors.v) > opts.maxStepShare) return none('steps', result);
  if (dailyGrowth < opts.minDailyGrowth) return none('too-small', result);
  return { leak: true, ...result };
}

/**
 * The share of all rises between consecutive floors carried by the largest sixth of them (at least
 * the largest two). Steady growth spreads its rise (about a sixth of it there); two deploy steps put
 * nearly all of it in two places.
 */
export function stepShare(floors: readonly number[]): number {
  const rises: number[] = [];
  for (let i = 1; i < floors.length; i++) if (floors[i]! > floors[i - 1]!) rises.push(floors[i]! - floors[i - 1]!);
  const total = rises.reduce((a, b) => a + b, 0);
  if (total <= 0) return 0;
  rises.sort((a, b) => b - a);
  const top = Math.max(2, Math.ceil((floors.length - 1) / 6));
  return rises.slice(0, top).reduce((a, b) => a + b, 0) / total;
}

/** The minimum of each of `count` equal-time windows, placed at the window's middle. */
export function windowMinima(t: readonly number[], v: readonly number[], count: number): { t: number[]; v: number[] } {
  const start = t[0]!;
  const width = (t[t.length - 1]! - start) / count;
  const mins = new Array<number>(count).fill(Infinity);
  for (let i = 0; i < t.length; i++) {
    const w = Math.min(count - 1, Math.floor((t[i]! - start) / width));
    if (v[i]! < mins[w]!) mins[w] = v[i]!;
  }
  const out = { t: [] as number[], v: [] as number[] };
  mins.forEach((m, w) => {
    if (m !== Infinity) {
      out.t.push(start + (w + 0.5) * width);
      out.v.push(m);
    }
  });
  return out;
}

/** Median of all pairwise slopes: the Theil–Sen estimator (units of v per unit of t). */
export function theilSen(t: readonly number[], v: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < t.length; i++) {
    for (let j = i + 1; j < t.length; j++) {
      if (t[j]! !== t[i]!) slopes.push((v[j]! - v[i]!) / (t[j]! - t[i]!));
    }
  }
  return slopes.length === 0 ? 0 : median(slopes);
}

/**
 * One-sided Mann–Kendall: the confidence (1 − p) that the series rises, with the variance corrected
 * for tied values and a continuity correction.
 */
export function mannKendallConfidence(v: readonly number[]): number {
  const n = v.length;
  if (n < 3) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.sign(v[j]! - v[i]!);
  const ties = new Map<number, number>();
  for (const x of v) ties.set(x, (ties.get(x) ?? 0) + 1);
  let tieTerm = 0;
  for (const c of ties.values()) if (c > 1) tieTerm += c * (c - 1) * (2 * c + 5);
  const variance = (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
  if (variance <= 0 || s <= 0) return 0;
  const z = (s - 1) / Math.sqrt(variance);
  return normalCdf(z);
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 for erf; error under 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const k = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * k - 1.453152027) * k + 1.421413741) * k - 0.284496736) * k + 0.254829592) * k * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
