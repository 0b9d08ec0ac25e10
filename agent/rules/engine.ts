import type { Alert } from '../alerts/alert.js';
import { labelsKey } from '../metrics/labels.js';
import type { Point, StoredSeries } from '../history/source.js';
import { evaluate, LOOKBACK_MS, type EvalData, type Labels } from '../promql/evaluate.js';
import type { Expr } from '../promql/ast.js';
import type { AlertRule, RuleGroup } from './load.js';
import { latestAtOrBefore } from './times.js';

/** One alert of a rule, as Prometheus's rule manager keeps it between evaluations. */
export interface ActiveAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly value: number;
  /** Unix ms when the condition was first seen. */
  readonly activeAt: number;
  readonly state: 'pending' | 'firing';
}

/** What evaluation remembers between samples (and across a reload): each alert rule's alerts and the recorded series. */
export interface RulesState {
  /** By alert name, then by label set. */
  readonly alerts: ReadonlyMap<string, ReadonlyMap<string, ActiveAlert>>;
  /** Series produced by recording rules, by name then label set. */
  readonly recorded: ReadonlyMap<string, ReadonlyMap<string, StoredSeries>>;
  /** Evaluation times still within reach of a selector, oldest first: what a series missing at the latest is stale against. */
  readonly evalTimes: readonly number[];
}

export const emptyRulesState = (): RulesState => ({ alerts: new Map(), recorded: new Map(), evalTimes: [] });

export interface RuleFailure {
  readonly group: string;
  readonly rule: string;
  readonly error: string;
}

export interface RulesOutcome {
  readonly state: RulesState;
  /** Pending and firing alerts (delivery derives the resolved ones from what is no longer here). */
  readonly alerts: readonly Alert[];
  /** Per alert rule: the most advanced state of its alerts (0 inactive, 1 pending, 2 firing) and how many fire. */
  readonly rules: ReadonlyArray<{ alertname: string; severity: string; state: 0 | 1 | 2; firing: number }>;
  readonly failures: readonly RuleFailure[];
}


/** The longest range any rule selects: recorded series must be kept that long. */
function longestRange(groups: readonly RuleGroup[]): number {
  let max = 0;
  const walk = (e: Expr): void => {
    if (e.kind === 'matrix') max = Math.max(max, e.rangeMs);
    else if (e.kind === 'paren') walk(e.expr);
    else if (e.kind === 'call') e.args.forEach(walk);
    else if (e.kind === 'binary') {
      walk(e.lhs);
      walk(e.rhs);
    }
  };
  for (const g of groups) for (const r of g.rules) walk(r.expr);
  return max;
}

/**
 * Evaluates every group at `t` in file order, as Prometheus's rule manager does at one evaluation:
 * recording rules feed later rules at the same time, alert rules run the `for` state machine
 * (pending until the condition held `for`, then firing; resolved when it no longer holds). A rule
 * whose evaluation fails keeps its alerts as they were and is reported.
 */
export function evaluateRules(groups: readonly RuleGroup[], previous: RulesState, base: EvalData, t: number): RulesOutcome {
  const keepMs = Math.max(LOOKBACK_MS, longestRange(groups));
  const evalTimes = [...previous.evalTimes.filter((x) => x >= t - keepMs && x < t), t];
  const recorded = new Map<string, Map<string, StoredSeries>>();
  for (const [name, series] of previous.recorded) {
    const kept = new Map<string, StoredSeries>();
    for (const [key, s] of series) {
      const points = s.points.filter((p) => p.t >= t - keepMs && p.t < t);
      if (points.length > 0) kept.set(key, { ...s, points });
    }
    if (kept.size > 0) recorded.set(name, kept);
  }
  const data: EvalData = {
    select(name, start, end) {
      const own = recorded.get(name);
      if (!own) return base.select(name, start, end);
      const out: StoredSeries[] = [];
      for (const s of own.values()) {
        const points = s.points.filter((p) => p.t >= start && p.t <= end);
        if (points.length > 0) out.push({ ...s, points });
      }
      return out;
    },
    stale(series, pointT, at) {
      // A recorded series is stale once an evaluation went without it, as Prometheus marks it.
      if (recorded.has(series.name)) return (latestAtOrBefore(evalTimes, at) ?? -Infinity) > pointT;
      return base.stale?.(series, pointT, at) ?? false;
    },
  };

  const alerts = new Map<string, ReadonlyMap<string, ActiveAlert>>();
  const out: Alert[] = [];
  const rules: Array<RulesOutcome['rules'][number]> = [];
  const failures: RuleFailure[] = [];

  for (const g of groups) {
    for (const rule of g.rules) {
      if (rule.kind === 'record') {
        try {
          const value = evaluate(rule.expr, data, t);
          const elements = value.type === 'scalar' ? [{ labels: {}, value: value.value }] : value.elements;
          let series = recorded.get(rule.name);
          if (!series) recorded.set(rule.name, (series = new Map()));
          const seen = new Set<string>();
          for (const el of elements) {
            const { __name__: _n, ...rest } = el.labels;
            const labels = { ...rest, ...rule.labels };
            const key = labelsKey(labels);
            if (seen.has(key)) throw new Error('vector contains metrics with the same labelset after applying rule labels');
            seen.add(key);
            const points: Point[] = [...(series.get(key)?.points ?? []), { t, v: el.value }];
            series.set(key, { name: rule.name, labels, points });
          }
        } catch (err) {
          failures.push({ group: g.name, rule: rule.name, error: (err as Error).message });
        }
        continue;
      }
      const before = previous.alerts.get(rule.name) ?? new Map<string, ActiveAlert>();
      const severity = rule.labels.severity?.({ labels: {}, value: 0 }) ?? '';
      let next: Map<string, ActiveAlert>;
      try {
        next = stepAlertRule(rule, before, data, t, out);
      } catch (err) {
        failures.push({ group: g.name, rule: rule.name, error: (err as Error).message });
        next = new Map(before);
        for (const a of next.values()) out.push(toAlert(a));
      }
      alerts.set(rule.name, next);
      const states = [...next.values()];
      const firing = states.filter((a) => a.state === 'firing').length;
      rules.push({ alertname: rule.name, severity, state: firing > 0 ? 2 : states.length > 0 ? 1 : 0, firing });
    }
  }
  return { state: { alerts, recorded, evalTimes }, alerts: out, rules, failures };
}

function stepAlertRule(rule: AlertRule, before: ReadonlyMap<string, ActiveAlert>, data: EvalData, t: number, out: Alert[]): Map<string, ActiveAlert> {
  const value = evaluate(rule.expr, data, t);
  const elements = value.type === 'scalar' ? [{ labels: {}, value: value.value }] : value.elements;
  const next = new Map<string, ActiveAlert>();
  for (const el of elements) {
    const { __name__: _n, ...seriesLabels } = el.labels;
    const tmpl = { labels: el.labels, value: el.value };
    const labels: Record<string, string> = { ...seriesLabels };
    for (const [k, render] of Object.entries(rule.labels)) labels[k] = render(tmpl);
    labels.alertname = rule.name;
    const annotations: Record<string, string> = {};
    for (const [k, render] of Object.entries(rule.annotations)) annotations[k] = render(tmpl);
    const key = labelsKey(labels);
    if (next.has(key)) throw new Error('vector contains metrics with the same labelset after applying alert labels');
    const was = before.get(key);
    const activeAt = was?.activeAt ?? t;
    const state = was?.state === 'firing' || t - activeAt >= rule.forMs ? 'firing' : 'pending';
    next.set(key, { labels, annotations, value: el.value, activeAt, state });
  }
  // An alert no longer here has ended: delivery, which compares with what it sent, says it resolved.
  for (const a of next.values()) out.push(toAlert(a));
  return next;
}

const toAlert = (a: ActiveAlert): Alert => ({ labels: a.labels, annotations: a.annotations, activeAt: a.activeAt, state: a.state, source: 'rules' });
