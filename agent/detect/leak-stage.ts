import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/schema.js';
import type { History } from '../history/history.js';
import type { StoredSeries } from '../history/source.js';
import { valueOf, type Sample, type Sink } from '../metrics/sample.js';
import { topBy } from '../process/groups.js';
import type { Stage } from '../sampler/sampler.js';
import { assessTrend, type TrendResult } from './trend.js';

type Unit = 'bytes' | 'count';

interface Subject {
  readonly kind: 'host' | 'process_group' | 'process';
  readonly subject: string;
  readonly resource: string;
  readonly unit: Unit;
  readonly series: StoredSeries;
}

interface Judged extends Subject {
  readonly trend: TrendResult;
}

/** Where subjects come from in history: the family, what it measures, and which label names the subject. */
const WATCHED: ReadonlyArray<{ name: string; kind: Subject['kind']; resource: string; unit: Unit; subject: (l: Readonly<Record<string, string>>) => string }> = [
  { name: 'contention_process_group_private_bytes', kind: 'process_group', resource: 'private_bytes', unit: 'bytes', subject: (l) => l.group ?? '' },
  { name: 'contention_process_group_handles', kind: 'process_group', resource: 'handles', unit: 'count', subject: (l) => l.group ?? '' },
  { name: 'contention_process_group_threads', kind: 'process_group', resource: 'threads', unit: 'count', subject: (l) => l.group ?? '' },
  { name: 'process:private_bytes', kind: 'process', resource: 'private_bytes', unit: 'bytes', subject: (l) => `${l.name}[${l.pid}]` },
  { name: 'process:handles', kind: 'process', resource: 'handles', unit: 'count', subject: (l) => `${l.name}[${l.pid}]` },
  { name: 'process:threads', kind: 'process', resource: 'threads', unit: 'count', subject: (l) => `${l.name}[${l.pid}]` },
  { name: 'contention_kernel_pool_bytes', kind: 'host', resource: 'pool_bytes', unit: 'bytes', subject: (l) => `pool ${l.pool}` },
  { name: 'contention_memory_commit_bytes', kind: 'host', resource: 'commit_bytes', unit: 'bytes', subject: () => 'commit' },
];

export interface LeakDetector extends Stage {
  /** Alerts for the current suspects (firing) and for suspects that recovered (resolved, once). */
  alerts(): readonly Alert[];
}

/**
 * The detection stage: records each sample into history, keeps per-process rings for the watched
 * processes, judges every subject with the shared trend test, and exports the suspects, the strongest
 * other candidates, and time to exhaustion of limited resources.
 */
export function createLeakDetector(history: History, config: Config): LeakDetector {
  const d = config.detection;
  const trendOptions = { minConfidence: d.min_confidence, minDailyGrowth: d.min_daily_growth };
  let active = new Map<string, Alert>();
  let resolved: Alert[] = [];

  const recordProcesses = (sample: Sample): void => {
    const rows = sample.facts.processes?.rows;
    if (!rows) return;
    const watched = new Set([...rows.filter((r) => r.criteria.length > 0), ...topBy(rows, 'privateBytes', d.watched_processes)]);
    for (const r of watched) {
      const labels = { pid: String(r.pid), start: String(r.startTime), name: r.comm, group: r.processGroup };
      history.recordPoint('process:private_bytes', labels, sample.timestamp, r.privateBytes);
      history.recordPoint('process:handles', labels, sample.timestamp, r.handles);
      history.recordPoint('process:threads', labels, sample.timestamp, r.threads);
    }
  };

  const judge = (now: number): Judged[] => {
    const judged: Judged[] = [];
    for (const w of WATCHED) {
      for (const series of history.select(w.name, now - d.window * 1000, now)) {
        const pts = series.points;
        if (pts.length < 2 || pts[pts.length - 1]!.t < now - d.window * 1000) continue;
        if ((pts[pts.length - 1]!.t - pts[0]!.t) / 1000 < d.min_window) continue;
        const trend = assessTrend(pts.map((p) => p.t), pts.map((p) => p.v), trendOptions);
        judged.push({ kind: w.kind, subject: w.subject(series.labels), resource: w.resource, unit: w.unit, series, trend });
      }
    }
    return judged;
  };

  const exhaustion = (sample: Sample, sink: Sink, now: number): void => {
    const slopeOf = (name: string, labels: Record<string, string> = {}): number | undefined => {
      const series = history.select(name, now - d.window * 1000, now).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      if (!series || series.points.length < 12) return undefined;
      const span = (series.points[series.points.length - 1]!.t - series.points[0]!.t) / 1000;
      if (span < d.min_window) return undefined;
      const trend = assessTrend(series.points.map((p) => p.t), series.points.map((p) => p.v), trendOptions);
      return trend.confidence >= d.min_confidence ? trend.slopePerSecond : undefined;
    };
    const publish = (resource: string, remaining: number | undefined, slope: number | undefined): void => {
      if (remaining === undefined || slope === undefined || slope <= 0 || remaining < 0) return;
      sink.set('contention_seconds_to_exhaustion', { resource }, remaining / slope);
    };
    if (valueOf(sample, 'contention_memory_commit_limit_enforced') === 1) {
      const limit = valueOf(sample, 'contention_memory_commit_limit_bytes');
      const commit = valueOf(sample, 'contention_memory_commit_bytes');
      if (limit !== undefined && commit !== undefined) publish('commit', limit - commit, slopeOf('contention_memory_commit_bytes'));
    }
    for (const s of sample.families.get('contention_kernel_table_free_entries') ?? []) {
      const table = s.labels.table!;
      publish(`kernel_table:${table}`, s.value, historyDrain(history, table, now, d.window, d.min_window, trendOptions));
    }
    for (const s of sample.families.get('contention_kernel_pool_limit_bytes') ?? []) {
      const pool = s.labels.pool!;
      const used = valueOf(sample, 'contention_kernel_pool_bytes', { pool });
      if (used !== undefined) publish(`kernel_pool:${pool}`, s.value - used, slopeOf('contention_kernel_pool_bytes', { pool }));
    }
  };

  return {
    name: 'leak_detector',
    run(sample, sink) {
      history.record(sample);
      recordProcesses(sample);
      const stats = history.stats();
      sink.set('contention_history_series', {}, stats.series);
      sink.set('contention_history_series_dropped_total', {}, stats.dropped);
      if (!d.enabled) return;
      const now = sample.timestamp;
      const judged = judge(now);
      const suspects = judged.filter((j) => j.trend.leak);
      const candidates = judged
        .filter((j) => !j.trend.leak && j.trend.slopePerSecond > 0)
        .sort((a, b) => b.trend.confidence - a.trend.confidence)
        .slice(0, d.max_exported);
      for (const j of [...suspects, ...candidates]) {
        const labels = { subject_kind: j.kind, subject: j.subject, resource: j.resource };
        sink.set('contention_leak_suspected', labels, j.trend.leak ? 1 : 0);
        sink.set(j.unit === 'bytes' ? 'contention_growth_bytes_per_second' : 'contention_growth_per_second', labels, j.trend.slopePerSecond);
        sink.set('contention_trend_confidence', labels, j.trend.confidence);
      }
      exhaustion(sample, sink, now);

      const next = new Map<string, Alert>();
      for (const j of suspects) {
        const key = `${j.kind}\u0000${j.subject}\u0000${j.resource}`;
        next.set(key, active.get(key) ?? leakAlert(j, now));
      }
      resolved = [...active].filter(([key]) => !next.has(key)).map(([, a]) => ({ ...a, state: 'resolved' as const, resolvedAt: now }));
      active = next;
    },
    alerts: () => [...active.values(), ...resolved],
  };
}

/** How fast a kernel table's free entries fall (entries per second), when they fall steadily. */
function historyDrain(
  history: History,
  table: string,
  now: number,
  window: number,
  minWindow: number,
  options: { minConfidence: number; minDailyGrowth: number },
): number | undefined {
  const series = history.select('contention_kernel_table_free_entries', now - window * 1000, now).find((s) => s.labels.table === table);
  if (!series || series.points.length < 12) return undefined;
  const pts = series.points;
  if ((pts[pts.length - 1]!.t - pts[0]!.t) / 1000 < minWindow) return undefined;
  const trend = assessTrend(pts.map((p) => p.t), pts.map((p) => -p.v), { ...options, minDailyGrowth: 0 });
  return trend.confidence >= options.minConfidence ? trend.slopePerSecond : undefined;
}

function leakAlert(j: Judged, now: number): Alert {
  const perHour = j.trend.slopePerSecond * 3600;
  const rate = j.unit === 'bytes' ? `${(perHour / 2 ** 20).toFixed(1)} MiB/h` : `${perHour.toFixed(1)}/h`;
  const what = j.kind === 'process' ? 'process' : j.kind === 'process_group' ? 'process group' : 'host';
  return {
    labels: { alertname: 'LeakSuspected', severity: 'warning', subject_kind: j.kind, subject: j.subject, resource: j.resource },
    annotations: {
      summary: `${what} ${j.subject} leaks ${j.resource}: +${rate}`,
      description: `The floor of ${j.resource} of ${what} ${j.subject} grew steadily at ${rate} over the last ${Math.round(j.trend.spanSeconds / 60)} min (confidence ${(j.trend.confidence * 100).toFixed(1)}%) and did not come back. Capture evidence before restarting anything: a reboot only hides a leak.`,
      runbook_url: 'docs/runbooks/LeakSuspected.md',
    },
    activeAt: now,
    state: 'firing',
    source: 'detector',
  };
}
