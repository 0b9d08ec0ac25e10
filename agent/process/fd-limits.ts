import { join } from 'node:path';
import { parseOpenFilesSoftLimit } from '../procfs/pid-limits.js';
import { readProcFile } from '../procfs/read.js';
import { processKey, type ProcessRow } from './table.js';

/** Below this many open descriptors a process is not asked its limit: no real limit is that low. */
export const FD_LIMIT_MIN_HANDLES = 64;

/** A process's limit is read again every this many samples: prlimit can change it while it runs. */
const REFRESH_SAMPLES = 12;

/** Windows has no per-process handle limit setting: every process can open 2^24 handles (16,777,216). */
export const WINDOWS_HANDLE_LIMIT = 2 ** 24;

export type FdLimitReader = (rows: readonly ProcessRow[]) => ReadonlyMap<string, number>;

/**
 * The soft RLIMIT_NOFILE of the processes that could be near it: /proc/PID/limits only for processes
 * holding at least FD_LIMIT_MIN_HANDLES descriptors, once when first seen so and again every
 * REFRESH_SAMPLES samples. On a host of 2,000 processes that is the few dozen servers, not the shells.
 * Keyed by processKey; a process whose limits are unreadable (another user's, unprivileged) is absent.
 */
export function createProcfsFdLimits(procfs: string): FdLimitReader {
  let known = new Map<string, { limit: number; readAt: number }>();
  let sampleNo = 0;
  return (rows) => {
    sampleNo++;
    const next = new Map<string, { limit: number; readAt: number }>();
    const out = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.handles < FD_LIMIT_MIN_HANDLES) continue;
      const key = processKey(r);
      let entry = known.get(key);
      if (entry === undefined || sampleNo - entry.readAt >= REFRESH_SAMPLES) {
        try {
          const limit = parseOpenFilesSoftLimit(readProcFile(join(procfs, String(r.pid), 'limits')));
          entry = limit === undefined ? undefined : { limit, readAt: sampleNo };
        } catch {
          entry = undefined;
        }
      }
      if (entry === undefined) continue;
      next.set(key, entry);
      out.set(key, entry.limit);
    }
    known = next;
    return out;
  };
}

/** Every Windows process holding at least FD_LIMIT_MIN_HANDLES handles, against the fixed per-process limit. */
export const windowsHandleLimits: FdLimitReader = (rows) =>
  new Map(rows.filter((r) => r.handles >= FD_LIMIT_MIN_HANDLES).map((r) => [processKey(r), WINDOWS_HANDLE_LIMIT]));

/** The worst open-descriptor share of its limit per group (process-exporter's worst_fd_ratio). */
export function worstFdRatio(rows: readonly ProcessRow[], limits: ReadonlyMap<string, number>): Map<string, number> {
  const worst = new Map<string, number>();
  if (limits.size === 0) return worst;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    // Limits are read only for processes holding this many (above): no key string for the rest.
    if (r.handles < FD_LIMIT_MIN_HANDLES && limits.size < rows.length) continue;
    const limit = limits.get(processKey(r));
    if (limit === undefined || !(limit > 0) || limit === Infinity) continue;
    const ratio = r.handles / limit;
    if (ratio > (worst.get(r.processGroup) ?? -1)) worst.set(r.processGroup, ratio);
  }
  return worst;
}
