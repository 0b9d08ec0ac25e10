import { seriesValue } from '../../platform/windows/pdh-values.js';
import { openReadyQueue, READY_QUEUE_SOURCE } from '../../platform/windows/ready-queue.js';
import { windowsHostCollector } from './host-collector.js';

/**
 * The processor queue from the ready threads of the native process list (PDH-free, so it survives a
 * broken counter registry); utilization from PDH's `\Processor(_Total)\% Processor Time`.
 */
export const windowsCpuCollector = windowsHostCollector({
  name: 'cpu',
  description: 'Processor queue length (current and peak) and utilization',
  metrics: ['contention_cpus', 'contention_cpu_queue_length', 'contention_cpu_utilization_ratio'],
  native: {
    source: READY_QUEUE_SOURCE,
    open: async () => {
      const reader = await openReadyQueue();
      return {
        read: () => ({ series: [{ metric: 'contention_cpu_queue_length', labels: {}, value: reader.read() }], missing: [] }),
        close: () => reader.close(),
      };
    },
  },
  extra(series, sink, { queueWatch }) {
    const queue = seriesValue(series, 'contention_cpu_queue_length');
    const peak = queueWatch.takeCpuPeak();
    if (queue !== undefined || peak !== undefined) sink.set('contention_cpu_queue_length_peak', {}, Math.max(queue ?? 0, peak ?? 0));
    const utilization = seriesValue(series, 'contention_cpu_utilization_ratio');
    if (utilization !== undefined) sink.publish('cpuUtilization', utilization);
  },
});
