import { describe, expect, it } from 'vitest';
import { createHistory } from '../../agent/history/history.js';
import type { MetricName } from '../../agent/metrics/catalog.js';
import type { Sample, SeriesValue, Sink } from '../../agent/metrics/sample.js';
import { parseRuleText, type RuleGroup } from '../../agent/rules/load.js';
import { createRulesStage, historyData } from '../../agent/rules/stage.js';

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

const history = () => createHistory({ rawSeconds: 3600, sampleSeconds: 60, bucketSeconds: 300, retentionSeconds: 86_400, maxSeries: 100, families: ['contention_'] });

function sample(minute: number, free: number | undefined): Sample {
  const families = new Map<MetricName, SeriesValue[]>();
  if (free !== undefined) {
    families.set('contention_kernel_table_free_entries', [
      { labels: { table: 'system_ptes' }, value: free },
      { labels: { table: 'pids' }, value: 5 },
    ]);
    families.set('contention_kernel_table_size_entries', [{ labels: { table: 'pids' }, value: 10 }]);
  }
  return { timestamp: Date.UTC(2026, 0, 1) + minute * 60_000, families, collectors: [{ name: 'kernel_tables', success: true, durationSeconds: 0 }], facts: {} };
}

function recordingSink() {
  const set: Array<{ metric: string; labels: Record<string, string>; value: number }> = [];
  const sink: Sink = { set: (metric, labels, value) => void set.push({ metric, labels: labels as Record<string, string>, value }), publish: () => undefined };
  const value = (metric: string, labels: Record<string, string>) => set.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  return { sink, value };
}

const target = { job: 'contention-agent', instance: 'host-1' };

describe('the rules stage', () => {
  it('runs pending → firing → resolved on sampled history and exports each rule state', () => {
    const h = history();
    const stage = createRulesStage(groups, h, { target, intervalSeconds: 60 });
    const states: number[] = [];
    const free = [20000, 9000, 9000, 9000, 9000, 20000];
    free.forEach((f, minute) => {
      const { sink, value } = recordingSink();
      stage.run(sample(minute, f), sink);
      states.push(value('contention_alert_state', { alertname: 'PtesLow', severity: 'critical' })!);
      // up is the agent itself: never absent locally.
      expect(value('contention_alert_state', { alertname: 'Absent', severity: 'warning' })).toBe(0);
    });
    // Pending at 1, held 2m at 3, resolved at 5.
    expect(states).toEqual([0, 1, 1, 2, 2, 0]);
  });

  it('labels alerts with the target job and instance, renders annotations, and hands over pending and firing state on reload', () => {
    const h = history();
    const first = createRulesStage(groups, h, { target, intervalSeconds: 60 });
    for (let m = 0; m < 4; m++) first.run(sample(m, 9000), recordingSink().sink);
    const firing = first.alerts().find((a) => a.labels.alertname === 'PtesLow')!;
    expect(firing).toEqual({
      labels: { alertname: 'PtesLow', severity: 'critical', table: 'system_ptes', job: 'contention-agent', instance: 'host-1' },
      annotations: { summary: '9000 free on host-1' },
      activeAt: sample(0, 0).timestamp,
      state: 'firing',
      source: 'rules',
    });
    const second = createRulesStage(groups, h, { target, intervalSeconds: 60, carried: first.state() });
    second.run(sample(4, 9000), recordingSink().sink);
    expect(second.alerts().find((a) => a.labels.alertname === 'PtesLow')).toMatchObject({ state: 'firing', activeAt: firing.activeAt });
    // A fresh stage without the carried state starts over at pending.
    const fresh = createRulesStage(groups, h, { target, intervalSeconds: 60 });
    fresh.run(sample(5, 9000), recordingSink().sink);
    expect(fresh.alerts().find((a) => a.labels.alertname === 'PtesLow')).toMatchObject({ state: 'pending' });
  });

  it('ends an alert when its series leaves the sample (stale), and counts rules that fail', () => {
    const h = history();
    const stage = createRulesStage(groups, h, { target, intervalSeconds: 60 });
    for (let m = 0; m < 3; m++) stage.run(sample(m, 9000), recordingSink().sink);
    expect(stage.alerts().find((a) => a.labels.alertname === 'PtesLow')?.state).toBe('firing');
    const { sink, value } = recordingSink();
    stage.run(sample(3, undefined), sink);
    expect(stage.alerts().find((a) => a.labels.alertname === 'PtesLow')).toMatchObject({ state: 'resolved', resolvedAt: sample(3, 0).timestamp });
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
