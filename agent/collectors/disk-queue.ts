import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDiskstats } from '../procfs/diskstats.js';
import { readProcFile } from '../procfs/read.js';
import { isAbsent, unsupported, type CollectorSpec } from './collector.js';

export const diskQueueCollector: CollectorSpec = {
  name: 'disk_queue',
  description: 'Current and peak I/O queue length and time-weighted queue per whole disk',
  defaultEnabled: true,
  create: ({ procfs, sysfs, queueWatch, config }) => {
    const exclude = new RegExp(config.disk.device_exclude);
    return {
      update(sink) {
        const disks = parseDiskstats(readDiskstats(join(procfs, 'diskstats')));
        const whole = wholeDiskNames(sysfs);
        const peaks = queueWatch.takeDiskPeaks();
        for (const disk of disks) {
          if (!isWholeDisk(disk.device, whole) || exclude.test(disk.device)) continue;
          const device = disk.device;
          sink.set('contention_disk_queue_length', { device }, disk.inFlight);
          sink.set('contention_disk_queue_length_peak', { device }, Math.max(disk.inFlight, peaks.get(device) ?? 0));
          sink.set('contention_disk_queue_weighted_seconds_total', { device }, disk.weightedMs / 1000);
        }
      },
    };
  },
};

/** Names under /sys/block are whole disks; undefined when sysfs cannot be read. */
function wholeDiskNames(sysfs: string): Set<string> | undefined {
  try {
    // sysfs spells a "/" in a device name as "!" (cciss/c0d0 is cciss!c0d0).
    return new Set(readdirSync(join(sysfs, 'block')).map((name) => name.replaceAll('!', '/')));
  } catch {
    return undefined;
  }
}

/** Without sysfs, fall back to the naming rule: partitions end in a digit after a letter-named disk. */
export function isWholeDisk(device: string, whole: Set<string> | undefined): boolean {
  if (whole) return whole.has(device);
  return !/^((h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+)$/.test(device);
}

/** Some containers and sandboxes have no diskstats: unsupported there, not failing. */
function readDiskstats(path: string): string {
  try {
    return readProcFile(path);
  } catch (err) {
    if (isAbsent(err)) throw unsupported(`${path} is absent: no block device statistics on this host`);
    throw err;
  }
}
