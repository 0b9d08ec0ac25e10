import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** Parses "500ms", "5s", "2m", "1h30m" or a plain number of seconds; returns seconds or undefined. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

/** Parses "2GiB", "512 MiB", "10MB" or a plain number of bytes; returns bytes or undefined. */
export function parseBytes(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(input.trim());
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** The longest delay Node.js's timers take (2^31 - 1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const TIMER_MAX_SECONDS = (2 ** 31 - 1) / 1000;

/** The largest byte count the agent computes with exactly (2^53 - 1). */
export const BYTES_MAX = Number.MAX_SAFE_INTEGER;

/** A duration as a config would write it: 2147483.647 → "24d20h31m23.647s". */
export function formatDuration(seconds: number): string {
  let rest = seconds;
  let out = '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  const s = Math.round(rest * 1000) / 1000;
  return s > 0 || out === '' ? `${out}${s}s` : out;
}

/**
 * A duration field: accepts "5s"-style strings or seconds; yields seconds. Bounded above by what the
 * code can honour: by default the longest timer (a longer sampling interval became a 1 ms busy loop,
 * a longer grace never escalated).
 */
export const duration = (opts: { min?: number; max?: number; why?: string } = {}) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const seconds = parseDuration(value);
    if (seconds === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like "500ms", "5s", "2m" or "1h" (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    const min = opts.min ?? 0;
    if (seconds < min || (min === 0 && seconds <= 0)) {
      ctx.addIssue({ code: 'custom', message: `expected a duration above ${min === 0 ? '0' : `${min}s`} (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    const max = opts.max ?? TIMER_MAX_SECONDS;
    if (seconds > max) {
      ctx.addIssue({ code: 'custom', message: `expected a duration of at most ${formatDuration(max)}, ${opts.why ?? 'the longest timer Node.js can set'} (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    return seconds;
  });

/** A byte-size field: accepts "2GiB", "512MiB", "10MB" or a number of bytes; yields bytes. */
export const byteSize = () =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const bytes = parseBytes(value);
    if (bytes === undefined || bytes < 0) {
      ctx.addIssue({ code: 'custom', message: `expected a byte size like "512MiB", "2GiB" or a number of bytes (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    if (bytes > BYTES_MAX) {
      ctx.addIssue({ code: 'custom', message: `expected a byte size of at most 8 PiB, the largest counted exactly (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    return bytes;
  });
