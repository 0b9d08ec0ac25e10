import type { Sample } from '../metrics/sample.js';
import type { TimeSeries } from './write-request.js';

/**
 * The series of agent samples as remote-write time series: one per metric and label set, carrying
 * its value at each sample's time. `external` labels are added where a series lacks them (as
 * Prometheus's external_labels: a series' own label wins).
 */
export function toTimeSeries(samples: readonly Sample[], external: Readonly<Record<string, string>>, extra: (sample: Sample) => ReadonlyArray<{ name: string; value: number }> = () => []): TimeSeries[] {
  const byKey = new Map<string, { labels: Array<[string, string]>; samples: Array<{ value: number; timestamp: number }> }>();
  const add = (name: string, own: Readonly<Record<string, string>>, value: number, timestamp: number): void => {
    const labels: Record<string, string> = { ...external, ...own, __name__: name };
    const sorted = Object.keys(labels)
      .sort(byteOrder)
      .map((k): [string, string] => [k, labels[k]!]);
    const key = sorted.map(([k, v]) => `${k}\u0000${v}`).join('\u0001');
    let entry = byKey.get(key);
    if (!entry) byKey.set(key, (entry = { labels: sorted, samples: [] }));
    entry.samples.push({ value, timestamp });
  };
  for (const sample of [...samples].sort((a, b) => a.timestamp - b.timestamp)) {
    for (const [name, values] of sample.families) {
      for (const { labels, value } of values) add(name, labels, value, sample.timestamp);
    }
    for (const { name, value } of extra(sample)) add(name, {}, value, sample.timestamp);
  }
  return [...byKey.values()];
}

/** Label names compare by bytes, as Prometheus sorts them (uppercase before `_` before lowercase). */
const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Samples (points) in a set of time series. */
export const pointCount = (series: readonly TimeSeries[]): number => series.reduce((n, s) => n + s.samples.length, 0);
