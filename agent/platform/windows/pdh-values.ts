import type { LinearRegex } from '../../config/regex.js';
import type { LabelsOf, MetricName } from '../../metrics/catalog.js';
import { hostLabels, queryPath, type HostCounter } from './counters.js';
import { estimatePoolLimits } from './pool-limits.js';

/** PDH_CSTATUS_VALID_DATA and PDH_CSTATUS_NEW_DATA: the only statuses whose value can be used. */
export const PDH_CSTATUS_VALID_DATA = 0x0;
export const PDH_CSTATUS_NEW_DATA = 0x1;
/** What a rate counter reports before its second collection. */
export const PDH_CSTATUS_INVALID_DATA = 0xc0000bba;
/** An instance that went away between collection and formatting (a disk removed). */
export const PDH_CSTATUS_NO_INSTANCE = 0x800007d1;

/** One instance's formatted value as PdhGetFormattedCounterValue or ...ArrayW give it. */
export interface PdhItem {
  /** `''` for single-instance objects, `_Total` or an instance name (`0 C:`) otherwise. */
  readonly instance: string;
  /** CStatus of the formatted value. */
  readonly status: number;
  readonly value: number;
}

export interface PdhReading {
  readonly counter: HostCounter;
  readonly items: readonly PdhItem[];
}

/** One series the collector writes, typed so its labels are those of its family. */
export type HostSeries = { [M in MetricName]: { readonly metric: M; readonly labels: LabelsOf<M>; readonly value: number } }[MetricName];

export interface HostFacts {
  /** Physical memory the OS can use (GlobalMemoryStatusEx's ullTotalPhys). */
  readonly physicalBytes: number;
  /** Logical CPUs. */
  readonly cpus: number;
}

export interface MappedHost {
  readonly series: HostSeries[];
  /** Paths that gave no usable value this time (a rate counter's first collection, a vanished disk). */
  readonly missing: string[];
}

/**
 * The agent's series from one PDH collection plus what the host says of itself. Pure: PDH values
 * in, series out. Values that are not finite or are negative are dropped with their instance (a
 * disk going away mid-collection); ratios are clamped to [0, 1] as PDH caps percentages at 100.
 */
export function mapHostReadings(readings: readonly PdhReading[], host: HostFacts, opts: { deviceExclude?: LinearRegex } = {}): MappedHost {
  const series: HostSeries[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const { counter, items } of readings) {
    let used = 0;
    for (const item of items) {
      if (item.status !== PDH_CSTATUS_VALID_DATA && item.status !== PDH_CSTATUS_NEW_DATA) continue;
      if (!Number.isFinite(item.value) || item.value < 0) continue;
      const labels = hostLabels(counter, instanceOf(counter, item.instance));
      if (!labels) continue;
      if (counter.label === 'device' && opts.deviceExclude?.test(labels.device ?? '')) continue;
      const key = `${counter.family.metric}${JSON.stringify(labels)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let value = item.value * counter.scale;
      if (counter.family.metric.endsWith('_ratio')) value = Math.min(1, Math.max(0, value));
      series.push({ metric: counter.family.metric, labels, value } as HostSeries);
      used++;
    }
    if (used === 0 && counter.instances !== 'each') missing.push(queryPath(counter));
  }

  series.push({ metric: 'contention_cpus', labels: {}, value: host.cpus });
  series.push({ metric: 'contention_memory_physical_bytes', labels: {}, value: host.physicalBytes });
  // Windows never overcommits: an allocation past the commit limit fails.
  series.push({ metric: 'contention_memory_commit_limit_enforced', labels: {}, value: 1 });
  const limits = estimatePoolLimits(host.physicalBytes);
  series.push({ metric: 'contention_kernel_pool_limit_bytes', labels: { pool: 'paged', source: 'estimate' }, value: limits.paged });
  series.push({ metric: 'contention_kernel_pool_limit_bytes', labels: { pool: 'nonpaged', source: 'estimate' }, value: limits.nonpaged });
  return { series, missing };
}

/**
 * PdhGetFormattedCounterValue names no instance: a `_Total` query's one value is the `_Total`
 * instance, a single-instance object's is the object itself.
 */
function instanceOf(counter: HostCounter, instance: string): string {
  if (instance !== '') return instance;
  return counter.instances === 'total' ? '_Total' : '';
}

/** The value of a single-series family among mapped series, if present. */
export function seriesValue(series: readonly HostSeries[], metric: MetricName, labels: Readonly<Record<string, string>> = {}): number | undefined {
  return series.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => (s.labels as Record<string, string>)[k] === v))?.value;
}
