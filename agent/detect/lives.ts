/**
 * A leak that restarts hide: the subject's lives (between restarts of its processes, or between
 * reboots) each climb at a similar rate and fall back when the next life begins. Its floor over
 * many lives is flat, which is why a floor test alone calls it healthy. Pure: times, values and
 * the times the lives began, which come from evidence (a member's pid changed, Elapsed Time or
 * System Up Time went back, the boot time changed), never from the shape alone: a garbage
 * collector's sawtooth has the same shape.
 */
import { mannKendallConfidence, median, theilSen, windowMinima } from './trend.js';

export interface LivesOptions {
  readonly minDailyGrowth: number;
  readonly headroom?: number;
  /** Complete lives needed; the current (unfinished) life is not one. */
  readonly minLives?: number;
  /** Confidence each life climbs, 0 to 1. */
  readonly minLifeConfidence?: number;
}

export interface LivesResult {
  readonly masked: boolean;
  /** Complete lives judged (the most recent ones, up to 12). */
  readonly lives: number;
  /** Of those, how many climbed. */
  readonly climbing: number;
  /** Median growth rate within a life, per second. */
  readonly perLifeSlopePerSecond: number;
  /** Median length of a complete life. */
  readonly meanLifeSeconds: number;
  /** New lives per hour over the span judged. */
  readonly restartsPerHour: number;
  /** Median growth over a life, in the series' units. */
  readonly perLifeGrowth: number;
  readonly confidence: number;
  readonly reason?: 'too-few-lives' | 'not-climbing' | 'rates-differ' | 'no-fall-back' | 'too-small';
}

interface Life {
  readonly t: number[];
  readonly v: number[];
}

const MOST_LIVES = 12;

export function assessLives(t: readonly number[], v: readonly number[], lifeStarts: readonly number[], opts: LivesOptions): LivesResult {
  const minLives = opts.minLives ?? 3;
  const minLifeConfidence = opts.minLifeConfidence ?? 0.9;
  const lives: Life[] = [];
  let current: Life = { t: [], v: [] };
  let next = 0;
  for (let i = 0; i < t.length; i++) {
    while (next < lifeStarts.length && t[i]! >= lifeStarts[next]!) {
      if (current.t.length > 0) lives.push(current);
      current = { t: [], v: [] };
      next++;
    }
    current.t.push(t[i]!);
    current.v.push(v[i]!);
  }
  // The first life began before the history did and the last has not ended: neither is complete.
  const complete = lives.slice(1).filter((l) => l.t.length >= 4).slice(-MOST_LIVES);
  const empty = { masked: false, lives: complete.length, climbing: 0, perLifeSlopePerSecond: 0, meanLifeSeconds: 0, restartsPerHour: 0, perLifeGrowth: 0, confidence: 0 };
  if (complete.length < minLives) return { ...empty, reason: 'too-few-lives' };

  const judged = complete.map((l) => {
    const floors = windowMinima(l.t, l.v, Math.max(3, Math.min(12, Math.floor(l.t.length / 2))));
    const half = Math.floor(floors.v.length / 2);
    return {
      slope: theilSen(l.t, l.v) * 1000,
      lateSlope: theilSen(floors.t.slice(floors.t.length - half), floors.v.slice(floors.v.length - half)) * 1000,
      confidence: mannKendallConfidence(floors.v),
      growth: floors.v[floors.v.length - 1]! - floors.v[0]!,
      start: l.v[0]!,
      seconds: (l.t[l.t.length - 1]! - l.t[0]!) / 1000,
    };
  });
  // A life that climbs and then levels off is a warm-up, not a leak: its later half must climb too.
  const climbing = judged.filter((j) => j.slope > 0 && j.confidence >= minLifeConfidence && j.growth > 0 && j.lateSlope >= j.slope / 3);
  const slope = median(climbing.map((j) => j.slope));
  const lengths = median(judged.map((j) => j.seconds));
  const spanHours = (complete[complete.length - 1]!.t.at(-1)! - complete[0]!.t[0]!) / 3_600_000;
  const result = {
    ...empty,
    climbing: climbing.length,
    perLifeSlopePerSecond: Number.isFinite(slope) ? slope : 0,
    meanLifeSeconds: lengths,
    restartsPerHour: spanHours > 0 ? complete.length / spanHours : 0,
    perLifeGrowth: climbing.length > 0 ? median(climbing.map((j) => j.growth)) : 0,
    confidence: climbing.length > 0 ? median(climbing.map((j) => j.confidence)) * (climbing.length / judged.length) : 0,
  };
  // Nearly every life climbs: one quiet life in five is allowed (a restart for another reason).
  if (climbing.length < minLives || climbing.length < 0.8 * judged.length) return { ...result, reason: 'not-climbing' };
  // Similar rates: the same code leaking at the same pace each life, not a one-off.
  if (climbing.some((j) => j.slope < slope / 3 || j.slope > slope * 3)) return { ...result, reason: 'rates-differ' };
  // Each new life starts back near where lives start, well below where the last one ended.
  const base = median(judged.map((j) => j.start));
  const growth = result.perLifeGrowth;
  if (judged.some((j) => Math.abs(j.start - base) > 0.5 * growth)) return { ...result, reason: 'no-fall-back' };
  // Material: the growth within a life is a real share of the level, or would exhaust the headroom within a day.
  const level = Math.max(base, 1);
  const dailyGrowth = (slope * 86_400) / level;
  const relativeLifeGrowth = growth / level;
  const exhausts = opts.headroom !== undefined && slope > 0 && opts.headroom / slope <= 86_400;
  if (!exhausts && (relativeLifeGrowth < 0.05 || dailyGrowth < opts.minDailyGrowth)) return { ...result, reason: 'too-small' };
  return { ...result, masked: true };
}
