import type { RangeSeries } from './query-range.js';
import type { Track } from './track.js';

/** Labels that name where a series came from rather than what it measures. */
const TARGET_LABELS = new Set(['instance', 'job']);

/** The agent's own metrics from a query_range export mean what their names say; the instance is their distinguishing label. */
export function prometheusTracks(series: readonly RangeSeries[]): { tracks: Track[]; ignored: string[] } {
  const tracks: Track[] = [];
  const ignored: string[] = [];
  for (const s of series) {
    if (!s.metric.startsWith('contention_')) {
      ignored.push(s.header);
      continue;
    }
    const own = Object.entries(s.labels).filter(([k]) => !TARGET_LABELS.has(k));
    tracks.push({
      // Where it was scraped from is the same for every series of one target: folded away for reading.
      counter: own.length > 0 ? `${s.metric}{${own.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}` : s.metric,
      instance: own.map(([k, v]) => `${k}=${v}`).join(','),
      metric: s.metric,
      labels: s.labels,
      times: s.times,
      values: s.values,
    });
  }
  return { tracks, ignored };
}
