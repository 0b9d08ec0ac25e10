import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceOf } from '../../agent/dashboards/panels.js';
import { ROOT, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { makeMemoryCgroup, type MemoryCgroup } from '../helpers/cgroups.js';
import { killAllChildren, SCRIPTS, startChild, type Child } from '../helpers/children.js';
import { promQuery, startPrometheus, type RunningServer } from '../helpers/servers.js';
import { DASHBOARD_FILES, dataPanels, labelValuesQuery, substitute, type Substitutions } from './dashboard-json.js';

interface Answer { status: string; error?: string; data: { result: unknown[] } | string[] }

/** Runs one query the way Grafana's Prometheus datasource does: instant, or a range over the last minute. */
async function run(prometheusUrl: string, expr: string, instant: boolean): Promise<number> {
  const end = Date.now() / 1000;
  const params = new URLSearchParams(instant ? { query: expr, time: String(end) } : { query: expr, start: String(end - 60), end: String(end), step: '2' });
  const res = await fetch(`${prometheusUrl}/api/v1/${instant ? 'query' : 'query_range'}?${params}`);
  const body = (await res.json()) as Answer;
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return (body.data as { result: unknown[] }).result.length;
}

/** A Grafana `label_values(selector, label)` variable query, as the datasource sends it. */
async function labelValues(prometheusUrl: string, query: string): Promise<string[]> {
  const { selector, label } = labelValuesQuery(query);
  const end = Date.now() / 1000;
  const params = new URLSearchParams({ 'match[]': selector, start: String(end - 3600), end: String(end) });
  const body = (await (await fetch(`${prometheusUrl}/api/v1/label/${label}/values?${params}`)).json()) as Answer;
  if (body.status !== 'success') throw new Error(`${query}: ${body.error}`);
  return body.data as string[];
}

describe('the dashboards against a real Prometheus scraping a real agent with a leaking child', () => {
  let leaker: Child;
  let handles: Child;
  let agent: RunningAgent;
  let cgroup: MemoryCgroup | undefined;
  let prometheus: RunningServer;
  let vars: Substitutions;

  beforeAll(async () => {
    // One child leaks memory, one file handles: the handle leak eats the host's file table steadily
    // enough to get a time to exhaustion on a busy machine, where available memory swings by more
    // than a test-sized memory leak.
    leaker = await startChild(SCRIPTS.leak(1, 100));
    handles = await startChild(SCRIPTS.fdLeak(20, 100));
    // The leaker runs under a memory limit, so the cgroup panels have a cgroup to show (far from full: 8 GiB).
    cgroup = makeMemoryCgroup(`ca-dash-${process.pid}`, 8 * 2 ** 30);
    cgroup.join(leaker.pid);
    // A short detection window so the leak is suspected (and LeakSuspected pending) within the test.
    agent = await startAgent([
      `--config.file=${writeConfig(`sampling: { interval: 500ms, queue_interval: 500ms }\ndetection: { window: 30s, min_window: 15s, confirm: 2s }\ncriteria:\n  - name: leaky\n    include: [{ cmdline: "${leaker.token}" }, { cmdline: "${handles.token}" }]\n`)}`,
    ]);
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${agent.port}`], ruleFiles: [`${ROOT}rules/contention.yml`] });
    vars = { job: 'contention-agent', instance: `127.0.0.1:${agent.port}` };
    await waitFor(
      async () => {
        if ((await promQuery(prometheus.url, `ALERTS{alertname="LeakSuspected", subject_kind="process", subject="node ${leaker.token}.js[${leaker.pid}]"}`)).length > 0) return true;
        const trend = await promQuery(prometheus.url, `{__name__=~"contention_(leak_suspected|trend_confidence|growth_bytes_per_second)", subject="node ${leaker.token}.js[${leaker.pid}]"}`);
        throw new Error(`not yet: ${trend.map((r) => `${r.metric.__name__}=${r.value[1]}`).join(', ') || 'no trend series for the child'}`);
      },
      50_000,
      'the leaking child to be a leak suspect in Prometheus, with LeakSuspected pending',
    );
    await waitFor(async () => (await promQuery(prometheus.url, 'contention_seconds_to_exhaustion{resource="kernel_table:file_handles"}')).length > 0, 20_000, 'a time to exhaustion of the file table');
  });
  afterAll(async () => {
    await prometheus?.stop();
    await agent?.stop();
    killAllChildren();
    cgroup?.remove();
  });

  it('answers every variable query: the job, this agent as a host, and the leaking child\'s group', async () => {
    const answers: Record<string, string[]> = {};
    for (const { file, json } of DASHBOARD_FILES) {
      for (const v of json.templating.list.filter((v) => v.type === 'query')) {
        const values = await labelValues(prometheus.url, substitute(v.query!, vars));
        expect(values.length, `${file}: $${v.name}`).toBeGreaterThan(0);
        answers[v.name] = values;
      }
    }
    expect(answers.job).toEqual(['contention-agent']);
    expect(answers.instance).toEqual([vars.instance]);
    expect(answers.group).toContain('leaky');
  });

  it('runs every panel query of the host dashboards without error; each panel meant for Linux returns data, Windows-only and policy-only ones none', async () => {
    const empty: string[] = [];
    const unexpected: string[] = [];
    let queries = 0;
    // The fleet dashboard's queries are checked against a fleet (test/dashboards/fleet.test.ts).
    for (const { file, json } of DASHBOARD_FILES.filter((d) => d.file !== 'fleet.json')) {
      for (const a of (json as { annotations?: { list?: Array<{ expr: string }> } }).annotations?.list ?? []) await run(prometheus.url, substitute(a.expr, vars), false);
      for (const panel of dataPanels(json)) {
        let series = 0;
        for (const t of panel.targets ?? []) {
          series += await run(prometheus.url, substitute(t.expr, vars), t.instant ?? false);
          queries++;
        }
        const name = `${file}: ${panel.title}`;
        if (audienceOf(panel) === 'any' && series === 0) empty.push(name);
        if (audienceOf(panel) !== 'any' && series > 0) unexpected.push(name);
      }
    }
    expect(empty, 'Linux panels without data').toEqual([]);
    expect(unexpected, 'Windows-only or policy-only panels with data on a Linux host without policies').toEqual([]);
    expect(queries).toBeGreaterThan(40);
  });

  it('shows the leaking children in the drill-down: their group, their processes, and the suspects', async () => {
    const leaky = { ...vars, group: 'leaky' };
    const processes = DASHBOARD_FILES.find((d) => d.file === 'processes-and-leaks.json')!.json;
    const expr = (title: string): string => substitute(dataPanels(processes).find((p) => p.title === title)!.targets![0]!.expr, leaky);
    expect((await promQuery(prometheus.url, expr('Top groups by private bytes'))).map((r) => r.metric.group)).toEqual(['leaky']);
    expect((await promQuery(prometheus.url, expr('Top processes by private bytes'))).map((r) => r.metric.pid)).toContain(String(leaker.pid));
    expect((await promQuery(prometheus.url, expr('Top processes by handles'))).map((r) => r.metric.pid)).toContain(String(handles.pid));
    const suspects = await promQuery(prometheus.url, expr('Leak suspects'));
    // the children, each a suspect of its own; their group grows only by what they leak, so it is not a third
    expect(suspects.map((r) => `${r.metric.subject_kind} ${r.metric.subject} ${r.metric.resource}`)).toEqual(expect.arrayContaining([`process node ${leaker.token}.js[${leaker.pid}] private_bytes`]));
    expect(suspects.map((r) => r.metric.subject)).not.toContain('leaky');
  });
});
