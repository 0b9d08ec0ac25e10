import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/schema.js';
import type { StoredSeries, SeriesSource } from '../history/source.js';
import type { Stage } from '../metrics/sample.js';
import type { Part, Settings } from '../part.js';
import type { EvalData, Labels } from '../promql/evaluate.js';
import { latestAtOrBefore } from './times.js';
import { emptyRulesState, evaluateRules, type RulesState } from './engine.js';
import type { RuleGroup } from './load.js';

export interface Rules extends Part {
  /** Pending and firing alerts of the latest evaluation; delivery resolves those no longer offered. */
  alerts(): readonly Alert[];
  /** What evaluation remembers between samples. */
  state(): RulesState;
}

export interface RulesOptions {
  /** The labels Prometheus would attach from its scrape config; the rules match on them. */
  readonly target: { readonly job: string; readonly instance: string };
  readonly log?: Logger;
}

/** The scrape target labels the agent's config gives the local evaluation. */
export const targetOf = (config: Config): RulesOptions['target'] => ({ job: config.rules.job, instance: config.rules.instance });

/**
 * The local rule evaluation: each sample it evaluates the loaded groups on the agent's history (which
 * the pipeline's history stage has recorded this sample into), as a Prometheus scraping the agent
 * would, and exports each alert rule's state. Without groups (rules.enabled off) it evaluates nothing.
 * A reload keeps the state, so pending and firing alerts carry on.
 */
export function createRules(groupsAtStart: readonly RuleGroup[] | undefined, history: Pick<SeriesSource, 'select'>, opts: RulesOptions): Rules {
  let groups = groupsAtStart ?? [];
  let target = opts.target;
  let state = emptyRulesState();
  let alerts: readonly Alert[] = [];
  let failures = new Map<string, { group: string; rule: string; count: number }>();
  const loggedErrors = new Map<string, string>();
  const countFailures = (): void => {
    const next = new Map<string, { group: string; rule: string; count: number }>();
    for (const g of groups) for (const r of g.rules) {
      const key = `${g.name}\u0000${r.name}`;
      next.set(key, failures.get(key) ?? { group: g.name, rule: r.name, count: 0 });
    }
    failures = next;
  };
  countFailures();

  const stage: Stage = {
    name: 'rules',
    run(sample, sink) {
      if (groups.length === 0) {
        alerts = [];
        return;
      }
      const now = sample.timestamp;
      const outcome = evaluateRules(groups, state, historyData(history, target, [...state.evalTimes, now], now), now);
      state = outcome.state;
      alerts = outcome.alerts;
      for (const f of outcome.failures) {
        const entry = failures.get(`${f.group}\u0000${f.rule}`);
        if (entry) entry.count++;
        const key = `${f.group}\u0000${f.rule}`;
        // Once per distinct error, not every sample.
        if (loggedErrors.get(key) !== f.error) opts.log?.warn({ group: f.group, rule: f.rule, err: f.error }, 'rule evaluation failed');
        loggedErrors.set(key, f.error);
      }
      for (const r of outcome.rules) {
        sink.set('contention_alert_state', { alertname: r.alertname, severity: r.severity }, r.state);
        sink.set('contention_alerts_firing', { alertname: r.alertname, severity: r.severity }, r.firing);
      }
      for (const f of failures.values()) sink.set('contention_rule_evaluation_failures_total', { rule_group: f.group, rule: f.rule }, f.count);
    },
  };

  return {
    stage,
    alerts: () => alerts,
    state: () => state,
    reconfigure(next: Settings) {
      groups = next.ruleGroups ?? [];
      // Turned off, it forgets; turned on again, it starts afresh, as a new Prometheus would.
      if (groups.length === 0) state = emptyRulesState();
      target = targetOf(next.config);
      countFailures();
    },
    stop() {},
  };
}

/**
 * The history as a Prometheus scraping the agent would hold it: every series carries the target's
 * job and instance (a series' own job or instance label moves to exported_job/exported_instance, as
 * without honor_labels), and `up` is 1, because the agent evaluating is the agent answering.
 * `sampleTimes` are the samples taken within reach of a selector, up to `now`.
 */
export function historyData(history: Pick<SeriesSource, 'select'>, target: RulesOptions['target'], sampleTimes: readonly number[], now: number): EvalData {
  const withTarget = (labels: Labels): Labels => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) out[k === 'job' || k === 'instance' ? `exported_${k}` : k] = v;
    out.job = target.job;
    out.instance = target.instance;
    return out;
  };
  return {
    select(name, start, end): StoredSeries[] {
      if (name === 'up') return start <= now && now <= end ? [{ name, labels: { job: target.job, instance: target.instance }, points: [{ t: now, v: 1 }] }] : [];
      return history.select(name, start, end).map((s) => ({ ...s, labels: withTarget(s.labels) }));
    },
    // Every sample records every series it has: one missing from a later sample has ended (Prometheus
    // writes a stale marker for it at that scrape).
    stale: (_series, pointT, t) => (latestAtOrBefore(sampleTimes, t) ?? -Infinity) > pointT,
  };
}

