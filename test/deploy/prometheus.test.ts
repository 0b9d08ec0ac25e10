import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { promQuery, startPrometheusWithConfig, type RunningServer } from '../helpers/servers.js';
import { requireTool } from '../helpers/tools.js';
import { checkAlertmanagerConfig, checkPrometheusConfig, resolveGlob } from '../helpers/config-checks.js';

const DIR = join(ROOT, 'deploy/prometheus');
const PROMETHEUS_YML = join(DIR, 'prometheus.yml');
const ALERTMANAGER_YML = join(DIR, 'alertmanager.yml');

interface PrometheusConfig {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; file_sd_configs?: Array<{ files: string[] }> }>;
  alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
}

const config = parse(readFileSync(PROMETHEUS_YML, 'utf8')) as PrometheusConfig;

describe('deploy/prometheus', () => {
  it('prometheus.yml passes promtool check config, rules included', () => {
    const text = checkPrometheusConfig(PROMETHEUS_YML);
    expect(text).toMatch(/SUCCESS: 2 rule files found/);
    expect(text).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('its rule_files globs name exactly the shipped rule files in rules/', () => {
    const resolved = config.rule_files.flatMap((g) => resolveGlob(DIR, g));
    const shipped = readdirSync(join(ROOT, 'rules'))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(ROOT, 'rules', f))
      .sort();
    expect(shipped).toEqual([join(ROOT, 'rules/contention.yml'), join(ROOT, 'rules/fleet.yml')]);
    expect(resolved).toEqual(shipped);
  });

  it('its file_sd targets files are target groups of host:port with string labels', () => {
    const job = config.scrape_configs.find((s) => s.job_name === 'contention-agent')!;
    const files = job.file_sd_configs!.flatMap((sd) => sd.files.flatMap((g) => resolveGlob(DIR, g)));
    expect(files.map((f) => relative(DIR, f))).toContain('targets/example.yml');
    for (const file of files) {
      const groups = parse(readFileSync(file, 'utf8')) as Array<{ targets: string[]; labels?: Record<string, unknown> }>;
      expect(Array.isArray(groups) && groups.length > 0, file).toBe(true);
      for (const g of groups) {
        expect(Object.keys(g).every((k) => k === 'targets' || k === 'labels'), file).toBe(true);
        for (const t of g.targets) expect(t).toMatch(/^[a-z0-9.-]+:\d+$/);
        for (const v of Object.values(g.labels ?? {})) expect(typeof v).toBe('string');
      }
    }
  });

  it('alertmanager.yml passes amtool check-config and routes by severity and kind', () => {
    checkAlertmanagerConfig(ALERTMANAGER_YML);
    const route = (...labels: string[]) =>
      spawnSync(requireTool('amtool'), ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_YML}`, ...labels], { encoding: 'utf8' }).stdout.trim();
    expect(route('alertname=KernelTableExhausted', 'severity=critical')).toBe('on-call');
    expect(route('alertname=LeakSuspected', 'severity=warning', 'source=detector')).toBe('tickets');
    expect(route('alertname=KernelTableLow', 'severity=warning')).toBe('operations');
  });
});

describe('a real Prometheus on the shipped prometheus.yml', () => {
  let agent: RunningAgent | undefined;
  let prometheus: RunningServer | undefined;
  afterAll(async () => {
    await prometheus?.stop();
    await agent?.stop();
  });

  it('finds an agent through file_sd, names it by host, and loads every shipped rule', async () => {
    agent = await startAgent([`--config.file=${writeConfig('sampling:\n  interval: 1s\n')}`]);
    // The shipped file unchanged, beside a targets file for this agent; rule_files made absolute since the copy moved.
    const dir = mkdtempSync(join(tmpdir(), 'ca-fleet-'));
    cpSync(DIR, dir, { recursive: true });
    writeFileSync(join(dir, 'targets/example.yml'), `- targets: ["127.0.0.1:${agent.port}"]\n  labels:\n    role: test\n`);
    const text = readFileSync(PROMETHEUS_YML, 'utf8').replace(/^(\s+- )(\.\.\/\.\.\/rules\/.*)$/m, (_m, lead: string, glob: string) => `${lead}${resolve(DIR, glob)}`);
    expect(text).not.toBe(readFileSync(PROMETHEUS_YML, 'utf8'));
    writeFileSync(join(dir, 'prometheus.yml'), text);
    prometheus = await startPrometheusWithConfig(join(dir, 'prometheus.yml'));
    // The shipped scrape interval is 15 s: the first scrape comes within one.
    await waitFor(async () => (await promQuery(prometheus!.url, 'up{job="contention-agent",instance="127.0.0.1",role="test"} == 1')).length === 1, 40_000, 'the agent scraped through file_sd');
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: unknown[] }> } };
    // The host rules and the fleet-wide ones.
    const shipped = ['rules/contention.yml', 'rules/fleet.yml'].flatMap((f) => (parse(readFileSync(join(ROOT, f), 'utf8')) as { groups: Array<{ rules: unknown[] }> }).groups.flatMap((g) => g.rules));
    expect(rules.data.groups.flatMap((g) => g.rules)).toHaveLength(shipped.length);
  }, 90_000);
});
