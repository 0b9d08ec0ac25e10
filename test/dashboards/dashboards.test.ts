import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARDS, render } from '../../agent/dashboards/index.js';
import { audienceOf } from '../../agent/dashboards/panels.js';
import { SHARED_RUNBOOKS } from '../../agent/dashboards/runbooks.js';
import { catalog } from '../../agent/metrics/catalog.js';
import { ROOT } from '../helpers/agent.js';
import { committed, DASHBOARD_FILES, dataPanels, labelValuesQuery, parsePromql, substitute, thresholdValues } from './dashboard-json.js';
import { ALERT_THRESHOLDS, ruleThreshold } from '../helpers/alert-thresholds.js';

/** Being built alongside the policies; pinned names the Policies dashboard reads. */
const POLICY_METRICS = ['contention_policy_active', 'contention_policy_actions_total', 'contention_policy_violations_total'];
const KNOWN_METRICS = new Set([...Object.keys(catalog), ...POLICY_METRICS, 'ALERTS']);
// Pool limits are Windows-only too: Linux's only one, vmalloc's address window, is never reachable and is filtered out.
const WINDOWS_ONLY = /system_ptes|"(non)?paged"|contention_kernel_pool_limit_bytes/;
const vars = { job: 'contention-agent', instance: '127.0.0.1:9947' };

const HOST_DASHBOARDS = DASHBOARD_FILES.filter((d) => d.file !== 'fleet.json');
const FLEET = DASHBOARD_FILES.find((d) => d.file === 'fleet.json')!.json;
const panels = DASHBOARD_FILES.flatMap(({ file, json }) => dataPanels(json).map((panel) => ({ file, panel, name: `${file}: ${panel.title}` })));
const exprs = (p: (typeof panels)[number]['panel']): string[] => (p.targets ?? []).map((t) => t.expr);

interface Rule { alert?: string; expr: string; annotations?: Record<string, string> }
const alerts = (parse(readFileSync(`${ROOT}rules/contention.yml`, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups
  .flatMap((g) => g.rules)
  .filter((r): r is Rule & { alert: string } => Boolean(r.alert));

describe('dashboards as code', () => {
  it('commits exactly what the code generates (run `npm run dashboards` after changing agent/dashboards/)', () => {
    for (const { file, build } of DASHBOARDS) expect(committed(file), `dashboards/${file} is stale`).toBe(render(build()));
    expect(readdirSync(`${ROOT}dashboards`).sort()).toEqual(DASHBOARDS.map((d) => d.file).sort());
  });

  it('has the three host dashboards and the fleet dashboard, with distinct uids', () => {
    expect(DASHBOARD_FILES.map((d) => d.json.title)).toEqual(['Host contention', 'Processes and leaks', 'Policies', 'Fleet']);
    expect(new Set(DASHBOARD_FILES.map((d) => d.json.uid)).size).toBe(4);
  });
});

describe('dashboard conventions', () => {
  it('takes the datasource from a variable, never __inputs, on every panel and query', () => {
    for (const { file, json } of DASHBOARD_FILES) {
      expect(json.__inputs, file).toBeUndefined();
      expect(committed(file)).not.toContain('DS_PROMETHEUS');
      expect(json.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
      for (const variable of json.templating.list.filter((v) => v.type === 'query')) expect(variable.datasource?.uid, variable.name).toBe('${datasource}');
    }
    for (const { name, panel } of panels) {
      expect(panel.datasource?.uid, name).toBe('${datasource}');
      for (const t of panel.targets ?? []) expect(t.datasource?.uid, name).toBe('${datasource}');
    }
  });

  it('has job and a multi-select instance on every host dashboard, jobs on the fleet, and a group variable to drill down from group to process', () => {
    for (const { file, json } of HOST_DASHBOARDS) {
      const names = json.templating.list.map((v) => v.name);
      expect(names, file).toEqual(expect.arrayContaining(['datasource', 'job', 'instance', 'runbooks']));
      expect(json.templating.list.find((v) => v.name === 'instance'), file).toMatchObject({ multi: true, includeAll: true, allValue: '.+' });
    }
    expect(FLEET.templating.list.map((v) => v.name)).toEqual(['datasource', 'job', 'slack', 'runbooks']);
    expect(FLEET.templating.list.find((v) => v.name === 'job')).toMatchObject({ multi: true, includeAll: true });
    // Several hosts at once: every host selection is a regex match, never an equality.
    for (const { name, panel } of panels) for (const expr of exprs(panel)) expect(expr, name).not.toContain('instance="$instance"');
    const processes = DASHBOARD_FILES.find((d) => d.file === 'processes-and-leaks.json')!.json;
    expect(processes.templating.list.map((v) => v.name)).toContain('group');
    const drill = dataPanels(processes).filter((p) => [...(p.fieldConfig?.defaults.links ?? [])].some((l) => l.url.includes(`/d/${processes.uid}/`) && /var-group=\$\{__(field\.labels|data\.fields)\.group\}$/.test(l.url)));
    expect(drill.map((p) => p.title)).toEqual(expect.arrayContaining(['Top groups by private bytes', 'Top processes by private bytes', 'Private bytes by group']));
  });

  it('gives every panel a unit, a description and a query, and lays it inside the 24-column grid', () => {
    for (const { file, json } of DASHBOARD_FILES) {
      const ids = json.panels.map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
    }
    for (const { name, panel } of panels) {
      expect(panel.fieldConfig?.defaults.unit, name).toMatch(/\S/);
      expect(panel.description?.length ?? 0, name).toBeGreaterThan(30);
      expect(panel.targets?.length, name).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w, name).toBeLessThanOrEqual(24);
    }
  });

  it('reads only metrics the agent exports (or the pinned policy metrics), with $__rate_interval or $__range for every range', () => {
    for (const { name, panel } of panels) {
      for (const expr of exprs(panel)) {
        for (const range of expr.matchAll(/\[([^\]]*)\]/g)) expect(['$__rate_interval', '$__range'], `${name}: ${expr}`).toContain(range[1]);
        for (const metric of parsePromql(substitute(expr, vars)).metrics) expect(KNOWN_METRICS.has(metric), `${name} reads ${metric}`).toBe(true);
      }
    }
  });

  it('parses every panel and variable expression with the PromQL grammar', () => {
    let count = 0;
    for (const { name, panel } of panels) {
      for (const expr of exprs(panel)) {
        expect(parsePromql(substitute(expr, vars)).errors, `${name}: ${expr}`).toEqual([]);
        count++;
      }
    }
    for (const { file, json } of DASHBOARD_FILES) {
      for (const v of json.templating.list.filter((v) => v.type === 'query')) {
        const { selector } = labelValuesQuery(v.query!);
        expect(parsePromql(substitute(selector, vars)).errors, `${file}: $${v.name}`).toEqual([]);
        count++;
      }
    }
    expect(count).toBeGreaterThan(50);
    // The check itself catches what it must.
    expect(parsePromql('sum(rate(x[5s])').errors).not.toEqual([]);
    expect(parsePromql('x / on(a) ').errors).not.toEqual([]);
  });

  it('names the Windows-only and policy-only panels, and no others, and says so in their description', () => {
    const of = (audience: string) => panels.filter(({ panel }) => audienceOf(panel) === audience).map((p) => p.name).sort();
    expect(of('windows')).toEqual([
      'host-contention.json: Free system PTEs (Windows only)',
      'host-contention.json: Free system PTEs over time (Windows only)',
      'host-contention.json: Kernel pools: share of limit (Windows only)',
      'host-contention.json: Kernel pools: share of limit over time (Windows only)',
    ]);
    expect(of('policies')).toEqual(DASHBOARD_FILES.find((d) => d.file === 'policies.json')!.json.panels.filter((p) => p.type !== 'row').map((p) => `policies.json: ${p.title}`).sort());
    for (const { name, panel } of panels) {
      const text = exprs(panel).join('\n');
      expect(audienceOf(panel) === 'windows', `${name}: a Windows-only selection is marked so`).toBe(WINDOWS_ONLY.test(text));
      expect(audienceOf(panel) === 'policies', `${name}: a policy metric is marked so`).toBe(text.includes('contention_policy_'));
    }
  });
});

describe('annotations and the fleet view', () => {
  interface Annotation { name: string; expr: string; datasource: { uid: string }; titleFormat: string; enable: boolean }
  const annotationsOf = (json: unknown): Annotation[] => ((json as { annotations?: { list?: Annotation[] } }).annotations?.list ?? []);

  it('marks agent restarts, policy actions and captures on every host dashboard, from the agent\'s own metrics', () => {
    for (const { file, json } of HOST_DASHBOARDS) {
      const list = annotationsOf(json);
      expect(list.map((a) => a.name), file).toEqual(['Agent restarts', 'Policy actions', 'Captures']);
      for (const a of list) {
        expect(a.datasource.uid, `${file}: ${a.name}`).toBe('${datasource}');
        expect(a.enable).toBe(true);
        expect(parsePromql(substitute(a.expr, vars)).errors, `${file}: ${a.name}`).toEqual([]);
        expect(a.expr, a.name).toContain('instance=~"$instance"');
        for (const metric of parsePromql(substitute(a.expr, vars)).metrics) expect([...KNOWN_METRICS, 'process_start_time_seconds'], a.name).toContain(metric);
      }
    }
    expect(annotationsOf(FLEET)).toEqual([]);
  });

  it('lists every host worst first, each row linking to that host\'s dashboards', () => {
    const table = dataPanels(FLEET).find((p) => p.title === 'Hosts, worst first')! as unknown as {
      targets: Array<{ expr: string }>; fieldConfig: { defaults: { links: Array<{ url: string }> } }; options: { sortBy: Array<{ displayName: string; desc: boolean }> };
    };
    expect(table.targets[0]!.expr).toMatch(/^sort_desc\(/);
    expect(table.options.sortBy).toEqual([{ displayName: 'score', desc: true }]);
    const host = DASHBOARD_FILES.find((d) => d.file === 'host-contention.json')!.json;
    expect(table.fieldConfig.defaults.links.map((l) => l.url)).toContain(`/d/${host.uid}/host-contention?\${__url_time_range}&\${datasource:queryparam}&var-job=\${__data.fields.job}&var-instance=\${__data.fields.instance}`);
    expect(dataPanels(FLEET).map((p) => p.title)).toEqual(['Hosts by condition', 'Hosts, worst first', 'Hosts that stopped reporting', 'Fleet-wide findings', 'Hosts by condition over time']);
  });
});

describe('alert panels', () => {
  const runbookOf = (alert: Rule & { alert: string }): string => /^docs\/runbooks\/(\w+)\.md$/.exec(alert.annotations?.runbook_url ?? '')![1]!;
  const linked = (runbook: string) => panels.filter(({ panel }) => (panel.links ?? []).some((l) => l.url === `\${runbooks}/${runbook}.md`));

  it('link runbooks that exist', () => {
    for (const { name, panel } of panels) {
      for (const link of [...(panel.links ?? []), ...(panel.fieldConfig?.defaults.links ?? [])].filter((l) => l.url.startsWith('${runbooks}/'))) {
        const file = /^\$\{runbooks\}\/(\w+)\.md$/.exec(link.url)?.[1];
        if (file) expect(existsSync(`${ROOT}docs/runbooks/${file}.md`), `${name} links ${link.url}`).toBe(true);
        else expect(link.url, name).toBe('${runbooks}/${__data.fields.runbook}.md');
      }
    }
  });

  it('map every alert to its runbook the way rules/contention.yml does', () => {
    for (const alert of alerts) expect(SHARED_RUNBOOKS[alert.alert] ?? alert.alert, alert.alert).toBe(runbookOf(alert));
  });

  it('colour by the alert rules\' thresholds: a panel linking each alert\'s runbook has its number', () => {
    const expected = ALERT_THRESHOLDS;
    for (const [name, threshold] of Object.entries(expected)) {
      const alert = alerts.find((a) => a.alert === name)!;
      // The rule's own number, as the rules test reads it, must be the one the panels use.
      expect(ruleThreshold(alert.expr), name).toBe(threshold);
      const showing = linked(runbookOf(alert));
      expect(showing.length, `a panel links the runbook of ${name}`).toBeGreaterThan(0);
      expect(showing.some(({ panel }) => thresholdValues(panel).includes(threshold)), `a panel linking ${name}'s runbook colours at ${threshold}`).toBe(true);
    }
  });

  it('list firing alerts with a link from each row to its runbook', () => {
    const table = panels.find((p) => p.panel.title === 'Firing and pending alerts')!.panel;
    expect(table.targets![0]!.expr).toMatch(/^label_replace\(.*ALERTS\{job="\$job", instance=~"\$instance"\}/);
    expect(table.fieldConfig?.defaults.links?.[0]?.url).toBe('${runbooks}/${__data.fields.runbook}.md');
  });
});

describe('deploy/grafana provisioning', () => {
  const yaml = (path: string) => parse(readFileSync(`${ROOT}deploy/grafana/provisioning/${path}`, 'utf8'));

  it('provisions a Prometheus datasource, the type the dashboards\' datasource variable lists', () => {
    const { apiVersion, datasources } = yaml('datasources/contention-agent.yaml') as { apiVersion: number; datasources: Array<Record<string, unknown>> };
    expect(apiVersion).toBe(1);
    expect(datasources).toEqual([expect.objectContaining({ type: 'prometheus', access: 'proxy', url: expect.stringMatching(/^https?:\/\/\S+$/) })]);
    for (const { json } of DASHBOARD_FILES) expect(json.templating.list.find((v) => v.name === 'datasource')?.query).toBe(datasources[0]!.type);
  });

  it('provisions the dashboards from files, at the path docs/dashboards.md says to put dashboards/', () => {
    const { apiVersion, providers } = yaml('dashboards/contention-agent.yaml') as { apiVersion: number; providers: Array<{ type: string; options: { path: string } }> };
    expect(apiVersion).toBe(1);
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({ type: 'file', options: { path: expect.stringMatching(/^\//) } });
    expect(readFileSync(`${ROOT}docs/dashboards.md`, 'utf8')).toContain(`dashboards:${providers[0]!.options.path}`);
  });
});
