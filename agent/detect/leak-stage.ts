import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/schema.js';
import type { History } from '../history/history.js';
import { labelsKey } from '../metrics/labels.js';
import type { Part, Settings } from '../part.js';
import { valueOf, type Labels, type Sample, type Sink, type Stage } from '../metrics/sample.js';
import { topBy } from '../process/groups.js';
import { processKey, type ProcessRow } from '../process/table.js';
import type { RuleGroup } from '../rules/load.js';
import { formatBytes } from '../text/bytes.js';
import { assessTrend, type TrendOptions } from './trend.js';
import { judgeSeries, type LeakVerdict, type SubjectContext } from './verdict.js';

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
  /** Headroom and life starts, as the verdict takes them. */
  readonly ctx: SubjectContext;
}

export interface Judged extends Subject {
  readonly verdict: LeakVerdict;
  /** For a suspect: what its last leak verdict said (the shape, rate and confidence it is suspected on). */
  readonly suspected?: NonNullable<SubjectState['last']>;
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

/** What the detector remembers of a subject between samples: the hysteresis of its verdict. */
export interface SubjectState {
  /** Since when every verdict said leak (set hysteresis), or undefined. */
  leakSince?: number;
  /** Since when no verdict said leak while suspected (clear hysteresis), or undefined. */
  clearSince?: number;
  /** Suspected since (the alert's start), once confirmed. */
  suspectedAt?: number;
  /** The subject's value when the verdict first held: a suspect that falls below it gave memory back. */
  levelAtLeak?: number;
  /** The last verdict that said leak, for the alert and the page. */
  last?: { shape: string; slopePerSecond: number; confidence: number; scaleSeconds: number; secondsToExhaustion?: number; restartsPerHour?: number; perLifeGrowth?: number };
}

/** What a restart of the agent (or a reload) hands the next detector: per subject key, its state. */
export type DetectorState = Record<string, SubjectState>;

export interface LeakDetector extends Part {
  readonly stage: Stage;
  /** Alerts for the current suspects (firing); delivery resolves those no longer offered. */
  alerts(): readonly Alert[];
  /** The current suspects, most confident first (empty while detection is off). */
  suspects(): readonly Judged[];
  /** Seconds until each limited resource runs out at its steady growth, soonest first. */
  exhaustion(): ReadonlyArray<{ readonly resource: string; readonly seconds: number }>;
  /** How much history the judgement has (the oldest sample in the window) and how much it needs first (detection.min_window). */
  judging(now: number): { readonly historySeconds: number; readonly neededSeconds: number };
  /** The processes that get a history ring of their own: criteria-matched, suspected, and the top by private bytes. */
  watchedProcesses(rows: readonly ProcessRow[]): Iterable<ProcessRow>;
  /** The hysteresis state, to persist across a restart. */
  state(): DetectorState;
  /** Takes a reloaded config; the suspects, their hysteresis and their alerts stay. */
  reconfigure(next: Settings): void;
  stop(): void;
}

export interface LeakDetectorOptions {
  /** The persisted hysteresis state of the agent's previous run. */
  readonly carriedState?: DetectorState;
  /** The rule groups evaluated locally, if any (see rulesAlertOnLeaks). */
  readonly ruleGroups?: readonly RuleGroup[];
}

/**
 * Whether local rules alert on the detector's metric: then the rule's alert is each leak's one alert,
 * and the detector raises none of its own.
 */
export function rulesAlertOnLeaks(groups: readonly RuleGroup[] | undefined): boolean {
  return (groups ?? []).some((g) => g.rules.some((r) => r.kind === 'alert' && /\bcontention_leak_suspected\b/.test(r.exprText)));
}

/**
 * The detection stage: judges every subject in the history with the shared multi-scale verdict
 * (lives included: the history stage records group restarts and the boot time), and exports the
 * suspects, the strongest other candidates, and time to exhaustion of limited resources. It only
 * reads the history. A verdict becomes a suspicion only after it has held for `detection.confirm`,
 * and a suspicion clears only after no verdict has held it for `detection.clear_after`.
 */
export function createLeakDetector(history: History, config: Config, options: LeakDetectorOptions = {}): LeakDetector {
  let d = config.detection;
  let trendOptions: TrendOptions = { minConfidence: d.min_confidence, minDailyGrowth: d.min_daily_growth };
  let raiseAlerts = !rulesAlertOnLeaks(options.ruleGroups);
  const states = new Map<string, SubjectState>(Object.entries(options.carriedState ?? {}));
  let active = new Map<string, Alert>();
  let suspects: Judged[] = [];
  let exhausting: Array<{ resource: string; seconds: number }> = [];
  // Processes under suspicion stay watched even if they drop out of the top N, so their alert does not flap.
  let suspectedProcesses = new Set<string>();
  const retentionMs = config.history.retention * 1000;

  /** Times a series' value changed: the starts of new lives. */
  /** Per series of `name`, keyed by `label`, the times its value changed: the starts of new lives. Read once a sample. */
  const changes = (name: string, label: string, from: number, now: number): Map<string, number[]> => {
    const out = new Map<string, number[]>();
    for (const series of history.selectFloors(name, from, now)) {
      const starts: number[] = [];
      for (let i = 1; i < series.v.length; i++) if (series.v[i] !== series.v[i - 1]) starts.push(series.t[i]!);
      out.set(series.labels[label] ?? '', starts);
    }
    return out;
  };

  const headrooms = (sample: Sample) => {
    const enforced = valueOf(sample, 'contention_memory_commit_limit_enforced') === 1;
    const limit = valueOf(sample, 'contention_memory_commit_limit_bytes');
    const commit = valueOf(sample, 'contention_memory_commit_bytes');
    const available = valueOf(sample, 'contention_memory_available_bytes');
    // Memory a process holds runs out against commit where it is enforced, else against available memory.
    const memory = enforced && limit !== undefined && commit !== undefined ? limit - commit : available;
    return { memory, commit: enforced && limit !== undefined && commit !== undefined ? limit - commit : undefined };
  };

  const subjects = (sample: Sample, now: number): Subject[] => {
    const from = now - retentionMs;
    const room = headrooms(sample);
    const reboots = changes('host:boot_time', '', from, now).get('') ?? [];
    const restarts = changes('process_group:restarts', 'group', from, now);
    const out: Subject[] = [];
    for (const w of WATCHED) {
      for (const s of history.selectFloors(w.name, from, now)) {
        let ctx: SubjectContext = {};
        if (w.kind === 'process_group') {
          ctx = { lifeStarts: restarts.get(s.labels.group ?? '') ?? [], lifeKind: 'restart', headroom: w.resource === 'private_bytes' ? room.memory : undefined };
        } else if (w.kind === 'process') {
          ctx = { headroom: w.resource === 'private_bytes' ? room.memory : undefined };
        } else if (w.resource === 'pool_bytes') {
          const limit = valueOf(sample, 'contention_kernel_pool_limit_bytes', { pool: s.labels.pool ?? '' });
          ctx = { lifeStarts: reboots, lifeKind: 'reboot', headroom: limit === undefined ? undefined : limit - s.v[s.v.length - 1]! };
        } else {
          ctx = { lifeStarts: reboots, lifeKind: 'reboot', headroom: room.commit };
        }
        out.push({ kind: w.kind, subject: w.subject(s.labels), resource: w.resource, unit: w.unit, alertLabels: w.alertLabels(s.labels), t: s.t, v: s.v, ctx });
      }
    }
    // Kernel tables leak as entries in use: size minus free.
    const sizes = new Map(history.select('contention_kernel_table_size_entries', now, now).map((s) => [s.labels.table, s.points[0]!.v]));
    // Free entries' floor is in-use's peak: take last values here, not floors.
    for (const s of history.select('contention_kernel_table_free_entries', from, now)) {
      const size = sizes.get(s.labels.table);
      if (size === undefined) continue;
      out.push({
        kind: 'host', subject: `table ${s.labels.table}`, resource: 'table_entries', unit: 'count', alertLabels: { table: s.labels.table ?? '' },
        t: s.points.map((p) => p.t), v: s.points.map((p) => size - p.v), ctx: { lifeStarts: reboots, lifeKind: 'reboot', headroom: s.points[s.points.length - 1]!.v },
      });
    }
    return out.filter((s) => judgeable(s.t, now));
  };

  /** Present now, with at least the shortest scale of history behind it. */
  const judgeable = (t: ArrayLike<number>, now: number): boolean => t.length > 1 && t[t.length - 1] === now && (now - t[0]!) / 1000 >= d.min_window * 0.9;

  const judge = (sample: Sample, now: number): Judged[] =>
    subjects(sample, now).map((s) => ({ ...s, verdict: judgeSeries(s.t, s.v, s.ctx, { minConfidence: d.min_confidence, minDailyGrowth: d.min_daily_growth, minScale: d.min_window, maxScale: d.window }) }));

  /** Steady growth rate of a series (per second), or undefined when it does not grow with confidence. */
  const growth = (name: string, match: Labels, now: number, negate = false): number | undefined => {
    const series = history.selectFloors(name, now - Math.min(d.window, 3600) * 1000, now).find((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
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

  /** Moves a subject's hysteresis one sample on; true while it is a suspect. */
  const step = (key: string, leak: boolean, j: Judged | undefined, now: number): SubjectState => {
    const st = states.get(key) ?? {};
    const level = j && j.v.length > 0 ? j.v[j.v.length - 1]! : undefined;
    // A suspect that fell below where it stood when the verdict first held gave back what it took:
    // the ramp of a sawtooth, not a leak. It clears at once, not after clear_after.
    if (st.levelAtLeak !== undefined && level !== undefined && level < st.levelAtLeak) {
      states.set(key, {});
      return states.get(key)!;
    }
    if (leak && j) {
      if (st.leakSince === undefined) {
        st.leakSince = now;
        // The floor, not the last value: a leaking sawtooth's troughs stay above its earlier floors.
        // Lives fall back at every restart by definition: there the level says nothing.
        st.levelAtLeak = j.verdict.shape === 'growing' ? floorOver(j.t, j.v, (j.verdict.scaleSeconds * 1000) / 12) : undefined;
      }
      st.clearSince = undefined;
      const v = j.verdict;
      st.last = {
        shape: v.shape ?? 'growing', slopePerSecond: v.slopePerSecond, confidence: v.confidence, scaleSeconds: v.scaleSeconds,
        ...(v.secondsToExhaustion === undefined ? {} : { secondsToExhaustion: v.secondsToExhaustion }),
        ...(v.lives ? { restartsPerHour: v.lives.restartsPerHour, perLifeGrowth: v.lives.perLifeGrowth } : {}),
      };
      // The verdict holds for `confirm`, and for a quarter of the scale that gave it: a sawtooth's first
      // ramp, judged before any history shows it falling back, falls back within that.
      if (st.suspectedAt === undefined && now - st.leakSince! >= Math.max(d.confirm, 0.25 * v.scaleSeconds) * 1000) st.suspectedAt = now;
    } else {
      st.leakSince = undefined;
      if (st.suspectedAt === undefined) st.levelAtLeak = undefined;
      if (st.suspectedAt !== undefined) {
        st.clearSince ??= now;
        if (now - st.clearSince >= d.clear_after * 1000) {
          st.suspectedAt = undefined;
          st.clearSince = undefined;
          st.levelAtLeak = undefined;
        }
      }
    }
    states.set(key, st);
    return st;
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
        states.clear();
        return;
      }
      const now = sample.timestamp;
      const judged = judge(sample, now);
      const keyOf = (j: { kind: string; subject: string; resource: string }) => `${j.kind}|${j.subject}|${j.resource}`;
      const present = new Set<string>();
      const suspectNow: Array<{ j: Judged; st: SubjectState }> = [];
      for (const j of judged) {
        const key = keyOf(j);
        present.add(key);
        const st = step(key, j.verdict.leak, j, now);
        if (st.suspectedAt !== undefined) suspectNow.push({ j, st });
      }
      // A subject no longer present (its process exited, its pool gone) has nothing left to suspect.
      for (const key of [...states.keys()]) if (!present.has(key)) states.delete(key);

      // One leak, one suspect: a group whose growth a suspected member process explains is that process's leak.
      const processSuspects = suspectNow.filter((s) => s.j.kind === 'process');
      const covered = (s: { j: Judged; st: SubjectState }) =>
        s.j.kind === 'process_group' && s.st.last?.shape === 'growing' &&
        processSuspects.some((p) => p.j.alertLabels.group === s.j.subject && p.j.resource === s.j.resource && (p.st.last?.slopePerSecond ?? 0) >= 0.5 * (s.st.last?.slopePerSecond ?? Infinity));
      const chosen = suspectNow.filter((s) => !covered(s)).sort((a, b) => (b.st.last?.confidence ?? 0) - (a.st.last?.confidence ?? 0)).slice(0, MAX_SUSPECTS);
      const suspectKeys = new Set(chosen.map((s) => keyOf(s.j)));
      const candidates = judged
        .filter((j) => !suspectKeys.has(keyOf(j)) && j.verdict.slopePerSecond > 0)
        .sort((a, b) => b.verdict.confidence - a.verdict.confidence)
        .slice(0, d.max_exported);
      for (const { j, st } of chosen) exportSubject(sink, j, 1, st.last?.slopePerSecond ?? j.verdict.slopePerSecond, st.last?.confidence ?? j.verdict.confidence);
      for (const j of candidates) exportSubject(sink, j, 0, j.verdict.slopePerSecond, j.verdict.confidence);
      // Groups under suspicion, themselves or through a member: the rule on a group's memory headroom defers to it.
      const groups = new Set(suspectNow.filter((s) => s.j.kind !== 'host').map((s) => (s.j.kind === 'process' ? s.j.alertLabels.group : s.j.subject) ?? ''));
      for (const group of groups) sink.set('contention_process_group_leak_suspected', { group }, 1);
      exhaustion(sample, sink, now);
      exhausting.sort((a, b) => a.seconds - b.seconds);

      suspects = chosen.map(({ j, st }) => ({ ...j, ...(st.last ? { suspected: st.last } : {}) }));
      const next = new Map<string, Alert>();
      if (raiseAlerts) {
        for (const { j, st } of chosen) {
          const alert = leakAlert(j, st, now);
          const key = labelsKey(alert.labels);
          // The first sighting's alert stays: its start time is when the leak was first confirmed.
          next.set(key, active.get(key) ?? alert);
        }
      }
      active = next;
      suspectedProcesses = new Set(chosen.filter((s) => s.j.kind === 'process').map((s) => `${s.j.alertLabels.pid}:${s.j.alertLabels.start ?? ''}`));
    },
  };

  return {
    judging(now) {
      // Every host has this series from its first sample: how far back it reaches is how long the agent has watched.
      const first = history.select('contention_memory_available_bytes', now - d.window * 1000, now)[0]?.points[0]?.t;
      return { historySeconds: first === undefined ? 0 : Math.max(0, (now - first) / 1000), neededSeconds: d.min_window };
    },
    stage,
    alerts: () => [...active.values()],
    suspects: () => suspects,
    exhaustion: () => exhausting,
    watchedProcesses: (rows) => {
      // An indexed loop, not filter and spreads: it runs over every row of every sample.
      const watched = new Set<ProcessRow>();
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        if (r.criteria.length > 0 || (suspectedProcesses.size > 0 && suspectedProcesses.has(processKey(r)))) watched.add(r);
      }
      for (const r of topBy(rows, 'privateBytes', d.watched_processes)) watched.add(r);
      return watched;
    },
    state: () => Object.fromEntries(states),
    reconfigure({ config: next, ruleGroups }) {
      d = next.detection;
      trendOptions = { minConfidence: d.min_confidence, minDailyGrowth: d.min_daily_growth };
      raiseAlerts = !rulesAlertOnLeaks(ruleGroups);
    },
    stop() {},
  };
}

function exportSubject(sink: Sink, j: Judged, suspected: 0 | 1, slope: number, confidence: number): void {
  const labels = { subject_kind: j.kind, subject: j.subject, resource: j.resource };
  sink.set('contention_leak_suspected', labels, suspected);
  sink.set(j.unit === 'bytes' ? 'contention_growth_bytes_per_second' : 'contention_growth_per_second', labels, slope);
  sink.set('contention_trend_confidence', labels, confidence);
}

/** The least value over the last `ms` of a series. */
function floorOver(t: ArrayLike<number>, v: ArrayLike<number>, ms: number): number {
  const end = t[t.length - 1]!;
  let floor = Infinity;
  for (let i = t.length - 1; i >= 0 && t[i]! >= end - ms; i--) floor = Math.min(floor, v[i]!);
  return floor;
}

function lastValue(history: History, name: string, match: Labels): number | undefined {
  const s = history.selectFloors(name, 0, Infinity).find((x) => Object.entries(match).every(([k, v]) => x.labels[k] === v));
  return s && s.v.length > 0 ? s.v[s.v.length - 1] : undefined;
}

/**
 * The alert a suspect raises. Its labels are those the shipped LeakSuspected rule gives the same
 * suspect (the metric's labels, severity, alertname; delivery adds the instance), so a receiver that
 * hears both deduplicates them; what else is known goes in the annotations.
 */
export function leakAlert(j: Subject, st: SubjectState, now: number): Alert {
  const last = st.last ?? { shape: 'growing', slopePerSecond: 0, confidence: 0, scaleSeconds: 0 };
  const perHour = last.slopePerSecond * 3600;
  const rate = j.unit === 'bytes' ? `${formatBytes(perHour)}/h` : `${perHour.toFixed(1)}/h`;
  const what = j.kind === 'process' ? 'process' : j.kind === 'process_group' ? 'process group' : 'host';
  const masked = last.shape === 'masked_by_restarts' || last.shape === 'masked_by_reboots';
  const lives = last.shape === 'masked_by_reboots' ? 'boot' : 'life';
  const summary = masked
    ? `${what} ${j.subject} leaks ${j.resource}: +${rate} each ${lives}, ${last.shape.replace(/_/g, ' ')}`
    : `${what} ${j.subject} leaks ${j.resource}: +${rate}`;
  const exhaust = last.secondsToExhaustion !== undefined ? ` At this rate it exhausts what is left in ${formatDuration(last.secondsToExhaustion)}.` : '';
  const description = masked
    ? `Each ${lives} of ${what} ${j.subject} climbs at ${rate} (${(last.restartsPerHour ?? 0).toFixed(1)} restarts an hour) and falls back only when the next begins: a leak the ${last.shape === 'masked_by_reboots' ? 'reboots' : 'restarts'} hide. Capture evidence late in a ${lives}, before the next restart.`
    : `The floor of ${j.resource} of ${what} ${j.subject} grew steadily at ${rate} over the last ${formatDuration(last.scaleSeconds)} (confidence ${(last.confidence * 100).toFixed(1)}%) and did not come back.${exhaust} Capture evidence before restarting anything: a reboot only hides a leak.`;
  return {
    labels: { alertname: 'LeakSuspected', severity: 'warning', subject_kind: j.kind, subject: j.subject, resource: j.resource },
    annotations: { summary, description, runbook_url: 'docs/runbooks/LeakSuspected.md', shape: last.shape },
    activeAt: st.suspectedAt ?? now,
    state: 'firing',
    source: 'detector',
  };
}

function formatDuration(seconds: number): string {
  if (seconds >= 2 * 86_400) return `${(seconds / 86_400).toFixed(1)} days`;
  if (seconds >= 5400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.max(1, Math.round(seconds / 60))} min`;
}
