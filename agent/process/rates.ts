import type { Named } from './groups.js';
import { processKey, type ProcessRates } from './table.js';


interface Last {
  t: number;
  cpu: number;
  priv: number;
  ioRead?: number;
  ioWrite?: number;
  majorFaults?: number;
}

const perSecond = (now: number | undefined, then: number | undefined, seconds: number): number | undefined =>
  now === undefined || then === undefined ? undefined : Math.max(0, now - then) / seconds;

/**
 * Turns each process's cumulative counters into rates between two readings, the same on every OS. A
 * process first seen gets its average since it started (a hog started a second ago shows one CPU,
 * not zero); its private-bytes growth starts at zero. Processes gone are forgotten each reading.
 */
export function createProcessRates() {
  let last = new Map<string, Last>();
  /** The rates of each row, in the rows' order (not copied into them: the grouping step makes the one copy). */
  return (rows: readonly Named[], timestamp: number): ProcessRates[] => {
    const next = new Map<string, Last>();
    const out = rows.map((p): ProcessRates => {
      const key = processKey(p);
      const before = last.get(key);
      const now: Last = { t: timestamp, cpu: p.cpuSeconds, priv: p.privateBytes, ioRead: p.ioReadBytes, ioWrite: p.ioWriteBytes, majorFaults: p.majorFaults };
      next.set(key, now);
      const since = before ?? { t: p.startTime, cpu: 0, priv: p.privateBytes, ioRead: 0, ioWrite: 0, majorFaults: 0 };
      // A process started within the clock's granularity: judge it over one second at least.
      const seconds = Math.max((timestamp - since.t) / 1000, before ? 1e-3 : 1);
      return {
        cpu: Math.max(0, p.cpuSeconds - since.cpu) / seconds,
        privateGrowth: before ? (p.privateBytes - before.priv) / seconds : 0,
        ioRead: perSecond(p.ioReadBytes, since.ioRead, seconds),
        ioWrite: perSecond(p.ioWriteBytes, since.ioWrite, seconds),
        majorFaults: perSecond(p.majorFaults, since.majorFaults, seconds),
      };
    });
    last = next;
    return out;
  };
}
