import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { emptyRulesState, evaluateRules } from '../../agent/rules/engine.js';
import { loadRuleFiles, type RuleGroup } from '../../agent/rules/load.js';
import { ROOT } from '../helpers/agent.js';
import { requireTool } from '../helpers/tools.js';
import { formatSteps, inputSeries, scenarioData, type InputSeries, type Step } from './scenario.js';

/**
 * The differential test: the shipped rules run on the same input series through `promtool test rules`
 * (Prometheus's own engine) and through the agent's evaluator. The local evaluator's firing set at
 * every minute, for every alert, becomes the exp_alerts of a generated promtool test file, which
 * promtool must pass; the hand-written expectations of rules/tests and of the scenarios below make
 * sure the firing sets are not empty by accident.
 */

const RULES = `${ROOT}rules/contention.yml`;
const MINUTE = 60_000;
const loaded = loadRuleFiles([RULES]);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const groups: RuleGroup[] = loaded.groups;
const ALERTS = groups.flatMap((g) => g.rules.filter((r) => r.kind === 'alert').map((r) => r.name));

interface Scenario {
  readonly name: string;
  readonly series: readonly InputSeries[];
  /** The original notation of each series' values, when it came from rules/tests. */
  readonly values?: readonly string[];
}

interface Firing {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** Runs the local evaluator every minute from 0 to `endMin` and returns the firing alerts at each minute, by alert name. */
function evaluateLocally(s: Scenario, endMin: number): Array<Map<string, Firing[]>> {
  const data = scenarioData(s.series, MINUTE);
  let state = emptyRulesState();
  const out: Array<Map<string, Firing[]>> = [];
  for (let m = 0; m <= endMin; m++) {
    const outcome = evaluateRules(groups, state, data, m * MINUTE);
    expect(outcome.failures, `${s.name} at ${m}m`).toEqual([]);
    state = outcome.state;
    const firing = new Map<string, Firing[]>();
    for (const a of outcome.alerts) {
      if (a.state !== 'firing') continue;
      const { alertname, ...labels } = a.labels;
      const list = firing.get(alertname!) ?? [];
      list.push({ labels, annotations: { ...a.annotations } });
      firing.set(alertname!, list);
    }
    out.push(firing);
  }
  return out;
}

/** Minutes evaluated: past the last input step by a lookback, so series that end without a stale marker fade as in Prometheus. */
const endOf = (s: Scenario): number => Math.max(...s.series.map((x) => x.steps.length - 1)) + 6;

const sortKey = (f: Firing): string => JSON.stringify(Object.entries(f.labels).sort());

// ---- the scenarios: every test of rules/tests, and more cases built here ----

interface PromtoolTest {
  name: string;
  interval?: string;
  input_series: Array<{ series: string; values: string }>;
  alert_rule_test?: Array<{ eval_time: string; alertname: string; exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }> }>;
}
const shippedTests = (parse(readFileSync(`${ROOT}rules/tests/contention_test.yml`, 'utf8')) as { tests: PromtoolTest[] }).tests;
for (const t of shippedTests) if ((t.interval ?? '1m') !== '1m') throw new Error(`${t.name}: only 1m input intervals are replayed`);

const fromShipped: Scenario[] = shippedTests.map((t) => ({
  name: `rules/tests: ${t.name}`,
  series: t.input_series.map((s) => inputSeries(s.series, s.values)),
  values: t.input_series.map((s) => String(s.values)),
}));

const J = 'job="contention-agent"';
const repeat = (v: Step, n: number): Step[] => Array.from({ length: n }, () => v);
/** A small deterministic generator, so the bursts are the same on every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}
const rnd = random(20261125);
const cpuQueues = ['b1', 'b2', 'b3'].map((host) => ({ host, steps: Array.from({ length: 40 }, () => Math.round(rnd() * 16 * 10) / 10) as Step[] }));

/** Cases the shipped tests leave out: staleness and the lookback, counter resets, random bursts, the enforced-commit headroom. */
const built: Scenario[] = [
  {
    name: 'a stale gap restarts the for clock; a series that just ends lingers for the lookback',
    series: ([
      [`contention_kernel_table_free_entries{table="system_ptes",instance="gap",${J}}`, [...repeat(9999, 4), 'stale', undefined, ...repeat(9999, 10)]],
      [`contention_kernel_table_free_entries{table="system_ptes",instance="ends",${J}}`, repeat(9999, 4)],
      [`up{instance="gap",${J}}`, repeat(1, 16)],
    ] as Array<[string, Step[]]>).map(([series, steps]) => ({ ...inputSeries(series, '0'), steps })),
  },
  {
    name: 'odd ratios around the table thresholds (rendered percentages)',
    series: [
      inputSeries(`contention_kernel_table_free_entries{table="file_handles",instance="t",${J}}`, '77x8 19x8 21x4'),
      inputSeries(`contention_kernel_table_size_entries{table="file_handles",instance="t",${J}}`, '1003x20'),
      inputSeries(`contention_kernel_table_free_entries{table="inodes",instance="t",${J}}`, '100x20'),
      inputSeries(`contention_kernel_table_size_entries{table="inodes",instance="t",${J}}`, '1000x20'),
      inputSeries(`up{instance="t",${J}}`, '1x20'),
    ],
  },
  {
    name: 'a disk queue counter that resets keeps its rate; random CPU queue bursts',
    series: [
      inputSeries(`contention_disk_queue_weighted_seconds_total{device="sda",instance="r",${J}}`, '0+157x6 3+157x14'),
      inputSeries(`contention_disk_queue_weighted_seconds_total{device="sdb",instance="r",${J}}`, '0+121x20'),
      ...cpuQueues.flatMap(({ host, steps }) => [
        { ...inputSeries(`contention_cpu_queue_length{instance="${host}",${J}}`, '0'), steps },
        inputSeries(`contention_cpus{instance="${host}",${J}}`, '4x39'),
      ]),
      inputSeries(`up{instance="r",${J}}`, '1x40'),
    ],
  },
  {
    name: 'a growing group against the commit headroom where the limit is enforced',
    series: [
      inputSeries(`contention_process_group_private_bytes{group="app",instance="e",${J}}`, '100000000+40000000x40'),
      inputSeries(`contention_process_group_private_bytes{group="idle",instance="e",${J}}`, '300000000x40'),
      inputSeries(`contention_memory_commit_bytes{instance="e",${J}}`, '6000000000x40'),
      inputSeries(`contention_memory_commit_limit_bytes{instance="e",${J}}`, '9000000000x40'),
      inputSeries(`contention_memory_commit_limit_enforced{instance="e",${J}}`, '1x40'),
      inputSeries(`contention_memory_available_bytes{instance="e",${J}}`, '900000000x40'),
      inputSeries(`contention_memory_physical_bytes{instance="e",${J}}`, '8000000000x40'),
      inputSeries(`up{instance="e",${J}}`, '1x40'),
    ],
  },
];

/** When each built scenario must first fire what, worked out by hand from the rules (minute, alert, distinguishing label). */
const BUILT_EXPECTATIONS: Record<string, Array<{ minute: number; alert: string; match: Record<string, string> }>> = {
  [built[0]!.name]: [
    // Pending from 0, gone at the stale marker (minute 4), back at 6: fires 5 minutes later.
    { minute: 11, alert: 'FreeSystemPTEsLow', match: { instance: 'gap' } },
    // Last point at 3m, still selected until 8m by the 5-minute lookback: pending from 0, fires at 5.
    { minute: 5, alert: 'FreeSystemPTEsLow', match: { instance: 'ends' } },
  ],
  [built[1]!.name]: [
    { minute: 5, alert: 'KernelTableLow', match: { table: 'file_handles' } },
    // 19/1003 < 2% from minute 9, held 1m.
    { minute: 10, alert: 'KernelTableExhausted', match: { table: 'file_handles' } },
  ],
  [built[2]!.name]: [
    // 157/60 = 2.6 a second from minute 1 (the reset at 7 is corrected), held 5m.
    { minute: 6, alert: 'DiskQueueSaturated', match: { device: 'sda' } },
    ...cpuQueues.flatMap(({ host, steps }) => {
      // Above 2 per CPU (8 of 4 CPUs) at six evaluations in a row fires at the sixth.
      for (let m = 5; m < steps.length; m++) {
        if (steps.slice(m - 5, m + 1).every((v) => (v as number) > 8)) return [{ minute: m, alert: 'CPUQueueSaturated', match: { instance: host } }];
      }
      return [];
    }),
  ],
  [built[3]!.name]: [
    // 40 MB a minute adds 9.6 GB in 4 h, more than the 3 GB headroom: condition from minute 1, held 15m.
    { minute: 16, alert: 'ProcessGroupLeakExhaustsMemory', match: { group: 'app' } },
  ],
};

const scenarios = [...fromShipped, ...built];

describe('local evaluation against promtool on the shipped rules', () => {
  const results = new Map(scenarios.map((s) => [s.name, evaluateLocally(s, endOf(s))]));

  it('reproduces every hand-written expectation of rules/tests', () => {
    let checked = 0;
    for (const t of shippedTests) {
      const local = results.get(`rules/tests: ${t.name}`)!;
      for (const a of t.alert_rule_test ?? []) {
        const minute = Number(/^(\d+)m$/.exec(a.eval_time)?.[1] ?? Number(/^(\d+)h$/.exec(a.eval_time)?.[1]) * 60);
        const got = (local[minute]?.get(a.alertname) ?? []).map((f) => ({ labels: f.labels, annotations: f.annotations })).sort((x, y) => sortKey(x).localeCompare(sortKey(y)));
        const want = (a.exp_alerts ?? []).map((e) => ({ labels: e.exp_labels ?? {}, annotations: e.exp_annotations ?? {} })).sort((x, y) => sortKey(x).localeCompare(sortKey(y)));
        expect(got, `${t.name}: ${a.alertname} at ${a.eval_time}`).toEqual(want);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('fires what the built scenarios must fire, first at the minute worked out by hand', () => {
    for (const s of built) {
      const local = results.get(s.name)!;
      const expectations = BUILT_EXPECTATIONS[s.name]!;
      expect(expectations.length, s.name).toBeGreaterThan(0);
      for (const e of expectations) {
        const fires = (m: number): boolean => (local[m]?.get(e.alert) ?? []).some((f) => Object.entries(e.match).every(([k, v]) => f.labels[k] === v));
        const first = local.findIndex((_x, m) => fires(m));
        expect(first, `${s.name}: ${e.alert} ${JSON.stringify(e.match)}`).toBe(e.minute);
      }
    }
  });

  it('has every alert of the rules fire somewhere, so agreement with promtool means something for each', () => {
    const fired = new Set<string>();
    for (const r of results.values()) for (const m of r) for (const name of m.keys()) fired.add(name);
    expect([...fired].sort()).toEqual([...ALERTS].sort());
  });

  it('agrees with promtool on the firing set, labels and annotations of every alert at every minute', () => {
    const tests = scenarios.map((s) => {
      const local = results.get(s.name)!;
      const alert_rule_test = local.flatMap((firing, minute) =>
        ALERTS.map((alertname) => ({
          eval_time: `${minute}m`,
          alertname,
          exp_alerts: (firing.get(alertname) ?? []).map((f) => ({ exp_labels: f.labels, exp_annotations: f.annotations })),
        })),
      );
      return {
        name: s.name,
        interval: '1m',
        input_series: s.series.map((x, i) => ({ series: x.series, values: s.values?.[i] ?? formatSteps(x.steps) })),
        alert_rule_test,
      };
    });
    const dir = mkdtempSync(join(tmpdir(), 'ca-differential-'));
    const file = join(dir, 'differential_test.yml');
    writeFileSync(file, stringify({ rule_files: [RULES], evaluation_interval: '1m', tests }, { lineWidth: 0 }));
    const firingEntries = tests.reduce((n, t) => n + t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).length, 0);
    expect(firingEntries).toBeGreaterThan(100);
    const out = spawnSync(requireTool('promtool'), ['test', 'rules', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const text = `${out.stdout}${out.stderr}`;
    // On a mismatch promtool prints the expected (local) and got (Prometheus) alerts: the first ones are enough to see why.
    expect(out.status, text.slice(0, 4000)).toBe(0);
    expect(text).toMatch(/SUCCESS/);
  }, 120_000);
});
