// docs/deploy.md, "Sizing the scrape interval": one sample per scrape. The shipped stacks and the
// packaged default configs follow that advice, each agent config against the Prometheus that scrapes it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.js';
import { parseDuration } from '../../agent/config/units.js';
import { ROOT } from '../helpers/agent.js';

const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
const samplingOf = (text: string, name: string) => {
  const r = parseConfigText(text, name);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.sampling.interval;
};
const globalScrape = (rel: string) => parseDuration((parse(read(rel)) as { global: { scrape_interval: string } }).global.scrape_interval)!;

describe('sampling.interval equals the interval the agent is scraped at', () => {
  it('compose: the agent config against the stack Prometheus', () => {
    expect(samplingOf(read('deploy/compose/agent.yaml'), 'agent.yaml')).toBe(globalScrape('deploy/compose/prometheus.yml'));
  });

  it('Kubernetes: the ConfigMap against the PodMonitor and the plain scrape job', () => {
    const cm = parseAllDocuments(read('deploy/kubernetes/configmap.yaml'))[0]!.toJS() as { data: Record<string, string> };
    const sampling = samplingOf(cm.data['agent.yaml']!, 'configmap agent.yaml');
    const pm = parse(read('deploy/kubernetes/podmonitor.yaml')) as { spec: { podMetricsEndpoints: Array<{ interval: string }> } };
    for (const e of pm.spec.podMetricsEndpoints) expect(parseDuration(e.interval)).toBe(sampling);
    const job = (parse(read('deploy/kubernetes/prometheus-scrape.yml')) as { scrape_configs: Array<{ scrape_interval: string }> }).scrape_configs[0]!;
    expect(parseDuration(job.scrape_interval)).toBe(sampling);
  });

  it('the packaged defaults (the .deb and tarball agent.yml, the Windows config.yaml) against the fleet Prometheus', () => {
    const fleet = globalScrape('deploy/prometheus/prometheus.yml');
    expect(samplingOf(read('deploy/package/agent.yml'), 'agent.yml')).toBe(fleet);
    expect(samplingOf(read('deploy/windows/config.yaml'), 'config.yaml')).toBe(fleet);
  });
});
