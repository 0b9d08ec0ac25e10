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
  /**
   * When the host booted (Unix ms), recorded each sample as `host:boot_time`: across a persisted
   * history, a change of it is a reboot.
   */
  readonly bootTimeMs?: number;
}

/** Internal series kept per watched process, by the row field they hold. */
export const PROCESS_SERIES = { 'process:private_bytes': 'privateBytes', 'process:handles': 'handles', 'process:threads': 'threads' } as const;

const ARRIVED = 2;
const LEFT = 4;

export function createHistoryStage(history: History, opts: HistoryStageOptions): HistoryStage {
  const record = (timestamp: number, families: ReadonlyMap<MetricName, readonly SeriesValue[]>): void => history.record({ timestamp, families });

  // Each process at the last sample, with its row, start time and group, the count of members of
  // each group, and the restarts counted so far (carried on from the history after a restart of the
  // agent, so the count never goes back). Updated in place and moved only by the rows that changed: on
  // a big host nearly every row is the same object from one sample to the next.
  const members = new Map<number, { row: ProcessRow; start: number; group: string; sampleNo: number }>();
  const groupSizes = new Map<string, number>();
  const restarts = new Map<string, number>();
  let sampleNo = 0;

  const recordProcesses = (sample: Sample): void => {
    const rows = sample.facts.processes?.rows;
    if (!rows) return;
    for (const r of opts.watchedProcesses(rows)) {
      const labels = { pid: String(r.pid), start: String(r.startTime), name: r.displayName, group: r.processGroup };
      for (const [name, field] of Object.entries(PROCESS_SERIES)) history.recordPoint(name, labels, sample.timestamp, r[field]);
    }
    // A restart: a member gone and a new one come in the same sample. The count is history, so it
    // outlives the processes, and the detector reads the lives of a group from it. A reused pid (a new
    // start time) or a move to another group is one member leaving and another coming.
    const now = ++sampleNo;
    const moved = new Map<string, number>(); // ARRIVED | LEFT
    const arrive = (group: string): void => {
      groupSizes.set(group, (groupSizes.get(group) ?? 0) + 1);
      moved.set(group, (moved.get(group) ?? 0) | ARRIVED);
    };
    const leave = (group: string): void => {
      const left = groupSizes.get(group)! - 1;
      if (left === 0) groupSizes.delete(group);
      else groupSizes.set(group, left);
      moved.set(group, (moved.get(group) ?? 0) | LEFT);
    };
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const m = members.get(r.pid);
      if (m === undefined) {
        members.set(r.pid, { row: r, start: r.startTime, group: r.processGroup, sampleNo: now });
        arrive(r.processGroup);
        continue;
      }
      m.sampleNo = now;
      if (m.row === r) continue;
      m.row = r;
      if (m.start !== r.startTime || m.group !== r.processGroup) {
        leave(m.group);
        arrive(r.processGroup);
        m.start = r.startTime;
        m.group = r.processGroup;
      }
    }
    if (members.size > rows.length) {
      members.forEach((m, pid) => {
        if (m.sampleNo === now) return;
        leave(m.group);
        members.delete(pid);
      });
    }
    groupSizes.forEach((_, group) => {
      let count = restarts.get(group) ?? lastValue('process_group:restarts', group) ?? 0;
      const flags = moved.get(group) ?? 0;
      if (flags & ARRIVED && flags & LEFT) count++;
      restarts.set(group, count);
      // One series per group the agent exports (bounded by criteria and process_groups.max_unmatched).
      history.recordPoint('process_group:restarts', { group }, sample.timestamp, count);
    });
    for (const group of restarts.keys()) if (!groupSizes.has(group)) restarts.delete(group);
  };

  const lastValue = (name: string, group: string): number | undefined => {
    const s = history.select(name, 0, Infinity).find((x) => x.labels.group === group);
    return s?.points.at(-1)?.v;
  };

  return {
    recordMeasured(sample, sink) {
      record(sample.timestamp, sample.families);
      if (opts.bootTimeMs !== undefined) history.recordPoint('host:boot_time', {}, sample.timestamp, opts.bootTimeMs);
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
