import { compileRegex } from '../../config/regex.js';
import type { Labels, Sink } from '../../metrics/sample.js';
import type { MetricName } from '../../metrics/catalog.js';
import { LIVE_HOST_COUNTERS } from '../../platform/windows/counters.js';
import { openPdhQuery } from '../../platform/windows/pdh-query.js';
import { mapHostReadings, type HostSeries } from '../../platform/windows/pdh-values.js';
import type { CollectorContext, CollectorSpec } from '../collector.js';
import type { CollectorName } from '../names.js';
import { windowsHostFacts } from './host-facts.js';

export interface PdhCollectorSpec {
  readonly name: CollectorName;
  readonly description: string;
  /**
   * The families this collector exports: it reads the live counters of the shared counter map
   * that feed them, and writes those series plus the host facts among them.
   */
  readonly metrics: readonly MetricName[];
  /** What the collector adds from the mapped series (peaks from the queue poller, a published fact). */
  readonly extra?: (series: readonly HostSeries[], sink: Sink, ctx: CollectorContext) => void;
}

/** Writes a mapped series; the union of typed series is checked where it is built (pdh-values.ts). */
export function setSeries(sink: Sink, s: HostSeries): void {
  (sink.set as (metric: MetricName, labels: Labels, value: number) => void)(s.metric, s.labels, s.value);
}

/**
 * A collector over its own PDH query. The query opens when the collector is created (Windows
 * only) and closes when its runtime retires. A counter with no value fails the collector, except
 * on the first collection, when rate counters have none yet; what was read is written first.
 */
export function pdhCollector(spec: PdhCollectorSpec): CollectorSpec & { readonly metrics: readonly MetricName[] } {
  return {
    name: spec.name,
    metrics: spec.metrics,
    description: spec.description,
    defaultEnabled: true,
    create: (ctx) => {
      const own = new Set<MetricName>(spec.metrics);
      const counters = LIVE_HOST_COUNTERS.filter((c) => own.has(c.family.metric));
      const ready = openPdhQuery(counters);
      ready.catch(() => undefined); // reported by update()
      const deviceExclude = compileRegex(ctx.config.disk.device_exclude);
      let collections = 0;
      return {
        async update(sink) {
          const query = await ready;
          const readings = query.collect();
          collections++;
          const { series, missing } = mapHostReadings(readings, windowsHostFacts(), { deviceExclude });
          const mine = series.filter((s) => own.has(s.metric));
          for (const s of mine) setSeries(sink, s);
          spec.extra?.(mine, sink, ctx);
          if (missing.length > 0 && collections > 1) throw new Error(`PDH gave no value for ${missing.join(', ')}`);
        },
        stop() {
          void ready.then((query) => query.close(), () => undefined);
        },
      };
    },
  };
}
