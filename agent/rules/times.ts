/** The latest of sorted times at or before `t` (usually the last one: evaluation happens at the newest sample). */
export function latestAtOrBefore(times: readonly number[], t: number): number | undefined {
  for (let i = times.length - 1; i >= 0; i--) if (times[i]! <= t) return times[i];
  return undefined;
}
