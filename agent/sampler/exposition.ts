import { gzipSync } from 'node:zlib';
import { Counter, Gauge, Registry } from 'prom-client';
import { catalog, type MetricName } from '../metrics/catalog.js';
import type { Sample } from '../metrics/sample.js';

/** The rendered text a scrape serves, made once per sample. */
export interface Exposition {
  readonly text: string;
  readonly gzip: Buffer;
  readonly timestamp: number;
}

export interface ExpositionRenderer {
  render(sample: Sample): Promise<Exposition>;
}

/**
 * Renders samples through prom-client. Every family is reset before each render, so a series that
 * was not read this time (a vanished disk, a failed collector) disappears instead of going stale.
 */
export function createExpositionRenderer(opts: { processMetrics?: boolean } = {}): ExpositionRenderer {
  const registry = new Registry();
  const families = new Map<MetricName, Gauge | Counter>();
  for (const [name, def] of Object.entries(catalog) as [MetricName, (typeof catalog)[MetricName]][]) {
    const common = { name, help: def.help, labelNames: [...def.labels], registers: [registry] };
    families.set(name, def.type === 'counter' ? new Counter(common) : new Gauge(common));
  }
  // prom-client's default metrics cost a millisecond per render (they read /proc/self on every
  // call); these few answer "what does the agent itself cost" for a fraction of that.
  const self = opts.processMetrics ?? true ? createSelfMetrics(registry) : undefined;

  return {
    async render(sample) {
      self?.update();
      // Only families with series this sample are rendered: prom-client renders a label-less gauge
      // it holds no value for as 0, which would be a made-up reading (a Linux-only family on
      // Windows, or the figure of a collector that failed this sample).
      registry.clear();
      for (const [name, metric] of families) {
        const series = sample.families.get(name);
        if (!series || series.length === 0) continue;
        metric.reset();
        for (const { labels, value } of series) {
          if (metric instanceof Counter) metric.inc(labels, value);
          else metric.set(labels, value);
        }
        registry.registerMetric(metric);
      }
      for (const m of self?.metrics ?? []) registry.registerMetric(m);
      const text = await registry.metrics();
      return { text, gzip: gzipSync(text), timestamp: sample.timestamp };
    },
  };
}

function createSelfMetrics(registry: Registry) {
  const cpu = new Counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent by the agent in seconds.', registers: [registry] });
  const rss = new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size of the agent in bytes.', registers: [registry] });
  const heap = new Gauge({ name: 'nodejs_heap_size_used_bytes', help: 'V8 heap in use by the agent in bytes.', registers: [registry] });
  const start = new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the agent since the Unix epoch in seconds.', registers: [registry] });
  start.set(Math.round(Date.now() / 1000 - process.uptime()));
  return {
    metrics: [cpu, rss, heap, start],
    update() {
      const usage = process.cpuUsage();
      cpu.reset();
      cpu.inc((usage.user + usage.system) / 1e6);
      const memory = process.memoryUsage();
      rss.set(memory.rss);
      heap.set(memory.heapUsed);
    },
  };
}
