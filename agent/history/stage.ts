import type { MetricName } from '../metrics/catalog.js';
import type { Sample, SeriesValue, Sink } from '../metrics/sample.js';
import type { ProcessRow } from '../process/table.js';
import type { History } from './history.js';

/**
 * The one writer of the local history, in the sample pipeline after the collectors and their health
 * series. Every series of a sample is recorded once: the measured part before the derived stages run,
 * then what each stage derived as soon as it has run, so the rules see the detector's verdicts of the
 * same sample, as a Prometheus scraping that sample would.
 */
export interface HistoryStage {
  /** Records the collectors' series, their health and the watched processes' rings; exports contention_history_*. */
  recordMeasured(sample: Sample, sink: Sink): void;
  /** Records the series one derived stage wrote in this sample (and its health). */
  recordDerived(timestamp: number, families: ReadonlyMap<MetricName, readonly SeriesValue[]>): void;
}

export interface HistoryStageOptions {
  /** The processes whose private bytes, handles and threads get a ring of their own (the detector chooses). */
  readonly watchedProcesses: (rows: readonly ProcessRow[]) => Iterable<ProcessRow>;
}

/** Internal series kept per watched process, by the row field they hold. */
export const PROCESS_SERIES = { 'process:private_bytes': 'privateBytes', 'process:handles': 'handles', 'process:threads': 'threads' } as const;

export function createHistoryStage(history: History, opts: HistoryStageOptions): HistoryStage {
  const record = (timestamp: number, families: ReadonlyMap<MetricName, readonly SeriesValue[]>): void => history.record({ timestamp, families });

  const recordProcesses = (sample: Sample): void => {
    const rows = sample.facts.processes?.rows;
    if (!rows) return;
    for (const r of opts.watchedProcesses(rows)) {
      const labels = { pid: String(r.pid), start: String(r.startTime), name: r.comm, group: r.processGroup };
      for (const [name, field] of Object.entries(PROCESS_SERIES)) history.recordPoint(name, labels, sample.timestamp, r[field]);
    }
  };

  return {
    recordMeasured(sample, sink) {
      record(sample.timestamp, sample.families);
      recordProcesses(sample);
      const stats = history.stats();
      const own = new Map<MetricName, SeriesValue[]>([
        ['contention_history_series', [{ labels: {}, value: stats.series }]],
        ['contention_history_bytes', [{ labels: {}, value: stats.bytes }]],
        ['contention_history_series_dropped_total', [{ labels: {}, value: stats.dropped }]],
      ]);
      for (const [name, [s]] of own) sink.set(name as 'contention_history_series', {}, s!.value);
      record(sample.timestamp, own);
    },
    recordDerived: record,
  };
}
