/**
 * FILETIME: 100 ns intervals since 1601-01-01 UTC, as the kernel keeps process create times. The
 * process list and GetProcessTimes both go through here, so a process's start time is the same
 * number whichever of the two read it, and a stop decision can compare them exactly.
 */

/** FILETIME of the Unix epoch: 100 ns intervals from 1601-01-01 to 1970-01-01. */
export const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;

/** Unix ms of a FILETIME, truncated to the millisecond; undefined at or before 1970 (no process starts then). */
export function filetimeToUnixMs(filetime: bigint): number | undefined {
  if (filetime <= FILETIME_UNIX_EPOCH) return undefined;
  return Number((filetime - FILETIME_UNIX_EPOCH) / 10_000n);
}

/** The 64-bit value of a FILETIME struct's two unsigned 32-bit halves. */
export function joinFiletime(low: number, high: number): bigint {
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
}
