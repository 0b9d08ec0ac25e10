import type { Sample } from '../metrics/sample.js';
import type { TimeSeries } from './write-request.js';

/**
 * The series of agent samples as remote-write time series: one per metric and label set, carrying
 * its value at each sample's time. `external` labels are added where a series lacks them (as
 * Prometheus's external_labels: a series' own label wins).
 */
export function toTimeSeries(samples: readonly Sample[], external: Readonly<Record<string, string>>, extra: (sample: Sample) => ReadonlyArray<{ name: string; value: number }> = () => []): TimeSeries[] {
  const externalNames = Object.keys(external);
  const byKey = new Map<string, { labels: Array<[string, string]>; samples: Array<{ value: number; timestamp: number }> }>();
  const add = (name: string, own: Readonly<Record<string, string>>, value: number, timestamp: number): void => {
    // The key needs only the name and the series' own labels: the external ones are the same for all.
    let key = name;
    for (const k in own) key += `\u0000${k}\u0001${own[k]}`;
    let entry = byKey.get(key);
    if (!entry) {
      // Sorted by name once per series and batch, not once per point.
      const labels: Record<string, string> = { __name__: name };
      for (const k of externalNames) if (!(k in own)) labels[k] = external[k]!;
      Object.assign(labels, own);
      const sorted = Object.keys(labels)
        .sort(byteOrder)
        .map((k): [string, string] => [k, labels[k]!]);
      byKey.set(key, (entry = { labels: sorted, samples: [] }));
    }
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
