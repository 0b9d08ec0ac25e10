import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { CaptureRecord } from '../capture/capture.js';
import type { CaptureRequestWithHistory } from '../capture/captures.js';
import type { Config } from '../config/schema.js';
import type { Point, SeriesSource } from '../history/source.js';
import type { LabelsOf } from '../metrics/catalog.js';
import { labelsKey } from '../metrics/labels.js';
import { valueOf, type Sample, type Sink, type Stage } from '../metrics/sample.js';
import type { Part } from '../part.js';
import { processKey } from '../process/table.js';
import { formatBytes } from '../text/bytes.js';
import { auditLine, openAuditLog, type AuditEntry, type AuditLog } from './audit.js';
import { startCalendar, type Calendar } from './calendar.js';
import { compileSafetyRules, decide, emptyState, type Decision, type LimitOutcome, type PolicyState, type Violation } from './decide.js';
import { captureEvidence } from './evidence.js';
import { createStopBudgetStore } from './stop-budget.js';
import type { ProcessControl } from './process-control.js';

export interface PolicyEngine extends Part {
  /** Runs after the collectors on each sample: decides, acts, exports. */
  readonly stage: Stage;
  /** Limits exceeded now, each saying what was done about it, and whether stops are held back. */
  alerts(): readonly Alert[];
  /** The most recent decisions, newest first, for the page. */
  recentActions(): readonly AuditEntry[];
  activePolicy(): string | undefined;
  /** Audits a process dump the agent took outside a stop (a first leak flag), as stops are audited. */
  recordCapture(record: CaptureRecord): void;
  /** Undoes priority and weight changes, stops the calendar, waits for stops in flight. */
  stop(): Promise<void>;
}

export interface PolicyEngineOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly control: ProcessControl;
  /** Where the evidence finds the recent history of the measure that tripped. */
  readonly history?: SeriesSource;
  /** Told of every recorded decision after its audit line (the Windows event log listens here). */
  readonly onRecord?: (entry: AuditEntry) => void;
  /** Takes a process dump into a stop's evidence directory before the stop (capture.before_stop). */
  readonly capture?: (req: CaptureRequestWithHistory) => Promise<CaptureRecord>;
}

const RECENT = 50;
/** History series the detector keeps per watched process, by measure. */
const HISTORY_SERIES: Record<string, string | undefined> = { committed_memory: 'process:private_bytes', handles: 'process:handles' };

/**
 * The enforcement edge around the pure decision core: keeps the state between samples and across
 * reloads, runs the calendar, writes the audit log and evidence, and takes the OS actions through a
 * ProcessControl. Stops run in the background so a grace period never holds up sampling.
 */
export function createPolicyEngine(opts: PolicyEngineOptions): PolicyEngine {
  const { log, control } = opts;
  let config = opts.config;
  let rules = compileSafetyRules(config.enforcement, config.criteria);
  let active = config.active_policy;
  // The stop budget of the last hour survives a restart: read back from the state directory.
  const budgetStore = createStopBudgetStore(config.enforcement.state_dir ?? config.paths.state_dir, (err) => log.error({ err: err.message }, 'policy stop budget state could not be read or written'));
  let state: PolicyState = { ...emptyState(), stops: budgetStore.load(Date.now()) };
  let audit: AuditLog = openAuditLog(auditOptions(config));
  let calendar: Calendar | undefined;
  let alerts: Alert[] = [];
  const recent: AuditEntry[] = [];
  const inFlight = new Set<Promise<void>>();
  const actions = new Map<string, { labels: LabelsOf<'contention_policy_actions_total'>; n: number }>();
  const violations = new Map<string, { labels: LabelsOf<'contention_policy_violations_total'>; n: number }>();
  let auditFailures = 0;
  // A sample already under way when the agent shuts down must not lower what stop() just restored.
  let stopped = false;

  const count = <L extends Record<string, string>>(m: Map<string, { labels: L; n: number }>, labels: L): void => {
    const key = labelsKey(labels);
    const entry = m.get(key) ?? { labels, n: 0 };
    entry.n++;
    m.set(key, entry);
  };

  const startCalendarFor = (c: Config): void => {
    calendar?.stop();
    calendar = c.calendar.length === 0 ? undefined : startCalendar(c.calendar, (policy, cron) => {
      if (policy === active) return;
      log.info({ from: active ?? '(none)', to: policy, cron }, 'calendar switched the active policy');
      record({ kind: 'activate', time: Date.now(), policy, cron, from: active ?? null });
      active = policy;
    });
  };
  startCalendarFor(config);

  /** Writes one audit line (fsynced) and keeps the entry for the page. */
  const record = (entry: AuditEntry): void => {
    try {
      audit.write(auditLine(entry));
    } catch (err) {
      auditFailures++;
      log.error({ err: (err as Error).message, entry: auditLine(entry) }, 'policy audit log write failed');
    }
    recent.unshift(entry);
    recent.length = Math.min(recent.length, RECENT);
    opts.onRecord?.(entry);
  };

  /** Counts and records an action's outcome. */
  const outcome = (entry: Exclude<AuditEntry, { kind: 'activate' }>): void => {
    count(actions, { policy: entry.policy, criteria: entry.criteria, action: entry.action, outcome: entry.outcome });
    record(entry);
  };
  const common = (policy: string, criteria: string, result: string, now: number) => ({ time: now, policy, criteria, outcome: result, dryRun: config.enforcement.dry_run });

  const historyOf = (v: Violation, now: number): Point[] => {
    const name = HISTORY_SERIES[v.measure];
    if (!name || !opts.history) return [];
    const from = now - config.enforcement.evidence_history * 1000;
    const series = opts.history.select(name, from, now).find((s) => s.labels.pid === String(v.subject.pid) && s.labels.start === String(v.subject.startTime));
    return [...(series?.points ?? [])];
  };

  const stopProcess = async (v: Violation, now: number): Promise<void> => {
    const e = config.enforcement;
    let evidence: string | undefined;
    try {
      evidence = captureEvidence({ dir: e.evidence_dir, procfs: config.paths.procfs, keep: e.max_evidence }, v, historyOf(v, now), now);
    } catch (err) {
      log.error({ err: (err as Error).message, pid: v.subject.pid }, 'policy evidence capture failed; stopping anyway');
    }
    if (evidence && opts.capture && config.capture.before_stop) {
      // The dump goes first: once stopped, the process's memory (the leak itself) is gone.
      const dump = await opts.capture({
        target: { pid: v.subject.pid, startTime: v.subject.startTime }, name: v.subject.name, trigger: 'before_stop', criteria: v.criteria, dir: evidence,
        ...(v.measure === 'committed_memory' ? { known: { privateBytes: v.value } } : {}),
        tripping: { measure: v.measure, limit: v.limit, points: historyOf(v, now) },
      });
      outcome({ kind: 'capture', ...common(v.policy, v.criteria, dump.outcome, Date.now()), action: 'capture', capture: dump });
    }
    log.warn({ policy: v.policy, criteria: v.criteria, pid: v.subject.pid, process: v.subject.name, measure: v.measure, value: v.value, limit: v.limit, evidence }, 'policy stopping a process');
    // The intent is on disk (fsynced) before the first signal: a crash during the grace period
    // must not lose the record of a signal already sent. The outcome line follows the stop.
    record({ kind: 'limit', ...common(v.policy, v.criteria, 'stopping', Date.now()), action: 'stop', violation: v, evidence, graceSeconds: e.stop_grace });
    const result = await control.terminate(v.subject, e.stop_grace * 1000);
    const level = result === 'stopped' || result === 'killed' ? 'warn' : 'error';
    log[level]({ policy: v.policy, criteria: v.criteria, pid: v.subject.pid, process: v.subject.name, outcome: result }, 'policy stop finished');
    outcome({ kind: 'limit', ...common(v.policy, v.criteria, result, Date.now()), action: 'stop', violation: v, evidence, graceSeconds: e.stop_grace });
  };

  const track = (work: Promise<void>): void => {
    const p = work.catch((err: Error) => log.error({ err: err.message }, 'policy action failed')).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const handleLimit = (d: Extract<Decision, { kind: 'limit' }>, now: number): void => {
    const v = d.violation;
    const where = { policy: v.policy, criteria: v.criteria, pid: v.subject.pid, process: v.subject.name, measure: v.measure, value: v.value, limit: v.limit };
    const limitEntry = (result: string, at: number, extra: { reason?: string; cgroup?: string } = {}) =>
      outcome({ kind: 'limit', ...common(v.policy, v.criteria, result, at), action: v.action, violation: v, ...extra });
    if (d.verdict === 'refused' || d.verdict === 'rate_limited') {
      log.warn({ ...where, action: v.action, reason: d.reason }, `policy ${v.action} refused`);
      limitEntry(d.verdict, now, { reason: d.reason });
    } else if (d.verdict === 'dry_run') {
      log.warn({ ...where, action: v.action }, `dry run: policy would ${v.action} this process`);
      limitEntry('dry_run', now);
    } else if (v.action === 'log') {
      log.warn(where, 'policy limit exceeded');
      limitEntry('logged', now);
    } else if (v.action === 'stop') {
      track(stopProcess(v, now));
    } else {
      const cgroup = config.policies.find((p) => p.name === v.policy)?.allocations.find((a) => a.criteria === v.criteria)?.cgroup;
      track(
        control.trim(v.subject, v.limit, cgroup).then((result) => {
          log.warn({ ...where, cgroup, outcome: result }, 'policy trimmed a working set');
          limitEntry(result, Date.now(), { cgroup });
        }),
      );
    }
  };

  /** Remembers in the policy state what to give back once a change took. */
  const remember = (change: { lowered?: [string, number]; weighted?: [string, number] }): void => {
    if (change.lowered) {
      const [key, originalNice] = change.lowered;
      const entry = state.lowered.get(key);
      if (entry) state = { ...state, lowered: new Map(state.lowered).set(key, { ...entry, originalNice }) };
    }
    if (change.weighted) {
      const [cgroup, originalWeight] = change.weighted;
      const entry = state.weighted.get(cgroup);
      if (entry) state = { ...state, weighted: new Map(state.weighted).set(cgroup, { ...entry, originalWeight }) };
    }
  };

  const handleCpu = (d: Exclude<Decision, { kind: 'limit' }>, now: number): void => {
    const cpu = d.cpu === undefined ? null : Math.round(d.cpu * 1000) / 1000;
    const dry = config.enforcement.dry_run;
    if (d.kind === 'lower_priority') {
      const original = control.priority(d.subject);
      let result: string = original === undefined ? 'gone' : dry ? 'dry_run' : 'set';
      const nice = Math.max(original ?? 0, d.nice);
      if (original !== undefined && !dry) {
        result = control.setPriority(d.subject, nice);
        if (result === 'set') remember({ lowered: [processKey(d.subject), original] });
      }
      log.info({ policy: d.policy, criteria: d.criteria, pid: d.subject.pid, process: d.subject.name, nice, was: original, cpu, outcome: result }, 'policy lowered a priority under CPU contention');
      outcome({ kind: 'priority', ...common(d.policy, d.criteria, result, now), action: d.kind, subject: d.subject, nice, originalNice: original, cpu });
    } else if (d.kind === 'restore_priority') {
      const original = d.originalNice;
      if (original === undefined) return; // never changed (dry run, or it was gone)
      const result = control.setPriority(d.subject, original);
      log.info({ policy: d.policy, criteria: d.criteria, pid: d.subject.pid, process: d.subject.name, nice: original, cpu, outcome: result }, 'policy restored a priority');
      outcome({ kind: 'priority', ...common(d.policy, d.criteria, result === 'set' ? 'restored' : result, now), action: d.kind, subject: d.subject, nice: original, cpu });
    } else if (d.kind === 'set_cpu_weight') {
      const original = control.cpuWeight(d.cgroup);
      let result = dry ? 'dry_run' : 'failed';
      if (!dry && original !== undefined && control.setCpuWeight(d.cgroup, d.weight)) {
        remember({ weighted: [d.cgroup, original] });
        result = 'set';
      }
      log.info({ policy: d.policy, criteria: d.criteria, cgroup: d.cgroup, weight: d.weight, was: original, cpu, outcome: result }, 'policy set a cgroup cpu.weight under CPU contention');
      outcome({ kind: 'cpu_weight', ...common(d.policy, d.criteria, result, now), action: d.kind, cgroup: d.cgroup, weight: d.weight, originalWeight: original, cpu });
    } else {
      const original = d.originalWeight;
      if (original === undefined) return;
      const result = control.setCpuWeight(d.cgroup, original) ? 'restored' : 'failed';
      log.info({ policy: d.policy, criteria: d.criteria, cgroup: d.cgroup, weight: original, cpu, outcome: result }, 'policy restored a cgroup cpu.weight');
      outcome({ kind: 'cpu_weight', ...common(d.policy, d.criteria, result, now), action: d.kind, cgroup: d.cgroup, weight: original, cpu });
    }
  };

  const exportMetrics = (sink: Sink, out: ReturnType<typeof decide> | undefined): void => {
    for (const p of config.policies) sink.set('contention_policy_active', { policy: p.name }, p.name === active ? 1 : 0);
    for (const { labels, n } of actions.values()) sink.set('contention_policy_actions_total', labels, n);
    for (const { labels, n } of violations.values()) sink.set('contention_policy_violations_total', labels, n);
    sink.set('contention_policy_audit_write_failures_total', {}, auditFailures);
    const policy = config.policies.find((p) => p.name === active);
    if (!policy || !out) return;
    sink.set('contention_policy_cpu_contended', {}, out.contended ? 1 : 0);
    let claimed = 0;
    for (const a of policy.allocations) {
      if (a.cpu_percent === undefined) continue;
      claimed += a.cpu_percent / 100;
      const labels = { policy: policy.name, criteria: a.criteria };
      sink.set('contention_policy_cpu_share_ratio', labels, a.cpu_percent / 100);
      const used = out.cpuUse.find((u) => u.criteria === a.criteria);
      if (used) sink.set('contention_policy_cpu_used_ratio', labels, used.used);
      sink.set('contention_policy_deprioritized_processes', labels, [...state.lowered.values()].filter((l) => l.policy === policy.name && l.criteria === a.criteria).length);
    }
    if (claimed > 0) sink.set('contention_policy_cpu_share_ratio', { policy: policy.name, criteria: 'residual' }, Math.max(0, 1 - claimed));
  };

  const buildAlerts = (out: ReturnType<typeof decide>): Alert[] => {
    const list: Alert[] = out.violations.map((v) => ({
      labels: { alertname: 'PolicyLimitExceeded', severity: 'warning', policy: v.policy, criteria: v.criteria, measure: v.measure, process: v.subject.name, pid: String(v.subject.pid) },
      annotations: {
        summary: `${v.subject.name} (pid ${v.subject.pid}) ${describe(v.measure, v.value)} is over the limit of ${describe(v.measure, v.limit)} set by policy ${v.policy} for criteria ${v.criteria}: ${noteOf(v.outcome)}`,
        runbook_url: 'docs/runbooks/PolicyLimitExceeded.md',
      },
      activeAt: v.since,
      state: 'firing',
      source: 'policy',
    }));
    const held = out.violations.filter((v) => v.outcome.kind === 'rate_limited');
    for (const policy of new Set(held.map((v) => v.policy))) {
      const pids = held.filter((v) => v.policy === policy).map((v) => v.subject.pid);
      list.push({
        labels: { alertname: 'PolicyStopRateLimited', severity: 'warning', policy },
        annotations: {
          summary: `policy ${policy} holds back stopping pid ${pids.join(', ')}: the stop rate limit is reached; logging and alerting instead`,
          runbook_url: 'docs/runbooks/PolicyStopRateLimited.md',
        },
        activeAt: Math.min(...held.filter((v) => v.policy === policy).map((v) => v.since)),
        state: 'firing',
        source: 'policy',
      });
    }
    return list;
  };

  const stage: Stage = {
    name: 'policy',
    run(sample: Sample, sink: Sink) {
      const rows = sample.facts.processes?.rows;
      if (!rows || stopped) {
        exportMetrics(sink, undefined);
        return;
      }
      const now = sample.timestamp;
      const out = decide(
        {
          now,
          rows,
          cpuUtilization: sample.facts.cpuUtilization,
          cpus: valueOf(sample, 'contention_cpus'),
          policy: config.policies.find((p) => p.name === active),
          rules,
        },
        state,
      );
      state = out.state;
      budgetStore.save(state.stops);
      for (const v of out.confirmed) count(violations, { policy: v.policy, criteria: v.criteria, measure: v.measure });
      for (const d of out.decisions) {
        if (d.kind === 'limit') handleLimit(d, now);
        else handleCpu(d, now);
      }
      alerts = buildAlerts(out);
      exportMetrics(sink, out);
    },
  };

  return {
    stage,
    reconfigure({ config: next }) {
      const previous = config;
      config = next;
      rules = compileSafetyRules(next.enforcement, next.criteria);
      const names = new Set(next.policies.map((p) => p.name));
      // A changed active_policy wins; otherwise the calendar's choice stands while the policy exists.
      if (next.active_policy !== previous.active_policy || (active !== undefined && !names.has(active))) {
        if (active !== next.active_policy) log.info({ from: active ?? '(none)', to: next.active_policy ?? '(none)' }, 'reload changed the active policy');
        active = next.active_policy;
      }
      const a = auditOptions(next);
      const b = auditOptions(previous);
      if (a.path !== b.path || a.maxBytes !== b.maxBytes || a.keep !== b.keep) {
        audit.close();
        audit = openAuditLog(a);
      }
      startCalendarFor(next);
    },
    alerts: () => alerts,
    recentActions: () => recent,
    activePolicy: () => active,
    recordCapture(record) {
      outcome({ kind: 'capture', time: record.time, policy: '', criteria: record.criteria ?? '', outcome: record.outcome, dryRun: false, action: 'capture', capture: record });
    },
    async stop() {
      stopped = true;
      calendar?.stop();
      calendar = undefined;
      await Promise.all([...inFlight]);
      const now = Date.now();
      for (const entry of state.lowered.values()) {
        const original = entry.originalNice;
        if (original === undefined) continue;
        const result = control.setPriority(entry.subject, original);
        outcome({ kind: 'priority', ...common(entry.policy, entry.criteria, result === 'set' ? 'restored' : result, now), action: 'restore_priority', subject: entry.subject, nice: original, shutdown: true });
      }
      for (const [cgroup, entry] of state.weighted) {
        const original = entry.originalWeight;
        if (original === undefined) continue;
        const result = control.setCpuWeight(cgroup, original) ? 'restored' : 'failed';
        outcome({ kind: 'cpu_weight', ...common(entry.policy, entry.criteria, result, now), action: 'restore_cpu_weight', cgroup, weight: original, shutdown: true });
      }
      state = { ...state, lowered: new Map(), weighted: new Map() };
      audit.close();
    },
  };
}

function auditOptions(config: Config) {
  const a = config.enforcement.audit_log;
  return { path: a.path, maxBytes: a.max_bytes, keep: a.keep };
}

/** What became of a violation, in the words its alert uses. */
export function noteOf(o: LimitOutcome): string {
  switch (o.kind) {
    case 'logged':
      return 'logged (action log)';
    case 'acted':
      return o.action === 'stop' ? 'stopping' : 'trimmed to the limit through memory.high';
    case 'dry_run':
      return `dry run: would ${o.action}`;
    case 'refused':
      return `not ${o.action === 'stop' ? 'stopped' : 'trimmed'}: ${o.reason}`;
    case 'rate_limited':
      return `not stopped: ${o.reason}`;
  }
}

function describe(measure: string, value: number): string {
  if (measure === 'handles') return `${value} open handles`;
  return `${formatBytes(value)} ${measure === 'working_set' ? 'working set' : 'committed memory'}`;
}
