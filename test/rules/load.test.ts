import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandRuleFiles, loadRuleFiles, parseRuleText } from '../../agent/rules/load.js';
import { loadConfiguredRules } from '../../agent/rules/configured.js';
import { configSchema } from '../../agent/config/schema.js';
import { ROOT } from '../helpers/agent.js';

const errorsOf = (yaml: string): string[] => {
  const r = parseRuleText(yaml, 'site.yml');
  if (r.ok) throw new Error('accepted');
  return r.errors;
};

describe('rule files', () => {
  it('loads the shipped rules: every group, alert and recording rule', () => {
    const r = loadRuleFiles(expandRuleFiles([], '/nowhere').files);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.groups.map((g) => g.name)).toEqual(['contention-kernel', 'contention-memory', 'contention-limits', 'contention-saturation', 'contention-agent']);
    const rules = r.groups.flatMap((g) => g.rules);
    expect(rules.filter((x) => x.kind === 'record').map((x) => x.name)).toEqual(['contention:memory_headroom_bytes']);
    expect(rules.find((x) => x.name === 'KernelPoolGrowing')).toMatchObject({ kind: 'alert', forMs: 3_600_000 });
  });

  it('names the file, group, alert and construct of anything outside the subset', () => {
    const errors = errorsOf(`
groups:
  - name: site
    rules:
      - alert: Busy
        expr: sum by (instance) (rate(contention_disk_queue_weighted_seconds_total[5m])) > 4
        for: 5m
      - alert: Quiet
        expr: contention_cpus > 1
        annotations:
          summary: "{{ $value | humanize }} CPUs"
      - record: site:x
        expr: max_over_time(contention_cpus[5m])
`);
    expect(errors).toEqual([
      'site.yml: group site: alert Busy: unsupported construct: aggregation ("sum by (instance) (rate(contention_disk_queue_weighted_se...")',
      'site.yml: group site: alert Quiet: annotations.summary: unsupported template function "humanize" in {{ $value | humanize }}',
      'site.yml: group site: record site:x: unsupported construct: function max_over_time() ("max_over_time(contention_cpus[5m])")',
    ]);
  });

  it('refuses settings it would otherwise ignore, and bad durations and syntax', () => {
    expect(errorsOf('groups:\n  - name: g\n    interval: 30s\n    rules:\n      - alert: A\n        expr: up == 0\n        keep_firing_for: 5m\n')).toEqual([
      'site.yml: group g: unsupported construct: group setting interval (local evaluation runs every group at each sample)',
      'site.yml: group g: alert A: unsupported construct: rule setting keep_firing_for',
    ]);
    expect(errorsOf('groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5 minutes\n')).toEqual([
      'site.yml: group g: alert A: expected for as a Prometheus duration like "5m" (got "5 minutes")',
    ]);
    expect(errorsOf('groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n')[0]).toMatch(/^site\.yml: group g: alert A: syntax error at character/);
  });

  it('expands globs in the file name relative to the config, and says when one matches nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-rules-'));
    writeFileSync(join(dir, 'b.yml'), 'groups: []\n');
    writeFileSync(join(dir, 'a.yml'), 'groups: []\n');
    writeFileSync(join(dir, 'c.txt'), '');
    expect(expandRuleFiles(['*.yml'], dir)).toEqual({ files: [join(dir, 'a.yml'), join(dir, 'b.yml')], errors: [] });
    expect(expandRuleFiles(['none-*.yml'], dir).errors).toEqual(['rules.files: none-*.yml: matches no file']);
  });

  it('turns local evaluation on with the shipped rules by default, and a bad rule file makes the config invalid', () => {
    const off = loadConfiguredRules(configSchema.parse({}), undefined);
    expect(off).toEqual({ ok: true, files: [] });
    const on = loadConfiguredRules(configSchema.parse({ rules: { enabled: true } }), undefined);
    expect(on.ok && on.files).toEqual([`${ROOT}rules/contention.yml`]);
    const dir = mkdtempSync(join(tmpdir(), 'ca-rules-'));
    writeFileSync(join(dir, 'bad.yml'), 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up offset 1m\n');
    const bad = loadConfiguredRules(configSchema.parse({ rules: { enabled: true, files: ['bad.yml'] } }), join(dir, 'agent.yaml'));
    expect(bad).toEqual({ ok: false, errors: [`${join(dir, 'bad.yml')}: group g: alert A: unsupported construct: offset modifier ("up offset 1m")`] });
  });
});
