import { describe, expect, it } from 'vitest';
import { configSchema } from '../../agent/config/schema.js';
import type { History } from '../../agent/history/history.js';
import { createHistoryStage } from '../../agent/history/stage.js';
import type { MetricName } from '../../agent/metrics/catalog.js';
import type { Sample, SeriesValue, Sink } from '../../agent/metrics/sample.js';
import { parseRuleText, type RuleGroup } from '../../agent/rules/load.js';
import { createRules, historyData, type Rules } from '../../agent/rules/stage.js';
import { recordingSink, testHistory } from '../helpers/builders.js';

const RULES = `
groups:
  - name: g
    rules:
      - alert: PtesLow
        expr: contention_kernel_table_free_entries{table="system_ptes"} < 10000
        for: 2m
        labels:
          severity: critical
        annotations:
          summary: "{{ $value }} free on {{ $labels.instance }}"
      - alert: Absent
        expr: absent(up{job="contention-agent"})
        labels:
          severity: warning
      - alert: Ambiguous
        expr: contention_kernel_table_free_entries - on(instance) contention_kernel_table_size_entries
        labels:
          severity: warning
`;
const loaded = parseRuleText(RULES, 'test.yml');
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const groups: RuleGroup[] = loaded.groups;

const history = () => testHistory({ sampleSeconds: 60, maxSeries: 100 });

function sample(minute: number, free: number | undefined): Sample {
  const families = new Map<MetricName, SeriesValue[]>();
  if (free !== undefined) {
    families.set('contention_kernel_table_free_entries', [
      { labels: { table: 'system_ptes' }, value: free },
      { labels: { table: 'pids' }, value: 5 },
    ]);
    families.set('contention_kernel_table_size_entries', [{ labels: { table: 'pids' }, value: 10 }]);
  }
  return { timestamp: Date.UTC(2026, 0, 1) + minute * 60_000, families, collectors: [{ name: 'kernel_tables', status: 'ok', durationSeconds: 0 }], facts: {} };
}

/** One sample through the pipeline's order: the history stage records it, then the rules evaluate. */
function step(rules: Rules, h: History, s: Sample, sink: Sink): void {
  createHistoryStage(h, { watchedProcesses: () => [] }).recordMeasured(s, sink);
  void rules.stage.run(s, sink);
}


const target = { job: 'contention-agent', instance: 'host-1' };

describe('the rules stage', () => {
  it('runs pending → firing → resolved on sampled history and exports each rule state', () => {
    const h = history();
    const stage = createRules(groups, h, { target });
    const states: number[] = [];
    const free = [20000, 9000, 9000, 9000, 9000, 20000];
    free.forEach((f, minute) => {
      const { sink, value } = recordingSink();
      step(stage, h, sample(minute, f), sink);
      states.push(value('contention_alert_state', { alertname: 'PtesLow', severity: 'critical' })!);
      // up is the agent itself: never absent locally.
      expect(value('contention_alert_state', { alertname: 'Absent', severity: 'warning' })).toBe(0);
    });
    // Pending at 1, held 2m at 3, resolved at 5.
    expect(states).toEqual([0, 1, 1, 2, 2, 0]);
  });

  it('labels alerts with the target job and instance, renders annotations, and keeps pending and firing state across a reload', () => {
    const h = history();
    const first = createRules(groups, h, { target });
    for (let m = 0; m < 4; m++) step(first, h, sample(m, 9000), recordingSink().sink);
    const firing = first.alerts().find((a) => a.labels.alertname === 'PtesLow')!;
    expect(firing).toEqual({
      labels: { alertname: 'PtesLow', severity: 'critical', table: 'system_ptes', job: 'contention-agent', instance: 'host-1' },
      annotations: { summary: '9000 free on host-1' },
      activeAt: sample(0, 0).timestamp,
      state: 'firing',
      source: 'rules',
    });
    first.reconfigure({ config: configSchema.parse({ rules: { job: target.job, instance: target.instance } }), ruleGroups: groups });
    step(first, h, sample(4, 9000), recordingSink().sink);
    expect(first.alerts().find((a) => a.labels.alertname === 'PtesLow')).toMatchObject({ state: 'firing', activeAt: firing.activeAt });
    // A fresh evaluation without that state starts over at pending.
    const fresh = createRules(groups, h, { target });
    step(fresh, h, sample(5, 9000), recordingSink().sink);
    expect(fresh.alerts().find((a) => a.labels.alertname === 'PtesLow')).toMatchObject({ state: 'pending' });
  });

  it('ends an alert when its series leaves the sample (stale), and counts rules that fail', () => {
    const h = history();
    const stage = createRules(groups, h, { target });
    for (let m = 0; m < 3; m++) step(stage, h, sample(m, 9000), recordingSink().sink);
    expect(stage.alerts().find((a) => a.labels.alertname === 'PtesLow')?.state).toBe('firing');
    const { sink, value } = recordingSink();
    step(stage, h, sample(3, undefined), sink);
    // No longer offered: delivery, the one place that derives it, sends it as resolved.
    expect(stage.alerts().find((a) => a.labels.alertname === 'PtesLow')).toBeUndefined();
    // Two tables on one instance cannot be matched on(instance) one-to-one: the rule fails each sample it has data.
    expect(value('contention_rule_evaluation_failures_total', { rule_group: 'g', rule: 'Ambiguous' })).toBe(3);
    expect(value('contention_rule_evaluation_failures_total', { rule_group: 'g', rule: 'PtesLow' })).toBe(0);
  });

  it('shows history as Prometheus would hold it: target labels added, own job/instance kept as exported_*', () => {
    const h = history();
    h.record({ timestamp: 60_000, families: new Map([['contention_kernel_table_free_entries', [{ labels: { table: 'x', instance: 'inner' }, value: 1 }]]]), collectors: [], facts: {} } as Sample);
    const d = historyData(h, target, [60_000], 60_000);
    expect(d.select('contention_kernel_table_free_entries', 0, 60_000).map((s) => s.labels)).toEqual([{ table: 'x', exported_instance: 'inner', job: 'contention-agent', instance: 'host-1' }]);
    expect(d.select('up', 0, 60_000)).toEqual([{ name: 'up', labels: target, points: [{ t: 60_000, v: 1 }] }]);
    expect(d.stale!(d.select('contention_kernel_table_free_entries', 0, 60_000)[0]!, 60_000, 120_000)).toBe(false);
    const later = historyData(h, target, [60_000, 120_000], 120_000);
    expect(later.stale!(later.select('contention_kernel_table_free_entries', 0, 120_000)[0]!, 60_000, 120_000)).toBe(true);
  });
});
