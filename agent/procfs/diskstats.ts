export interface DiskStat {
  readonly major: number;
  readonly minor: number;
  readonly device: string;
  readonly readsCompleted: number;
  readonly writesCompleted: number;
  /** I/Os currently in flight: the instantaneous queue length. */
  readonly inFlight: number;
  /** Milliseconds the device had at least one I/O in flight. */
  readonly ioMs: number;
  /** Milliseconds spent by all I/Os in flight, summed (the time-weighted queue). */
  readonly weightedMs: number;
}

// Kernels print 11 (before 4.18), 15 (4.18+, discards) or 17 (5.5+, flushes) counters after the name.
const FIELD_COUNTS = [17, 15, 11];

/**
 * Parses /proc/diskstats. A name is normally one token, but the line is read from both ends so that a
 * name holding spaces (seen with some device-mapper and virtual drivers) survives.
 */
export function parseDiskstats(text: string): DiskStat[] {
  const out: DiskStat[] = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 14) continue;
    const count = FIELD_COUNTS.find((n) => tokens.length - 2 - n >= 1 && tokens.slice(-n).every((t) => /^\d+$/.test(t)));
    // A row without numeric major and minor numbers is malformed, not a disk: skipped like a short one.
    if (count === undefined || !/^\d+$/.test(tokens[0]!) || !/^\d+$/.test(tokens[1]!)) continue;
    const stats = tokens.slice(-count).map(Number);
    out.push({
      major: Number(tokens[0]),
      minor: Number(tokens[1]),
      device: tokens.slice(2, tokens.length - count).join(' '),
      readsCompleted: stats[0]!,
      writesCompleted: stats[4]!,
      inFlight: stats[8]!,
      ioMs: stats[9]!,
      weightedMs: stats[10]!,
    });
  }
  return out;
}
