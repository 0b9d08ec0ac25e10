import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/schema.js';
import type { Point, SeriesSource } from '../history/source.js';
import type { PolicyActionView } from '../http/state.js';
import type { LabelsOf } from '../metrics/catalog.js';
import { valueOf, type Sample, type Sink } from '../metrics/sample.js';
import { processKey } from '../process/table.js';
import type { Stage } from '../sampler/sampler.js';
import { formatBytes } from '../text/bytes.js';
import { openAuditLog, type AuditLog } from './audit.js';
import { startCalendar, type Calendar } from './calendar.js';
import { compileSafetyRules, decide, emptyState, type Decision, type PolicyState, type Subject, type Violation } from './decide.js';
import { captureEvidence } from './evidence.js';
import type { ProcessControl } from './process-control.js';

export interface PolicyEngine {
  /** Runs after the collectors on each sample: decides, acts, exports. */
  readonly stage: Stage;
  /** Takes a reloaded config; what the engine remembers and changed stays. */
  reconfigure(config: Config): void;
  /** Limits exceeded now, each saying what was done about it, and whether stops are held back. */
  alerts(): readonly Alert[];
  /** The most recent decisions, newest first, for the page. */
  recentActions(): readonly PolicyActionView[];
  activePolicy(): string | undefined;
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
  readonly onRecord?: (action: PolicyActionView) => void;
}

type Action = 'log' | 'stop' | 'trim' | 'lower_priority' | 'restore_priority' | 'set_cpu_weight' | 'restore_cpu_weight';

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
  let state: PolicyState = emptyState();
  let audit: AuditLog = openAuditLog(auditOptions(config));
  let calendar: Calendar | undefined;
  let alerts: Alert[] = [];
  const recent: PolicyActionView[] = [];
  const originalNice = new Map<string, number>();
  const originalWeight = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  const actions = new Map<string, { labels: LabelsOf<'contention_policy_actions_total'>; n: number }>();
  const violations = new Map<string, { labels: LabelsOf<'contention_policy_violations_total'>; n: number }>();
  let auditFailures = 0;
  // A sample already under way when the agent shuts down must not lower what stop() just restored.
  let stopped = false;

  const count = <L extends Record<string, string>>(m: Map<string, { labels: L; n: number }>, labels: L): void => {
    const key = JSON.stringify(labels);
    const entry = m.get(key) ?? { labels, n: 0 };
    entry.n++;
    m.set(key, entry);
  };

  const startCalendarFor = (c: Config): void => {
    calendar?.stop();
    calendar = c.calendar.length === 0 ? undefined : startCalendar(c.calendar, (policy, cron) => {
      if (policy === active) return;
      log.info({ from: active ?? '(none)', to: policy, cron }, 'calendar switched the active policy');
      record({ time: Date.now(), policy, criteria: '', action: 'activate', outcome: 'switched', cron, from: active ?? null });
      active = policy;
    });
  };
  startCalendarFor(config);

  /** Writes one audit line (fsynced) and keeps it for the page. */
  const record = (entry: Record<string, unknown> & { time: number; policy: string; criteria: string; action: string; outcome: string }): void => {
    try {
      const { subject: who, ...rest } = entry as typeof entry & { subject?: Subject };
      audit.write({ ...rest, time: new Date(entry.time).toISOString(), ...(who ? { process: who.name, user: who.user } : {}) });
    } catch (err) {
      auditFailures++;
      log.error({ err: (err as Error).message, entry }, 'policy audit log write failed');
    }
    const subject = entry.subject as Subject | undefined;
    const view: PolicyActionView = {
      time: entry.time, policy: entry.policy, criteria: entry.criteria, pid: subject?.pid ?? 0, name: subject?.name ?? String(entry.cgroup ?? ''),
      measure: String(entry.measure ?? 'cpu'), action: entry.action, outcome: entry.outcome,
    };
    recent.unshift(view);
    recent.length = Math.min(recent.length, RECENT);
    opts.onRecord?.(view);
  };

  const outcomeOf = (policy: string, criteria: string, action: Action, outcome: string, fields: Record<string, unknown>, now: number): void => {
    count(actions, { policy, criteria, action, outcome });
    record({ time: now, policy, criteria, action, outcome, dry_run: config.enforcement.dry_run, ...fields });
  };

  const violationFields = (v: Violation) => ({
    subject: v.subject, pid: v.subject.pid, start_time: v.subject.startTime, exe: v.subject.exe,
    measure: v.measure, value: v.value, limit: v.limit, exceeded_since: new Date(v.since).toISOString(),
  });

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
    log.warn({ policy: v.policy, criteria: v.criteria, pid: v.subject.pid, process: v.subject.name, measure: v.measure, value: v.value, limit: v.limit, evidence }, 'policy stopping a process');
    const outcome = await control.terminate(v.subject, e.stop_grace * 1000);
    const level = outcome === 'stopped' || outcome === 'killed' ? 'warn' : 'error';
    log[level]({ policy: v.policy, criteria: v.criteria, pid: v.subject.pid, process: v.subject.name, outcome }, 'policy stop finished');
    outcomeOf(v.policy, v.criteria, 'stop', outcome, { ...violationFields(v), evidence, grace_seconds: e.stop_grace }, Date.now());
  };

  const track = (work: Promise<void>): void => {
    const p = work.catch((err: Error) => log.error({ err: err.message }, 'policy action failed')).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const handleLimit = (d: Extract<Decision, { kind: 'limit' }>, now: number): void => {
    const v = d.violation;
    const where = { policy: v.policy, criteria: v.criteria, pid: v.subject.pid, process: v.subject.name, measure: v.measure, value: v.value, limit: v.limit };
    const fields = violationFields(v);
    if (d.verdict === 'refused' || d.verdict === 'rate_limited') {
      log.warn({ ...where, action: v.action, reason: d.reason }, `policy ${v.action} refused`);
      outcomeOf(v.policy, v.criteria, v.action, d.verdict, { ...fields, reason: d.reason }, now);
    } else if (d.verdict === 'dry_run') {
      log.warn({ ...where, action: v.action }, `dry run: policy would ${v.action} this process`);
      outcomeOf(v.policy, v.criteria, v.action, 'dry_run', fields, now);
    } else if (v.action === 'log') {
      log.warn(where, 'policy limit exceeded');
      outcomeOf(v.policy, v.criteria, 'log', 'logged', fields, now);
    } else if (v.action === 'stop') {
      track(stopProcess(v, now));
    } else {
      const cgroup = config.policies.find((p) => p.name === v.policy)?.allocations.find((a) => a.criteria === v.criteria)?.cgroup;
      track(
        control.trim(v.subject, v.limit, cgroup).then((outcome) => {
          log.warn({ ...where, cgroup, outcome }, 'policy trimmed a working set');
          outcomeOf(v.policy, v.criteria, 'trim', outcome, { ...fields, cgroup }, Date.now());
        }),
      );
    }
  };

  const handleCpu = (d: Exclude<Decision, { kind: 'limit' }>, now: number): void => {
    const cpu = d.cpu === undefined ? null : Math.round(d.cpu * 1000) / 1000;
    const dry = config.enforcement.dry_run;
    if (d.kind === 'lower_priority') {
      const key = processKey(d.subject);
      const original = control.priority(d.subject);
      let outcome: string = original === undefined ? 'gone' : dry ? 'dry_run' : 'set';
      const nice = Math.max(original ?? 0, d.nice);
      if (original !== undefined && !dry) {
        outcome = control.setPriority(d.subject, nice);
        if (outcome === 'set') originalNice.set(key, original);
      }
      log.info({ policy: d.policy, criteria: d.criteria, pid: d.subject.pid, process: d.subject.name, nice, was: original, cpu, outcome }, 'policy lowered a priority under CPU contention');
      outcomeOf(d.policy, d.criteria, d.kind, outcome, { subject: d.subject, pid: d.subject.pid, start_time: d.subject.startTime, exe: d.subject.exe, nice, original_nice: original, cpu_utilization: cpu }, now);
    } else if (d.kind === 'restore_priority') {
      const key = processKey(d.subject);
      const original = originalNice.get(key);
      originalNice.delete(key);
      if (original === undefined) return; // never changed (dry run, or it was gone)
      const outcome = control.setPriority(d.subject, original);
      log.info({ policy: d.policy, criteria: d.criteria, pid: d.subject.pid, process: d.subject.name, nice: original, cpu, outcome }, 'policy restored a priority');
      outcomeOf(d.policy, d.criteria, d.kind, outcome === 'set' ? 'restored' : outcome, { subject: d.subject, pid: d.subject.pid, start_time: d.subject.startTime, exe: d.subject.exe, nice: original, cpu_utilization: cpu }, now);
    } else if (d.kind === 'set_cpu_weight') {
      const original = control.cpuWeight(d.cgroup);
      let outcome = dry ? 'dry_run' : 'failed';
      if (!dry && original !== undefined && control.setCpuWeight(d.cgroup, d.weight)) {
        originalWeight.set(d.cgroup, original);
        outcome = 'set';
      }
      log.info({ policy: d.policy, criteria: d.criteria, cgroup: d.cgroup, weight: d.weight, was: original, cpu, outcome }, 'policy set a cgroup cpu.weight under CPU contention');
      outcomeOf(d.policy, d.criteria, d.kind, outcome, { cgroup: d.cgroup, weight: d.weight, original_weight: original, cpu_utilization: cpu }, now);
    } else {
      const original = originalWeight.get(d.cgroup);
      originalWeight.delete(d.cgroup);
      if (original === undefined) return;
      const outcome = control.setCpuWeight(d.cgroup, original) ? 'restored' : 'failed';
      log.info({ policy: d.policy, criteria: d.criteria, cgroup: d.cgroup, weight: original, cpu, outcome }, 'policy restored a cgroup cpu.weight');
      outcomeOf(d.policy, d.criteria, d.kind, outcome, { cgroup: d.cgroup, weight: original, cpu_utilization: cpu }, now);
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
        summary: `${v.subject.name} (pid ${v.subject.pid}) ${describe(v.measure, v.value)} is over the limit of ${describe(v.measure, v.limit)} set by policy ${v.policy} for criteria ${v.criteria}: ${v.note}`,
        runbook_url: 'docs/runbooks/PolicyLimitExceeded.md',
      },
      activeAt: v.since,
      state: 'firing',
      source: 'policy',
    }));
    const held = out.violations.filter((v) => v.note.includes('rate limit'));
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
    reconfigure(next) {
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
    async stop() {
      stopped = true;
      calendar?.stop();
      calendar = undefined;
      await Promise.all([...inFlight]);
      const now = Date.now();
      for (const [key, entry] of state.lowered) {
        const original = originalNice.get(key);
        if (original === undefined) continue;
        const outcome = control.setPriority(entry.subject, original);
        outcomeOf(entry.policy, entry.criteria, 'restore_priority', outcome === 'set' ? 'restored' : outcome, { subject: entry.subject, pid: entry.subject.pid, nice: original, reason: 'shutdown' }, now);
      }
      for (const [cgroup, entry] of state.weighted) {
        const original = originalWeight.get(cgroup);
        if (original === undefined) continue;
        outcomeOf(entry.policy, entry.criteria, 'restore_cpu_weight', control.setCpuWeight(cgroup, original) ? 'restored' : 'failed', { cgroup, weight: original, reason: 'shutdown' }, now);
      }
      originalNice.clear();
      originalWeight.clear();
      state = { ...state, lowered: new Map(), weighted: new Map() };
      audit.close();
    },
  };
}

function auditOptions(config: Config) {
  const a = config.enforcement.audit_log;
  return { path: a.path, maxBytes: a.max_bytes, keep: a.keep };
}

function describe(measure: string, value: number): string {
  if (measure === 'handles') return `${value} open handles`;
  return `${formatBytes(value)} ${measure === 'working_set' ? 'working set' : 'committed memory'}`;
}
