import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { History } from '../history/history.js';
import type { StoredSeries } from '../history/source.js';
import type { MetricName } from '../metrics/catalog.js';
import type { Sample, SeriesValue } from '../metrics/sample.js';
import type { EvalData, Labels } from '../promql/evaluate.js';
import type { Stage } from '../sampler/sampler.js';
import { latestAtOrBefore } from './times.js';
import { emptyRulesState, evaluateRules, type RulesState } from './engine.js';
import type { RuleGroup } from './load.js';

export interface RulesStage extends Stage {
  /** Pending and firing alerts of the latest evaluation, and those that resolved in it. */
  alerts(): readonly Alert[];
  /** What a reload hands to the next stage so pending and firing alerts carry on. */
  state(): RulesState;
}

export interface RulesStageOptions {
  /** The labels Prometheus would attach from its scrape config; the rules match on them. */
  readonly target: { readonly job: string; readonly instance: string };
  readonly intervalSeconds: number;
  /** The retired stage's state when a reload replaces it. */
  readonly carried?: RulesState;
  readonly log?: Logger;
}

/**
 * The local rule evaluation stage: each sample it evaluates the loaded groups on the agent's history,
 * as a Prometheus scraping the agent would, and exports each alert rule's state.
 */
export function createRulesStage(groups: readonly RuleGroup[], history: History, opts: RulesStageOptions): RulesStage {
  let state = opts.carried ?? emptyRulesState();
  let alerts: readonly Alert[] = [];
  const failures = new Map<string, { group: string; rule: string; count: number }>();
  for (const g of groups) for (const r of g.rules) failures.set(`${g.name}\u0000${r.name}`, { group: g.name, rule: r.name, count: 0 });
  const loggedErrors = new Map<string, string>();

  return {
    name: 'rules',
    run(sample, sink) {
      const now = sample.timestamp;
      // Collectors and earlier stages wrote this sample already; health series come after all stages,
      // so record them here as the sampler will, or every rule on them would see a stale series.
      history.record(sample);
      history.record(healthOf(sample, opts.intervalSeconds));
      const outcome = evaluateRules(groups, state, historyData(history, opts.target, [...state.evalTimes, now], now), now);
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
    alerts: () => alerts,
    state: () => state,
  };
}

/** The health series the sampler adds after its stages, for what has run so far in this sample. */
function healthOf(sample: Sample, intervalSeconds: number): Sample {
  const families = new Map<MetricName, SeriesValue[]>([
    ['contention_collector_success', sample.collectors.map((c) => ({ labels: { collector: c.name }, value: c.success ? 1 : 0 }))],
    ['contention_last_sample_timestamp_seconds', [{ labels: {}, value: sample.timestamp / 1000 }]],
    ['contention_sample_interval_seconds', [{ labels: {}, value: intervalSeconds }]],
  ]);
  return { timestamp: sample.timestamp, families, collectors: sample.collectors, facts: {} };
}

/**
 * The history as a Prometheus scraping the agent would hold it: every series carries the target's
 * job and instance (a series' own job or instance label moves to exported_job/exported_instance, as
 * without honor_labels), and `up` is 1, because the agent evaluating is the agent answering.
 * `sampleTimes` are the samples taken within reach of a selector, up to `now`.
 */
export function historyData(history: Pick<History, 'select'>, target: RulesStageOptions['target'], sampleTimes: readonly number[], now: number): EvalData {
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

