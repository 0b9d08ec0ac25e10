import { join } from 'node:path';
import { readProcFile } from '../procfs/read.js';
import { CPU_MODES, cpuQueueLength, parseStat, type CpuTicks } from '../procfs/stat.js';
import type { CollectorSpec } from './collector.js';
import { clockTicksPerSecond } from '../procfs/clock-ticks.js';

const BUSY_EXCLUDED = new Set(['idle', 'iowait']);

export const cpuCollector: CollectorSpec = {
  name: 'cpu',
  description: 'CPU run queue (current and peak), blocked tasks, utilization and time per mode',
  defaultEnabled: true,
  create: ({ procfs, queueWatch }) => {
    const hz = clockTicksPerSecond();
    let previous: CpuTicks | undefined;
    return {
      update(sink) {
        const stat = parseStat(readProcFile(join(procfs, 'stat')));
        const queue = cpuQueueLength(stat.procsRunning, stat.cpus);
        sink.set('contention_cpus', {}, stat.cpus);
        sink.set('contention_cpu_queue_length', {}, queue);
        sink.set('contention_cpu_queue_length_peak', {}, Math.max(queue, queueWatch.takeCpuPeak() ?? 0));
        sink.set('contention_cpu_blocked_tasks', {}, stat.procsBlocked);
        for (const mode of CPU_MODES) sink.set('contention_cpu_seconds_total', { mode }, stat.total[mode] / hz);
        if (previous) {
          const utilization = busyRatio(previous, stat.total);
          if (utilization !== undefined) {
            sink.set('contention_cpu_utilization_ratio', {}, utilization);
            sink.publish('cpuUtilization', utilization);
          }
        }
        previous = stat.total;
      },
    };
  },
};

/** Busy share of CPU time between two readings, or undefined when no time passed. */
export function busyRatio(before: CpuTicks, after: CpuTicks): number | undefined {
  let total = 0;
  let busy = 0;
  for (const mode of CPU_MODES) {
    const delta = Math.max(0, after[mode] - before[mode]);
    total += delta;
    if (!BUSY_EXCLUDED.has(mode)) busy += delta;
  }
  return total > 0 ? busy / total : undefined;
}
