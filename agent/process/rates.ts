import type { Named } from './groups.js';
import type { ProcessRates } from './table.js';


interface Last {
  /** The row these rates were worked out for: the same object again is a row carried over. */
  row: Named;
  startTime: number;
  t: number;
  cpu: number;
  priv: number;
  ioRead?: number;
  ioWrite?: number;
  majorFaults?: number;
  rates: ProcessRates;
  /** The call that last saw the pid: the others are swept out after each call. */
  call: number;
}

const perSecond = (now: number | undefined, then: number | undefined, seconds: number): number | undefined =>
  now === undefined || then === undefined ? undefined : Math.max(0, now - then) / seconds;

/**
 * Turns each process's cumulative counters into rates between two readings, the same on every OS. A
 * process first seen gets its average since it started (a hog started a second ago shows one CPU,
 * not zero); its private-bytes growth starts at zero. A row carried over from an earlier reading
 * (the same `readAt`) keeps the rates of that reading, and the next reading's rates span the time
 * since it, so a quiet process read every few samples is neither idle in between nor spiking after.
 * Processes gone are forgotten each reading.
 */
export function createProcessRates() {
  // By pid, with the start time that tells a reused pid apart: no key string per row per sample.
  // Updated in place and swept of pids gone, not rebuilt each call.
  const last = new Map<number, Last>();
  let calls = 0;
  /** The rates of each row, in the rows' order (not copied into them: the grouping step makes the one copy). */
  return (rows: readonly Named[], timestamp: number): ProcessRates[] => {
    const call = ++calls;
    // An indexed loop, not map's callback: a call per row is most of a pass in V8's unoptimized tiers.
    const out: ProcessRates[] = [];
    for (let i = 0; i < rows.length; i++) {
      const p = rows[i]!;
      const key = p.pid;
      const known = last.get(key);
      if (known !== undefined && known.row === p) {
        known.call = call;
        out.push(known.rates);
        continue;
      }
      const before = known !== undefined && known.startTime === p.startTime ? known : undefined;
      const t = p.readAt ?? timestamp;
      if (before !== undefined && before.t === t) {
        before.row = p;
        before.call = call;
        out.push(before.rates);
        continue;
      }
      const since = before ?? { t: p.startTime, cpu: 0, priv: p.privateBytes, ioRead: 0, ioWrite: 0, majorFaults: 0 };
      // A process started within the clock's granularity: judge it over one second at least.
      // Readings between that found the figures unchanged move the start of the span up to the last of them.
      const from = before !== undefined && p.previousReadAt !== undefined && p.previousReadAt > before.t ? p.previousReadAt : since.t;
      const seconds = Math.max((t - from) / 1000, before ? 1e-3 : 1);
      const rates: ProcessRates = {
        cpu: Math.max(0, p.cpuSeconds - since.cpu) / seconds,
        privateGrowth: before ? (p.privateBytes - before.priv) / seconds : 0,
        ioRead: perSecond(p.ioReadBytes, since.ioRead, seconds),
        ioWrite: perSecond(p.ioWriteBytes, since.ioWrite, seconds),
        majorFaults: perSecond(p.majorFaults, since.majorFaults, seconds),
      };
      if (known === undefined) last.set(key, { row: p, startTime: p.startTime, t, cpu: p.cpuSeconds, priv: p.privateBytes, ioRead: p.ioReadBytes, ioWrite: p.ioWriteBytes, majorFaults: p.majorFaults, rates, call });
      else {
        known.row = p;
        known.startTime = p.startTime;
        known.t = t;
        known.cpu = p.cpuSeconds;
        known.priv = p.privateBytes;
        known.ioRead = p.ioReadBytes;
        known.ioWrite = p.ioWriteBytes;
        known.majorFaults = p.majorFaults;
        known.rates = rates;
        known.call = call;
      }
      out.push(rates);
    }
    if (last.size > out.length) last.forEach((l, pid) => l.call !== call && last.delete(pid));
    return out;
  };
}
