import { windowsHostCollector } from './host-collector.js';

export const windowsDiskQueueCollector = windowsHostCollector({
  name: 'disk_queue',
  description: 'Current and peak queue length per physical disk (PhysicalDisk(*)\\Current Disk Queue Length)',
  metrics: ['contention_disk_queue_length'],
  extra(series, sink, { queueWatch }) {
    const peaks = queueWatch.takeDiskPeaks();
    for (const s of series) {
      if (s.metric !== 'contention_disk_queue_length') continue;
      const device = s.labels.device;
      sink.set('contention_disk_queue_length_peak', { device }, Math.max(s.value, peaks.get(device) ?? 0));
    }
  },
});
