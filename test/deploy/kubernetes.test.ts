import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { parseConfigText } from '../../agent/config/load.js';
import { ROOT } from '../helpers/agent.js';
import { checkPrometheusConfig } from '../helpers/config-checks.js';

const DIR = join(ROOT, 'deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

// The Kubernetes OpenAPI schemas (and prometheus-operator's CRD schema), compiled into validators
// that run offline; each throws with the JSON path of the first violation.
const MODELS: Record<string, (m: Manifest) => { validate(): void }> = {
  'v1/ServiceAccount': (m) => new ServiceAccount(m as never),
  'v1/ConfigMap': (m) => new ConfigMap(m as never),
  'apps/v1/DaemonSet': (m) => new DaemonSet(m as never),
  'monitoring.coreos.com/v1/PodMonitor': (m) => new PodMonitor(m as never),
};

const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Manifest));
const find = <T = Manifest>(kind: string): T => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as T;
};

function validate(m: Manifest): void {
  const model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!model) throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
  model(m).validate();
}

// Typed just enough for the checks below; the schemas checked everything else.
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  args: string[];
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: Probe;
  readinessProbe: Probe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[]; add: string[] } };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface DaemonSetShape extends Manifest {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        hostPID: boolean;
        serviceAccountName: string;
        containers: Container[];
        volumes: Array<{ name: string; hostPath?: { path: string }; configMap?: { name: string } }>;
      };
    };
  };
}

describe('deploy/kubernetes', () => {
  it('holds a ServiceAccount, a ConfigMap, a DaemonSet and a PodMonitor, each valid against its schema', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'DaemonSet', 'PodMonitor', 'ServiceAccount']);
    for (const m of manifests) expect(() => validate(m), `${m.kind} ${m.metadata.name}`).not.toThrow();
  });

  it('the schemas catch a broken manifest: a port given as text, a bad scrape interval', () => {
    const ds = structuredClone(find<DaemonSetShape>('DaemonSet'));
    (ds.spec.template.spec.containers[0]!.ports[0] as { containerPort: unknown }).containerPort = 'nine thousand';
    expect(() => validate(ds)).toThrow(/containerPort must be integer/);
    const pm = structuredClone(find('PodMonitor')) as Manifest & { spec: { podMetricsEndpoints: Array<{ interval: string }> } };
    pm.spec.podMetricsEndpoints[0]!.interval = 'every 15 seconds';
    expect(() => validate(pm)).toThrow(/interval must match pattern/);
  });

  it('the DaemonSet sees the host: hostPID, /proc and /sys read-only where the config points the agent', () => {
    const ds = find<DaemonSetShape>('DaemonSet');
    const pod = ds.spec.template.spec;
    const [agent] = pod.containers;
    expect(pod.hostPID).toBe(true);
    const config = agentConfig();
    const mountOf = (hostPath: string) => {
      const volume = pod.volumes.find((v) => v.hostPath?.path === hostPath);
      expect(volume, hostPath).toBeDefined();
      return agent!.volumeMounts.find((m) => m.name === volume!.name)!;
    };
    expect(mountOf('/proc')).toMatchObject({ mountPath: config.paths.procfs, readOnly: true });
    expect(mountOf('/sys')).toMatchObject({ mountPath: config.paths.sysfs, readOnly: true });
    // Every other mount is read-only too, and so is the root file system.
    expect(agent!.volumeMounts.every((m) => m.readOnly === true)).toBe(true);
    expect(agent!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(agent!.securityContext.capabilities.drop).toEqual(['ALL']);
    // SETUID and SETGID only for the entrypoint's switch to the agent's user (the package tests run it).
    expect([...agent!.securityContext.capabilities.add].sort()).toEqual(['DAC_READ_SEARCH', 'SETGID', 'SETUID', 'SYS_PTRACE']);
  });

  it('the DaemonSet has requests and limits and probes /-/healthy and /-/ready on the port the agent listens on', () => {
    const ds = find<DaemonSetShape>('DaemonSet');
    const [agent] = ds.spec.template.spec.containers;
    for (const r of ['cpu', 'memory']) {
      expect(agent!.resources.requests[r], `requests.${r}`).toBeDefined();
      expect(agent!.resources.limits[r], `limits.${r}`).toBeDefined();
    }
    const port = agent!.ports.find((p) => p.name === 'metrics')!;
    expect(agentConfig().web.listen_address).toBe(`:${port.containerPort}`);
    expect(agent!.livenessProbe.httpGet).toEqual({ path: '/-/healthy', port: 'metrics' });
    expect(agent!.readinessProbe.httpGet).toEqual({ path: '/-/ready', port: 'metrics' });
    expect(agent!.args).toContain('--config.file=/etc/contention-agent/agent.yaml');
    const configVolume = ds.spec.template.spec.volumes.find((v) => v.configMap?.name === find('ConfigMap').metadata.name)!;
    expect(agent!.volumeMounts.find((m) => m.name === configVolume.name)!.mountPath).toBe('/etc/contention-agent');
    expect(ds.spec.template.spec.serviceAccountName).toBe(find('ServiceAccount').metadata.name);
    expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
  });

  it("the ConfigMap's agent.yaml is a valid agent config that keeps command lines private and sets no policy", () => {
    const text = (find('ConfigMap') as Manifest & { data: Record<string, string> }).data['agent.yaml']!;
    const result = parseConfigText(text, 'configmap.yaml#agent.yaml');
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(agentConfig().web.expose_cmdline).toBe(false);
    expect(Object.keys(parse(text) as object)).not.toContain('policies');
  });

  it('the PodMonitor selects the agent pods on their metrics port under the job name the rules expect', () => {
    const ds = find<DaemonSetShape>('DaemonSet');
    const pm = find('PodMonitor') as Manifest & {
      spec: { jobLabel: string; selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; path: string }> };
    };
    expect(ds.spec.template.metadata.labels).toMatchObject(pm.spec.selector.matchLabels);
    expect(ds.spec.template.metadata.labels[pm.spec.jobLabel]).toBe('contention-agent');
    const ports = ds.spec.template.spec.containers[0]!.ports.map((p) => p.name);
    for (const e of pm.spec.podMetricsEndpoints) {
      expect(ports).toContain(e.port);
      expect(e.path).toBe('/metrics');
    }
  });
});

describe('deploy/kubernetes/prometheus-scrape.yml', () => {
  const file = join(DIR, 'prometheus-scrape.yml');
  const scrape = parse(readFileSync(file, 'utf8')) as {
    scrape_configs: Array<{ job_name: string; kubernetes_sd_configs: Array<Record<string, unknown>>; relabel_configs: Array<Record<string, unknown>> }>;
  };

  it('discovers pods by role, in the namespace of the manifests, under the job name the rules expect', () => {
    const [job] = scrape.scrape_configs;
    expect(job!.job_name).toBe('contention-agent');
    // Field names as Prometheus documents kubernetes_sd_config (the Debian build of promtool has no Kubernetes discovery to check them).
    const documented = new Set(['api_server', 'role', 'kubeconfig_file', 'namespaces', 'selectors', 'attach_metadata', 'basic_auth', 'authorization', 'oauth2', 'tls_config', 'proxy_url', 'follow_redirects', 'enable_http2']);
    for (const sd of job!.kubernetes_sd_configs) {
      for (const key of Object.keys(sd)) expect(documented.has(key), `kubernetes_sd_configs.${key}`).toBe(true);
      expect(['node', 'service', 'pod', 'endpoints', 'endpointslice', 'ingress']).toContain(sd.role);
      expect(sd.role).toBe('pod');
      expect(sd.namespaces).toEqual({ names: [find('DaemonSet').metadata.namespace] });
    }
    const keepsAgent = job!.relabel_configs.find((r) => r.action === 'keep' && (r.source_labels as string[])[0] === '__meta_kubernetes_pod_label_app_kubernetes_io_name');
    expect(keepsAgent?.regex).toBe(find<DaemonSetShape>('DaemonSet').spec.template.metadata.labels['app.kubernetes.io/name']);
  });

  it('passes promtool check config with discovery swapped for a static target (relabelling and the rest checked for real)', () => {
    const [job] = scrape.scrape_configs;
    const { kubernetes_sd_configs: _sd, ...rest } = job!;
    const dir = mkdtempSync(join(tmpdir(), 'ca-k8s-scrape-'));
    writeFileSync(join(dir, 'prometheus.yml'), stringify({ scrape_configs: [{ ...rest, static_configs: [{ targets: ['127.0.0.1:9947'] }] }] }));
    checkPrometheusConfig(join(dir, 'prometheus.yml'));
  });
});

function agentConfig() {
  const text = (find('ConfigMap') as Manifest & { data: Record<string, string> }).data['agent.yaml']!;
  const result = parseConfigText(text, 'configmap.yaml#agent.yaml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}
