import { gzipSync } from 'node:zlib';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { catalog, type MetricName } from '../metrics/catalog.js';
import type { Sample } from '../metrics/sample.js';

const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

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
  if (opts.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    // These gauges end in _total, which the exposition lint rejects; the agent does not need them.
    for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
  }

  return {
    async render(sample) {
      for (const [name, metric] of families) {
        metric.reset();
        for (const { labels, value } of sample.families.get(name) ?? []) {
          if (metric instanceof Counter) metric.inc(labels, value);
          else metric.set(labels, value);
        }
      }
      const text = await registry.metrics();
      return { text, gzip: gzipSync(text), timestamp: sample.timestamp };
    },
  };
}
