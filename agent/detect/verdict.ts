/**
 * Leak or not, at every time scale the history allows: the verdict the running agent and `analyze`
 * both give a series. Pure: times (Unix ms), values, what is known of the resource's headroom and
 * where the subject's lives began.
 *
 * One trend test (trend.ts) is run on the last minute, 2, 3, 10, 30 minutes, ... up to a week of
 * the current life. A scale may flag only growth that matters *at that scale*: the shorter the
 * scale, the faster the growth must be. With a known headroom (available memory, a pool's limit,
 * free table entries) a scale of S flags growth that exhausts it within 480 × S (2 minutes: 16 h;
 * 3 minutes: a day; 10 minutes: 3.3 days; 1 hour: 20 days), and from 3 hours up also growth per day
 * of `minDailyGrowth` × max(1, 6 h / S) of the level; without one, only the relative bar counts.
 * So a leak that would take the host down today is flagged within minutes, a slow one within
 * hours, and a warm-up has to look like a fast leak for the whole scale to be mistaken for one.
 *
 * Each scale also asks that the series now stands higher than it ever stood before the window
 * (at the same floor resolution): a daily load cycle's morning climb and a sawtooth's ramps return
 * to levels already seen, a leak does not.
 *
 * Separately, lives: a subject whose lives (a process group's members restarted, a host rebooted)
 * each climb at a similar rate and fall back at each new life is "masked by restarts" or "masked
 * by reboots" (lives.ts); its floor alone looks flat.
 */
import { assessLives, type LivesResult } from './lives.js';
import { assessTrend, type TrendResult } from './trend.js';

/** The scales judged, in seconds, shortest first. */
export const SCALES: readonly number[] = [60, 120, 180, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 3 * 86_400, 7 * 86_400];
/** A scale of S may flag growth that exhausts a known headroom within this many S. */
export const HORIZON_FACTOR = 480;
/** Above this scale the bar on relative growth is `minDailyGrowth` itself. */
const RELATIVE_BAR_SCALE = 6 * 3600;
/** Where the headroom is known, relative growth alone flags from this scale up. */
const RELATIVE_SCALE = 3 * 3600;

export type LeakShape = 'growing' | 'masked_by_restarts' | 'masked_by_reboots';

export interface VerdictOptions {
  readonly minConfidence?: number;
  readonly minDailyGrowth?: number;
  /** The shortest scale judged (seconds); shorter scales in SCALES are skipped. */
  readonly minScale?: number;
  /** The longest scale judged (seconds). */
  readonly maxScale?: number;
}

export interface SubjectContext {
  /** Units left before the resource is exhausted now, when known (available memory, a limit minus use). */
  readonly headroom?: number;
  /** Times (Unix ms) at which a new life began: a member restarted, the host rebooted. In time order. */
  readonly lifeStarts?: readonly number[];
  /** What ended the lives before `lifeStarts`. */
  readonly lifeKind?: 'restart' | 'reboot';
}

export interface LeakVerdict {
  readonly leak: boolean;
  readonly shape?: LeakShape;
  /** Growth per second: the flagging scale's slope, the per-life rate, or the strongest candidate's. */
  readonly slopePerSecond: number;
  readonly confidence: number;
  /** The scale that flagged it (or the longest judged), seconds. */
  readonly scaleSeconds: number;
  /** Headroom / slope, when both are known and the slope is positive. */
  readonly secondsToExhaustion?: number;
  readonly lives?: LivesResult;
  /** The trend at the deciding scale. */
  readonly trend?: TrendResult;
  readonly reason?: string;
}

const MIN_POINTS = 12;

export function judgeSeries(times: ArrayLike<number>, values: ArrayLike<number>, ctx: SubjectContext = {}, options: VerdictOptions = {}): LeakVerdict {
  const minConfidence = options.minConfidence ?? 0.99;
  const minDailyGrowth = options.minDailyGrowth ?? 0.05;
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i]!)) {
      t.push(times[i]!);
      v.push(values[i]!);
    }
  }
  if (t.length < MIN_POINTS) return { leak: false, slopePerSecond: 0, confidence: 0, scaleSeconds: 0, reason: 'too-few-points' };
  const now = t[t.length - 1]!;
  const starts = (ctx.lifeStarts ?? []).filter((s) => s > t[0]! && s <= now);

  if (starts.length > 0) {
    const lives = assessLives(t, v, starts, { minDailyGrowth, headroom: ctx.headroom });
    if (lives.masked) {
      return {
        leak: true,
        shape: ctx.lifeKind === 'reboot' ? 'masked_by_reboots' : 'masked_by_restarts',
        slopePerSecond: lives.perLifeSlopePerSecond,
        confidence: lives.confidence,
        scaleSeconds: lives.meanLifeSeconds,
        lives,
      };
    }
  }

  // Growth is judged within the current life: what came before the last restart does not carry on.
  // Only a start where the series fell cuts it (a group whose members come and go without a drop is one life).
  const fell = starts.filter((s) => {
    const at = t.findIndex((x) => x >= s);
    return at > 0 && v[at]! < v[at - 1]!;
  });
  const lifeStart = fell.length > 0 ? fell[fell.length - 1]! : -Infinity;
  let from = 0;
  while (from < t.length && t[from]! < lifeStart) from++;
  const lt = t.slice(from);
  const lv = v.slice(from);
  const span = lt.length > 1 ? (lt[lt.length - 1]! - lt[0]!) / 1000 : 0;

  let best: LeakVerdict = { leak: false, slopePerSecond: 0, confidence: 0, scaleSeconds: 0, reason: 'too-few-points' };
  // A shortest scale below the built-in ones (a test's compressed clock, a fast sample interval) is judged too.
  const minScale = options.minScale ?? 0;
  const scales = [...new Set([...(minScale > 0 ? [minScale] : []), ...SCALES])].sort((a, b) => a - b);
  for (const scale of scales) {
    if (scale < minScale || scale > (options.maxScale ?? Infinity)) continue;
    // A scale is judged once the life covers nine tenths of it.
    if (span < scale * 0.9) break;
    const start = now - scale * 1000;
    let i = 0;
    while (i < lt.length && lt[i]! < start) i++;
    const wt = lt.slice(i);
    const wv = lv.slice(i);
    if (wt.length < MIN_POINTS) continue;
    const bar = minDailyGrowth * Math.max(1, RELATIVE_BAR_SCALE / scale);
    // The trend test's own materiality is off here: each scale draws its own line below.
    const trend = assessTrend(wt, wv, { minConfidence, minDailyGrowth: 0 });
    const toExhaustion = ctx.headroom !== undefined && trend.slopePerSecond > 0 ? Math.max(0, ctx.headroom) / trend.slopePerSecond : undefined;
    const here: LeakVerdict = { leak: false, slopePerSecond: trend.slopePerSecond, confidence: trend.confidence, scaleSeconds: scale, trend, secondsToExhaustion: toExhaustion };
    if (!trend.leak) {
      if (trend.confidence >= best.confidence) best = { ...here, reason: trend.reason };
      continue;
    }
    // With a known headroom, the short scales flag only what exhausts it soon; relative growth counts
    // from RELATIVE_SCALE up (a small process doubling in a day on a big host is news within hours, not minutes).
    const exhaustsSoon = toExhaustion !== undefined && toExhaustion <= HORIZON_FACTOR * scale;
    const grows = trend.dailyGrowth >= bar && (ctx.headroom === undefined || scale >= RELATIVE_SCALE);
    const matters = exhaustsSoon || grows;
    if (!matters) {
      if (trend.confidence >= best.confidence) best = { ...here, reason: 'too-small' };
      continue;
    }
    // Growth that slows down as it goes is a warm-up, however long its tail (a logarithmic one never stops).
    if ((trend.lateSlopePerSecond ?? 0) < DECELERATION * (trend.earlySlopePerSecond ?? 0)) {
      if (trend.confidence >= best.confidence) best = { ...here, reason: 'decelerating' };
      continue;
    }
    if (slowerThanBefore(lt, lv, i, scale, trend.slopePerSecond, minConfidence)) {
      if (trend.confidence >= best.confidence) best = { ...here, reason: 'decelerating' };
      continue;
    }
    if (!newHigh(lt, lv, i, trend.slopePerSecond * scale)) {
      if (trend.confidence >= best.confidence) best = { ...here, reason: 'seen-before' };
      continue;
    }
    return { ...here, leak: true, shape: 'growing' };
  }
  return best;
}

/**
 * Whether the window grew clearly slower than the windows of the same length before it: the tail
 * of a warm-up. Slower than the one just before by a fifth (which rose too), or slower than each of
 * the three before in turn and by 30% overall (a logarithmic warm-up, whose rate falls gently).
 * False when the life is not long enough to tell.
 */
function slowerThanBefore(t: readonly number[], v: readonly number[], windowStart: number, scale: number, slope: number, minConfidence: number): boolean {
  const before: Array<{ slope: number; confidence: number }> = [];
  let end = windowStart;
  for (let k = 1; k <= 3; k++) {
    const from = t[windowStart]! - k * scale * 1000;
    if (t[0]! > from + scale * 100) break;
    let j = 0;
    while (j < end && t[j]! < from) j++;
    const r = assessTrend(t.slice(j, end), v.slice(j, end), { minConfidence, minDailyGrowth: 0, minHalfConfidence: 0, minLateShare: -Infinity, maxStepShare: 1 });
    before.push({ slope: r.slopePerSecond, confidence: r.confidence });
    end = j;
  }
  if (before.length === 0) return false;
  if (before[0]!.confidence >= minConfidence && slope < DECELERATION_BEFORE * before[0]!.slope) return true;
  if (before.length < 3) return false;
  const rates = [slope, ...before.map((b) => b.slope)];
  return rates.every((r, i) => i === 0 || r > rates[i - 1]!) && slope < 0.7 * rates[3]!;
}
const DECELERATION_BEFORE = 0.8;

/** The later half's slope below this share of the earlier half's is a warm-up slowing down. */
const DECELERATION = 0.6;

/**
 * Whether the series now stands clearly higher than any level it held before the window: the floor
 * of the window's last twelfth exceeds the highest floor any stretch of that length had before
 * (a sliding minimum, so the phase of a sawtooth does not matter) by a tenth of the growth the
 * window claims. True when nothing came before the window.
 */
function newHigh(t: readonly number[], v: readonly number[], windowStart: number, claimedGrowth: number): boolean {
  if (windowStart < 3) return true;
  const end = t[t.length - 1]!;
  const width = (end - t[windowStart]!) / 12;
  let lastFloor = Infinity;
  for (let i = t.length - 1; i >= 0 && t[i]! >= end - width; i--) lastFloor = Math.min(lastFloor, v[i]!);
  return highestSustained(t, v, windowStart, width) + 0.1 * claimedGrowth < lastFloor;
}

/** The highest minimum over any stretch of `width` ms among the first `n` points (a sliding-window minimum, O(n)). */
export function highestSustained(t: readonly number[], v: readonly number[], n: number, width: number): number {
  const deque: number[] = [];
  let best = -Infinity;
  let head = 0;
  let left = 0;
  for (let right = 0; right < n; right++) {
    while (deque.length > head && v[deque[deque.length - 1]!]! >= v[right]!) deque.pop();
    deque.push(right);
    while (t[right]! - t[left]! > width) left++;
    while (deque[head]! < left) head++;
    // A stretch counts once it holds two points and half the width: the points of a stretch span less than it.
    if (right > left && t[right]! - t[left]! >= width * 0.5) best = Math.max(best, v[deque[head]!]!);
  }
  return best;
}
