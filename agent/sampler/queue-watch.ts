import { join } from 'node:path';
import { parseDiskstats } from '../procfs/diskstats.js';
import { parseLoadavg } from '../procfs/loadavg.js';
import { readProcFile } from '../procfs/read.js';
import { cpuQueueLength, parseStat } from '../procfs/stat.js';

/**
 * Queue lengths are instantaneous: a sample every few seconds misses the bursts between. This polls
 * them faster than the sampler and keeps the peak since the collectors last took it.
 */
export interface QueueWatch {
  /** Highest CPU queue seen since the previous call (undefined if none was read); resets it. */
  takeCpuPeak(): number | undefined;
  /** Highest queue per disk seen since the previous call; resets them. */
  takeDiskPeaks(): ReadonlyMap<string, number>;
  stop(): void;
}

/** Polls between which the count of CPUs is read again from /proc/stat (CPUs can be taken offline). */
const CPUS_EVERY = 60;

export function startQueueWatch(procfs: string, intervalSeconds: number): QueueWatch {
  let cpuPeak: number | undefined;
  let diskPeaks = new Map<string, number>();
  let cpus: number | undefined;
  let polls = 0;
  const poll = (): void => {
    try {
      // /proc/loadavg's runnable count is the kernel's nr_running(), the same as /proc/stat's
      // procs_running, in a file a hundredth the size: this runs every second.
      let runnable: number;
      if (cpus === undefined || polls++ % CPUS_EVERY === 0) {
        const stat = parseStat(readProcFile(join(procfs, 'stat')));
        cpus = stat.cpus;
        runnable = stat.procsRunning;
      } else {
        runnable = parseLoadavg(readProcFile(join(procfs, 'loadavg'))).runnable;
      }
      cpuPeak = Math.max(cpuPeak ?? 0, cpuQueueLength(runnable, cpus));
    } catch {
      // The cpu collector reports the failure; the watch only adds peaks when it can read.
      cpus = undefined;
    }
    try {
      for (const disk of parseDiskstats(readProcFile(join(procfs, 'diskstats')))) {
        diskPeaks.set(disk.device, Math.max(diskPeaks.get(disk.device) ?? 0, disk.inFlight));
      }
    } catch {
      // As above, for the disk_queue collector.
    }
  };
  poll();
  const timer = setInterval(poll, intervalSeconds * 1000);
  timer.unref();
  return {
    takeCpuPeak() {
      const peak = cpuPeak;
      cpuPeak = undefined;
      return peak;
    },
    takeDiskPeaks() {
      const peaks = diskPeaks;
      diskPeaks = new Map();
      return peaks;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
