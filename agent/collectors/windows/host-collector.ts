import type { Labels, Sink } from '../../metrics/sample.js';
import type { MetricName } from '../../metrics/catalog.js';
import { LIVE_HOST_COUNTERS } from '../../platform/windows/counters.js';
import { openPdhQuery } from '../../platform/windows/pdh-query.js';
import { mapHostReadings, type HostSeries } from '../../platform/windows/pdh-values.js';
import type { CollectorContext, CollectorSpec } from '../collector.js';
import type { CollectorName } from '../names.js';
import { windowsHostFacts } from './host-facts.js';

/** Families read from a kernel call instead of PDH, by one reader the collector holds. */
export interface NativePart {
  /** The source label these families get in contention_reading_source_info. */
  readonly source: string;
  /** Opens the reader (Windows only); a rejection fails each update with its reason. */
  open(): Promise<NativeReader>;
}

export interface NativeReader {
  /** What this read gave, and what it should have given but did not (the field, named in the error, and its family). */
  read(): { readonly series: readonly HostSeries[]; readonly missing: readonly { field: string; metric: MetricName }[] };
  close?(): void;
}

export interface WindowsCollectorSpec {
  readonly name: CollectorName;
  readonly description: string;
  /**
   * The families this collector exports: those of the native part, then the live counters of the
   * shared counter map that feed the rest (read by one PDH query), plus the host facts among them.
   */
  readonly metrics: readonly MetricName[];
  readonly native?: NativePart;
  /** What the collector adds from the mapped series (peaks from the queue poller, a published fact). */
  readonly extra?: (series: readonly HostSeries[], sink: Sink, ctx: CollectorContext) => void;
}

/** Writes a mapped series; the union of typed series is checked where it is built (pdh-values.ts). */
export function setSeries(sink: Sink, s: HostSeries): void {
  (sink.set as (metric: MetricName, labels: Labels, value: number) => void)(s.metric, s.labels, s.value);
}


/**
 * A Windows collector over a native reader, its own PDH query, or both. The PDH query opens when
 * the collector is created, only if a family of the collector is read through PDH, and closes when
 * its runtime retires. A counter with no value fails the collector, except on the first collection,
 * when rate counters have none yet; what was read is written first, so one missing counter takes
 * out nothing else. Each family written is named with its source in contention_reading_source_info.
 */
export function windowsHostCollector(spec: WindowsCollectorSpec): CollectorSpec & { readonly metrics: readonly MetricName[] } {
  return {
    name: spec.name,
    metrics: spec.metrics,
    description: spec.description,
    defaultEnabled: true,
    create: (ctx) => {
      const own = new Set<MetricName>(spec.metrics);
      const counters = LIVE_HOST_COUNTERS.filter((c) => own.has(c.family.metric));
      const query = counters.length > 0 ? openPdhQuery(counters) : undefined;
      query?.catch(() => undefined); // reported by update()
      const native = spec.native?.open();
      native?.catch(() => undefined);
      const deviceExclude = new RegExp(ctx.config.disk.device_exclude);
      let collections = 0;
      return {
        async update(sink) {
          const errors: string[] = [];
          const written: HostSeries[] = [];
          const sources = new Map<MetricName, string>();
          if (native) {
            try {
              const { series, missing } = (await native).read();
              for (const s of series) if (own.has(s.metric)) {
                written.push(s);
                sources.set(s.metric, spec.native!.source);
              }
              const mine = missing.filter((m) => own.has(m.metric)).map((m) => m.field);
              if (mine.length > 0) errors.push(`${spec.native!.source} reported no ${mine.join(', ')} (zero, which a live kernel never reports)`);
            } catch (err) {
              errors.push((err as Error).message);
            }
          }
          let pdh: HostSeries[] = [];
          if (query) {
            try {
              const readings = (await query).collect();
              collections++;
              const mapped = mapHostReadings(readings, windowsHostFacts(), { deviceExclude });
              pdh = mapped.series.filter((s) => own.has(s.metric) && !sources.has(s.metric));
              if (mapped.missing.length > 0 && collections > 1) errors.push(`PDH gave no value for ${mapped.missing.join(', ')}`);
            } catch (err) {
              errors.push((err as Error).message);
            }
          } else {
            // Without a query the facts and estimates still come from the same mapping.
            pdh = mapHostReadings([], windowsHostFacts()).series.filter((s) => own.has(s.metric) && !sources.has(s.metric));
          }
          for (const s of pdh) {
            written.push(s);
            const source = sourceOf(s.metric);
            if (source) sources.set(s.metric, source);
          }
          for (const s of written) setSeries(sink, s);
          spec.extra?.(written, sink, ctx);
          for (const [family, source] of sources) sink.set('contention_reading_source_info', { family, source }, 1);
          if (errors.length > 0) throw new Error(errors.join('; '));
        },
        stop() {
          void query?.then((q) => q.close(), () => undefined);
          void native?.then((r) => r.close?.(), () => undefined);
        },
      };
    },
  };
}

/**
 * The source of a family the mapping wrote; none for what is not a reading (the CPU count, the
 * constant commit_limit_enforced, the pool-limit estimates that carry source="estimate" already).
 */
function sourceOf(metric: MetricName): string | undefined {
  switch (metric) {
    case 'contention_memory_physical_bytes':
      return 'GlobalMemoryStatusEx'; // Node's os.totalmem()
    case 'contention_cpus':
    case 'contention_memory_commit_limit_enforced':
    case 'contention_kernel_pool_limit_bytes':
      return undefined;
    default:
      return 'pdh';
  }
}
