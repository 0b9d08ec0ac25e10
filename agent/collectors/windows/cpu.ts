import { seriesValue } from '../../platform/windows/pdh-values.js';
import { pdhCollector } from './pdh-collector.js';

export const windowsCpuCollector = pdhCollector({
  name: 'cpu',
  description: 'Processor queue length (current and peak) and utilization',
  metrics: ['contention_cpus', 'contention_cpu_queue_length', 'contention_cpu_utilization_ratio'],
  extra(series, sink, { queueWatch }) {
    const queue = seriesValue(series, 'contention_cpu_queue_length');
    const peak = queueWatch.takeCpuPeak();
    if (queue !== undefined || peak !== undefined) sink.set('contention_cpu_queue_length_peak', {}, Math.max(queue ?? 0, peak ?? 0));
    const utilization = seriesValue(series, 'contention_cpu_utilization_ratio');
    if (utilization !== undefined) sink.publish('cpuUtilization', utilization);
  },
});
