/**
 * The queue poller on Windows: the ready threads of the native process list (the processor queue)
 * and PhysicalDisk(*)\Current Disk Queue Length through a PDH query of its own, read every
 * `queue_interval`, keeping the peak between samples as the /proc poller does on Linux. The peaks
 * are of the same series the collectors export; each source polls on its own, so a host without
 * the disk counter still has CPU queue peaks.
 */
import type { QueueWatch } from '../../sampler/queue-watch.js';
import { LIVE_HOST_COUNTERS } from './counters.js';
import { openPdhQuery, type PdhQuery } from './pdh-query.js';
import { openReadyQueue, type ReadyQueueReader } from './ready-queue.js';
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
  let ready: ReadyQueueReader | undefined;
  let stopped = false;
  const poll = (): void => {
    // The cpu and disk_queue collectors report read failures; the watch only adds peaks when it can read.
    try {
      if (ready) peaks.cpu = Math.max(peaks.cpu ?? 0, ready.read());
    } catch {
      // reported by the cpu collector
    }
    try {
      if (query) raisePeaks(peaks, query.collect(), host());
    } catch {
      // reported by the disk_queue collector
    }
  };
  const timer = setInterval(poll, intervalSeconds * 1000);
  timer.unref();
  openReadyQueue().then(
    (opened) => {
      if (stopped) opened.close();
      else ready = opened;
    },
    () => undefined,
  );
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
      ready?.close();
      ready = undefined;
    },
  };
}
