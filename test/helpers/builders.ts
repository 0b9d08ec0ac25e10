import { createHistory, type History, type HistoryOptions } from '../../agent/history/history.js';
import type { MetricName } from '../../agent/metrics/catalog.js';
import type { CollectorOutcome, Labels, Sample, SampleFacts, SeriesValue, Sink } from '../../agent/metrics/sample.js';
import type { ProcessRow } from '../../agent/process/table.js';

/** A sink that keeps what was written, in order, with lookups by metric and labels. */
export function recordingSink() {
  const series: Array<{ metric: MetricName; labels: Labels; value: number }> = [];
  const facts: SampleFacts = {};
  const sink: Sink = {
    set: (metric, labels, value) => void series.push({ metric, labels: labels as Labels, value }),
    publish: (key, value) => void (facts[key] = value),
  };
  const matches = (labels: Labels, match: Labels) => Object.entries(match).every(([k, v]) => labels[k] === v);
  return {
    sink,
    series,
    facts,
    /** What was written, by family. */
    families: () => {
      const out = new Map<string, Array<{ labels: Labels; value: number }>>();
      for (const s of series) {
        let list = out.get(s.metric);
        if (!list) out.set(s.metric, (list = []));
        list.push({ labels: s.labels, value: s.value });
      }
      return out;
    },
    /** Every series written of one family, in order. */
    family: (metric: string) => series.filter((s) => s.metric === metric),
    /** The value of the first series of `metric` whose labels include `match`. */
    value: (metric: string, match: Labels = {}) => series.find((s) => s.metric === metric && matches(s.labels, match))?.value,
  };
}

/** A sample at `timestamp` holding `families`, as the pipeline would hand it to a stage. */
export function sampleOf(
  timestamp: number,
  families: Readonly<Record<string, readonly SeriesValue[]>>,
  facts: SampleFacts = {},
  collectors: readonly CollectorOutcome[] = [],
): Sample {
  return { timestamp, families: new Map(Object.entries(families)) as Map<MetricName, SeriesValue[]>, collectors, facts };
}

/** A process row as the process table reads one: an ordinary user's small process unless told otherwise. */
export function processRow(over: Partial<ProcessRow> & { pid: number }): ProcessRow {
  const comm = over.comm ?? 'app';
  return {
    ppid: 1, startTime: 1_700_000_000_000 + over.pid, state: 'S', comm, exe: `/usr/bin/${comm}`, cmdline: comm, argv0: comm,
    uid: 1000, user: 'app', gid: 1000, group: 'app', privateBytes: 10 * 2 ** 20, workingSetBytes: 10 * 2 ** 20, virtualBytes: 100 * 2 ** 20,
    threads: 1, cpuSeconds: 0, handles: 10, criteria: [], processGroup: comm,
    ...over,
  };
}

/** A history for a test: an hour raw, a day in five-minute buckets, every contention_ family. */
export function testHistory(opts: Partial<HistoryOptions> = {}): History {
  return createHistory({ rawSeconds: 3600, sampleSeconds: 5, bucketSeconds: 300, retentionSeconds: 86_400, maxSeries: 5000, families: ['contention_'], ...opts });
}
