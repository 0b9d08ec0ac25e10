import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/schema.js';
import type { History } from '../history/history.js';
import { labelsKey } from '../metrics/labels.js';
import type { Part, Settings } from '../part.js';
import { valueOf, type Labels, type Sample, type Sink, type Stage } from '../metrics/sample.js';
import { topBy } from '../process/groups.js';
import { processKey, type ProcessRow } from '../process/table.js';
import { formatBytes } from '../text/bytes.js';
import { assessTrend, type TrendOptions, type TrendResult } from './trend.js';

type Unit = 'bytes' | 'count';
type Kind = 'host' | 'process_group' | 'process';

/** One thing that can leak: a subject's resource and its recent points. */
export interface Subject {
  readonly kind: Kind;
  readonly subject: string;
  readonly resource: string;
  readonly unit: Unit;
  /** Labels an alert about it carries besides the subject (group, process name and pid). */
  readonly alertLabels: Labels;
  /** Times (Unix ms) and values of its recent history, in time order. */
  readonly t: ArrayLike<number>;
  readonly v: ArrayLike<number>;
}

export interface Judged extends Subject {
  readonly trend: TrendResult;
}

interface Watched {
  readonly name: string;
  readonly kind: Kind;
  readonly resource: string;
  readonly unit: Unit;
  readonly subject: (l: Labels) => string;
  readonly alertLabels: (l: Labels) => Labels;
}

const group = (resource: string, unit: Unit): Watched => ({
  name: `contention_process_group_${resource}`, kind: 'process_group', resource, unit,
  subject: (l) => l.group ?? '', alertLabels: (l) => ({ group: l.group ?? '' }),
});
const proc = (resource: string, unit: Unit): Watched => ({
  name: `process:${resource}`, kind: 'process', resource, unit,
  subject: (l) => `${l.name}[${l.pid}]`, alertLabels: (l) => ({ process: l.name ?? '', pid: l.pid ?? '', start: l.start ?? '', group: l.group ?? '' }),
});

/** Where subjects come from in history: the family, what it measures, and which labels name the subject. */
const WATCHED: readonly Watched[] = [
  group('private_bytes', 'bytes'),
  group('handles', 'count'),
  group('threads', 'count'),
  proc('private_bytes', 'bytes'),
  proc('handles', 'count'),
  proc('threads', 'count'),
  {
    name: 'contention_kernel_pool_bytes', kind: 'host', resource: 'pool_bytes', unit: 'bytes',
    subject: (l) => `pool ${l.pool}`, alertLabels: (l) => ({ pool: l.pool ?? '' }),
  },
  { name: 'contention_memory_commit_bytes', kind: 'host', resource: 'commit_bytes', unit: 'bytes', subject: () => 'commit', alertLabels: () => ({}) },
];

/** Most suspects exported and alerted at once: a host where everything grows needs no more to be told. */
const MAX_SUSPECTS = 100;

export interface LeakDetector extends Part {
  readonly stage: Stage;
  /** Alerts for the current suspects (firing); delivery resolves those no longer offered. */
  alerts(): readonly Alert[];
  /** The current suspects, most confident first (empty while detection is off). */
  suspects(): readonly Judged[];
  /** Seconds until each limited resource runs out at its steady growth, soonest first. */
  exhaustion(): ReadonlyArray<{ readonly resource: string; readonly seconds: number }>;
  /** The processes that get a history ring of their own: criteria-matched, suspected, and the top by private bytes. */
  watchedProcesses(rows: readonly ProcessRow[]): Iterable<ProcessRow>;
  /** Takes a reloaded config; the suspects and their alerts stay. */
  reconfigure(next: Settings): void;
  stop(): void;
}

/**
 * The detection stage: judges every subject in the history with the shared trend test, and exports
 * the suspects, the strongest other candidates, and time to exhaustion of limited resources. It only
 * reads the history; the pipeline's history stage records it.
 */
export function createLeakDetector(history: History, config: Config): LeakDetector {
  let d = config.detection;
  let trendOptions: TrendOptions = { minConfidence: d.min_confidence, minDailyGrowth: d.min_daily_growth };
  let active = new Map<string, Alert>();
  let suspects: Judged[] = [];
  let exhausting: Array<{ resource: string; seconds: number }> = [];
  // Processes under suspicion stay watched even if they drop out of the top N, so their alert does not flap.
  let suspectedProcesses = new Set<string>();

  const subjects = (now: number): Subject[] => {
    const from = now - d.window * 1000;
    const out: Subject[] = [];
    for (const w of WATCHED) {
      for (const s of history.selectFloors(w.name, from, now)) {
        out.push({ kind: w.kind, subject: w.subject(s.labels), resource: w.resource, unit: w.unit, alertLabels: w.alertLabels(s.labels), t: s.t, v: s.v });
      }
    }
    // Kernel tables leak as entries in use: size minus free.
    const sizes = new Map((history.select('contention_kernel_table_size_entries', now, now)).map((s) => [s.labels.table, s.points[0]!.v]));
    // Free entries' floor is in-use's peak: take last values here, not floors.
    for (const s of history.select('contention_kernel_table_free_entries', from, now)) {
      const size = sizes.get(s.labels.table);
      if (size === undefined) continue;
      out.push({
        kind: 'host', subject: `table ${s.labels.table}`, resource: 'table_entries', unit: 'count', alertLabels: { table: s.labels.table ?? '' },
        t: s.points.map((p) => p.t), v: s.points.map((p) => size - p.v),
      });
    }
    return out.filter((s) => judgeable(s.t, now));
  };

  /** Present now, with enough history behind it. */
  const judgeable = (t: ArrayLike<number>, now: number): boolean => t.length > 1 && t[t.length - 1] === now && (now - t[0]!) / 1000 >= d.min_window;

  const judge = (now: number): Judged[] => subjects(now).map((s) => ({ ...s, trend: assessTrend(s.t, s.v, trendOptions) }));

  /** Steady growth rate of a series (per second), or undefined when it does not grow with confidence. */
  const growth = (name: string, match: Labels, now: number, negate = false): number | undefined => {
    const series = history.selectFloors(name, now - d.window * 1000, now).find((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
    if (!series || !judgeable(series.t, now)) return undefined;
    const trend = assessTrend(series.t, negate ? series.v.map((x) => -x) : series.v, { ...trendOptions, minDailyGrowth: 0 });
    return trend.confidence >= d.min_confidence && trend.slopePerSecond > 0 ? trend.slopePerSecond : undefined;
  };

  const exhaustion = (sample: Sample, sink: Sink, now: number): void => {
    const publish = (resource: string, remaining: number | undefined, rate: number | undefined): void => {
      if (remaining === undefined || rate === undefined || remaining < 0) return;
      sink.set('contention_seconds_to_exhaustion', { resource }, remaining / rate);
      exhausting.push({ resource, seconds: remaining / rate });
    };
    // Linux overcommits unless vm.overcommit_memory=2: there the commit limit is advisory and running out
    // of it means nothing, so commit counts only where enforced; available memory running out always does.
    if (valueOf(sample, 'contention_memory_commit_limit_enforced') === 1) {
      const limit = valueOf(sample, 'contention_memory_commit_limit_bytes');
      const commit = valueOf(sample, 'contention_memory_commit_bytes');
      if (limit !== undefined && commit !== undefined) publish('commit', limit - commit, growth('contention_memory_commit_bytes', {}, now));
    }
    publish('memory_available', valueOf(sample, 'contention_memory_available_bytes'), growth('contention_memory_available_bytes', {}, now, true));
    for (const s of sample.families.get('contention_kernel_table_free_entries') ?? []) {
      const table = s.labels.table!;
      publish(`kernel_table:${table}`, s.value, growth('contention_kernel_table_free_entries', { table }, now, true));
    }
    for (const s of sample.families.get('contention_kernel_pool_limit_bytes') ?? []) {
      const pool = s.labels.pool!;
      const used = valueOf(sample, 'contention_kernel_pool_bytes', { pool });
      if (used !== undefined) publish(`kernel_pool:${pool}`, s.value - used, growth('contention_kernel_pool_bytes', { pool }, now));
    }
  };

  const stage: Stage = {
    name: 'leak_detector',
    run(sample, sink) {
      exhausting = [];
      if (!d.enabled) {
        // Turned off by a reload: what it found is no longer watched, so its alerts end.
        active = new Map();
        suspects = [];
        suspectedProcesses = new Set();
        return;
      }
      const now = sample.timestamp;
      const judged = judge(now);
      const byConfidence = (a: Judged, b: Judged): number => b.trend.confidence - a.trend.confidence;
      suspects = judged.filter((j) => j.trend.leak).sort(byConfidence).slice(0, MAX_SUSPECTS);
      const candidates = judged.filter((j) => !j.trend.leak && j.trend.slopePerSecond > 0).sort(byConfidence).slice(0, d.max_exported);
      for (const j of [...suspects, ...candidates]) {
        const labels = { subject_kind: j.kind, subject: j.subject, resource: j.resource };
        sink.set('contention_leak_suspected', labels, j.trend.leak ? 1 : 0);
        sink.set(j.unit === 'bytes' ? 'contention_growth_bytes_per_second' : 'contention_growth_per_second', labels, j.trend.slopePerSecond);
        sink.set('contention_trend_confidence', labels, j.trend.confidence);
      }
      exhaustion(sample, sink, now);
      exhausting.sort((a, b) => a.seconds - b.seconds);

      const next = new Map<string, Alert>();
      for (const j of suspects) {
        const alert = leakAlert(j, now);
        const key = labelsKey(alert.labels);
        // The first sighting's alert stays: its start time is when the leak was first seen.
        next.set(key, active.get(key) ?? alert);
      }
      active = next;
      suspectedProcesses = new Set(suspects.filter((j) => j.kind === 'process').map((j) => `${j.alertLabels.pid}:${startOf(j)}`));
    },
  };

  return {
    stage,
    alerts: () => [...active.values()],
    suspects: () => suspects,
    exhaustion: () => exhausting,
    watchedProcesses: (rows) =>
      new Set([...rows.filter((r) => r.criteria.length > 0 || suspectedProcesses.has(processKey(r))), ...topBy(rows, 'privateBytes', d.watched_processes)]),
    reconfigure({ config: next }) {
      d = next.detection;
      trendOptions = { minConfidence: d.min_confidence, minDailyGrowth: d.min_daily_growth };
    },
    stop() {},
  };
}

const startOf = (j: Judged): string => j.alertLabels.start ?? '';

/** The alert a suspect raises: it names the subject and says what to capture before anyone restarts it. */
export function leakAlert(j: Judged, now: number): Alert {
  const perHour = j.trend.slopePerSecond * 3600;
  const rate = j.unit === 'bytes' ? `${formatBytes(perHour)}/h` : `${perHour.toFixed(1)}/h`;
  const what = j.kind === 'process' ? 'process' : j.kind === 'process_group' ? 'process group' : 'host';
  const { start: _start, ...extra } = j.alertLabels;
  return {
    labels: { alertname: 'LeakSuspected', severity: 'warning', subject_kind: j.kind, subject: j.subject, resource: j.resource, ...extra },
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
