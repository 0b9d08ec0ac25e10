import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../agent/config/load.js';
import { ROOT } from '../helpers/agent.js';
import { checkAlertmanagerConfig, checkPrometheusConfig, resolveGlob } from '../helpers/config-checks.js';

const DIR = join(ROOT, 'deploy/compose');

interface Service {
  image?: string;
  command?: string[];
  volumes?: string[];
  ports?: string[];
  pid?: string;
  cap_drop?: string[];
  cap_add?: string[];
  read_only?: boolean;
  depends_on?: string[];
}
const compose = parse(readFileSync(join(DIR, 'compose.yaml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  /** A bind mount from the repository (or the host), as opposed to a named volume. */
  bind: boolean;
}
function mountsOf(service: string): Mount[] {
  return (compose.services[service]!.volumes ?? []).map((v) => {
    const [source, target, mode] = v.split(':') as [string, string, string | undefined];
    const bind = source.startsWith('.') || source.startsWith('/');
    return { source: bind && source.startsWith('.') ? resolve(DIR, source) : source, target, readOnly: mode === 'ro', bind };
  });
}

/** Lays out a service's bind mounts from the repository as the container sees them, under a temp root. */
function containerView(service: string): string {
  const root = mkdtempSync(join(tmpdir(), `ca-compose-${service}-`));
  for (const m of mountsOf(service).filter((m) => m.bind && m.source.startsWith(ROOT))) {
    mkdirSync(dirname(join(root, m.target)), { recursive: true });
    cpSync(m.source, join(root, m.target), { recursive: true });
  }
  return root;
}

describe('deploy/compose/compose.yaml', () => {
  it('runs the agent, Prometheus, Alertmanager and Grafana, each image pinned to a version', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['agent', 'alertmanager', 'grafana', 'prometheus']);
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+$/);
    }
  });

  it('mounts files that exist in the repository, read-only, and named volumes that are declared', () => {
    for (const name of Object.keys(compose.services)) {
      for (const m of mountsOf(name)) {
        if (!m.bind) {
          expect(compose.volumes, `${name}: volume ${m.source}`).toHaveProperty(m.source);
          continue;
        }
        expect(m.readOnly, `${name}: ${m.source}`).toBe(true);
        if (m.source.startsWith(ROOT)) expect(existsSync(m.source), `${name}: ${relative(ROOT, m.source)}`).toBe(true);
      }
    }
    expect(mountsOf('grafana').filter((m) => m.bind).map((m) => [relative(ROOT, m.source), m.target])).toEqual([
      ['deploy/grafana/provisioning/dashboards', '/etc/grafana/provisioning/dashboards'],
      ['deploy/compose/grafana-datasource.yaml', '/etc/grafana/provisioning/datasources/contention-agent.yaml'],
      ['dashboards', '/var/lib/grafana/dashboards/contention-agent'],
    ]);
  });

  it('gives Grafana the shipped provider, a data source that differs from the shipped one only in its address, and the dashboards where the provider looks', () => {
    const shipped = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/contention-agent.yaml'), 'utf8'));
    const own = parse(readFileSync(join(DIR, 'grafana-datasource.yaml'), 'utf8'));
    expect(own.datasources[0].url).toBe('http://prometheus:9090');
    expect({ ...own.datasources[0], url: undefined }).toEqual({ ...shipped.datasources[0], url: undefined });
    const provider = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/contention-agent.yaml'), 'utf8'));
    const dashboards = mountsOf('grafana').find((m) => relative(ROOT, m.source) === 'dashboards');
    expect(dashboards?.target).toBe(provider.providers[0].options.path);
  });

  it('publishes every port on loopback only', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it("runs the agent on the host's processes, read-only, with only the two capabilities it reads with", () => {
    const agent = compose.services.agent!;
    expect(agent.pid).toBe('host');
    expect(agent.read_only).toBe(true);
    expect(agent.cap_drop).toEqual(['ALL']);
    // SETUID and SETGID only for the entrypoint's switch to uid 10001 (the package tests run it).
    expect([...agent.cap_add!].sort()).toEqual(['DAC_READ_SEARCH', 'SETGID', 'SETUID', 'SYS_PTRACE']);
    expect(agent.image).toBe(`contention-agent:${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}`);
  });

  it("the agent's config, as mounted, is valid and points at the mounted host /proc and /sys", () => {
    const root = containerView('agent');
    const configFlag = compose.services.agent!.command!.find((c) => c.startsWith('--config.file='))!;
    const result = loadConfigFile(join(root, configFlag.slice('--config.file='.length)));
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    const mounts = mountsOf('agent');
    expect(mounts.find((m) => m.source === '/proc')).toMatchObject({ target: result.config.paths.procfs, readOnly: true });
    expect(mounts.find((m) => m.source === '/sys')).toMatchObject({ target: result.config.paths.sysfs, readOnly: true });
    expect(result.config.alerting.alertmanagers).toEqual(['http://alertmanager:9093']);
  });

  it("Prometheus's config, as mounted, passes promtool with the shipped rules, and scrapes the agent", () => {
    const root = containerView('prometheus');
    const file = join(root, 'etc/prometheus/prometheus.yml');
    const out = checkPrometheusConfig(file);
    expect(out).toMatch(/SUCCESS: 1 rule files found/);
    const config = parse(readFileSync(file, 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
    expect(config.rule_files.flatMap((g) => resolveGlob(dirname(file), g)).map((f) => relative(root, f))).toEqual(['etc/prometheus/rules/contention.yml']);
    const job = config.scrape_configs.find((j) => j.job_name === 'contention-agent')!;
    expect(job.static_configs[0]!.targets).toEqual(['agent:9947']);
  });

  it("Alertmanager's config, as mounted, passes amtool check-config", () => {
    const root = containerView('alertmanager');
    checkAlertmanagerConfig(join(root, 'etc/alertmanager/alertmanager.yml'));
  });
});

describe('deploy/container/Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy/container/Dockerfile'), 'utf8');

  it('builds from the self-contained tarball and the entrypoint only (the package tests build and check that context)', () => {
    const sources = [...dockerfile.matchAll(/^(?:ADD|COPY) (?!--from)(\S+) \S+$/gm)].map((m) => m[1]);
    expect(sources.sort()).toEqual(['contention-agent.linux-amd64.tar.gz', 'entrypoint.sh']);
    expect(existsSync(join(ROOT, 'deploy/container/entrypoint.sh'))).toBe(true);
    expect(dockerfile).not.toMatch(/npm (ci|install)/);
  });
});
