/**
 * The queue poller on Windows: System\Processor Queue Length and PhysicalDisk(*)\Current Disk Queue
 * Length, collected every `queue_interval` by a query of its own, keeping the peak between samples
 * as the /proc poller does on Linux. The peaks are of the same series the collectors export.
 */
import type { QueueWatch } from '../../sampler/queue-watch.js';
import { LIVE_HOST_COUNTERS } from './counters.js';
import { openPdhQuery, type PdhQuery } from './pdh-query.js';
import { mapHostReadings, type HostFacts, type PdhReading } from './pdh-values.js';

const QUEUE_METRICS = new Set(['contention_cpu_queue_length', 'contention_disk_queue_length']);
export const QUEUE_COUNTERS = LIVE_HOST_COUNTERS.filter((c) => QUEUE_METRICS.has(c.family.metric));

/** Peaks so far, raised by one collection's readings. Pure. */
export function raisePeaks(
  peaks: { cpu: number | undefined; disks: Map<string, number> },
  readings: readonly PdhReading[],
  host: HostFacts,
): void {
  for (const s of mapHostReadings(readings, host).series) {
    if (s.metric === 'contention_cpu_queue_length') peaks.cpu = Math.max(peaks.cpu ?? 0, s.value);
    else if (s.metric === 'contention_disk_queue_length') peaks.disks.set(s.labels.device, Math.max(peaks.disks.get(s.labels.device) ?? 0, s.value));
  }
}

export function startPdhQueueWatch(intervalSeconds: number, host: () => HostFacts): QueueWatch {
  const peaks = { cpu: undefined as number | undefined, disks: new Map<string, number>() };
  let query: PdhQuery | undefined;
  let stopped = false;
  const poll = (): void => {
    try {
      if (query) raisePeaks(peaks, query.collect(), host());
    } catch {
      // The cpu and disk_queue collectors report PDH failures; the watch only adds peaks when it can read.
    }
  };
  const timer = setInterval(poll, intervalSeconds * 1000);
  timer.unref();
  openPdhQuery(QUEUE_COUNTERS).then(
    (opened) => {
      if (stopped) opened.close();
      else {
        query = opened;
        poll();
      }
    },
    () => undefined,
  );
  return {
    takeCpuPeak() {
      const peak = peaks.cpu;
      peaks.cpu = undefined;
      return peak;
    },
    takeDiskPeaks() {
      const taken = peaks.disks;
      peaks.disks = new Map();
      return taken;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      query?.close();
      query = undefined;
    },
  };
}
