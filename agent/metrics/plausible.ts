import { catalog, type MetricName } from './catalog.js';

/** The most bytes any kernel can report in one field: a 64-bit counter. Anything above is not a reading. */
export const MAX_PLAUSIBLE_BYTES = 2 ** 64;

// Families whose values are counts or sizes: a negative one is a corrupt reading, not a measurement.
const NON_NEGATIVE = /_(bytes|entries|handles|threads|processes|length|peak|cpus|ratio|batches)$|_bytes_total$/;
// Signed by design: slopes, and the countdown that is negative once the limit is passed.
const SIGNED = new Set<string>(['contention_growth_bytes_per_second', 'contention_growth_per_second', 'contention_seconds_to_exhaustion']);

/**
 * Why a value cannot be exported under a family, or undefined when it can: not finite, a counter or a
 * count or size below zero, or a byte size past what a 64-bit kernel field can hold.
 */
export function implausibility(metric: MetricName, value: number): string | undefined {
  if (!Number.isFinite(value)) return 'not finite';
  if (SIGNED.has(metric)) return undefined;
  const def = catalog[metric];
  if (value < 0 && (def?.type === 'counter' || NON_NEGATIVE.test(metric))) return 'negative';
  if (value > MAX_PLAUSIBLE_BYTES && /_bytes(_total)?$/.test(metric)) return 'larger than a 64-bit kernel field';
  return undefined;
}
