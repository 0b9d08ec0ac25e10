import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { catalog } from '../../agent/metrics/catalog.js';
import { expandRuleFiles } from '../../agent/rules/load.js';
import { ROOT } from '../helpers/agent.js';
import { requireTool } from '../helpers/tools.js';
import { parsePromql } from '../dashboards/dashboard-json.js';

interface Rule { alert?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }
const file = `${ROOT}rules/fleet.yml`;
const alerts: Rule[] = (parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
/** Exported once capture readiness lands (doctor and capture); the fleet rules are written against its name. */
const PINNED = new Set(['contention_capture_ready']);

describe('rules/fleet.yml', () => {
  it('passes promtool check rules and its promtool unit tests', () => {
    const check = spawnSync(requireTool('promtool'), ['check', 'rules', file], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toMatch(/SUCCESS: 4 rules found/);
    const test = spawnSync(requireTool('promtool'), ['test', 'rules', `${ROOT}rules/tests/fleet_test.yml`], { encoding: 'utf8' });
    expect(test.stdout + test.stderr, test.stdout + test.stderr).toMatch(/SUCCESS/);
    expect(test.status).toBe(0);
  });

  it('unit-tests every alert, fired and silent', () => {
    const tests = readFileSync(`${ROOT}rules/tests/fleet_test.yml`, 'utf8');
    for (const a of alerts) {
      expect(tests, a.alert).toContain(`alertname: ${a.alert}\n`);
      expect(tests, a.alert).toMatch(new RegExp(`alertname: ${a.alert}\\n\\s+exp_alerts: \\[\\]`));
    }
  });

  it('names each alert Fleet*, as the fleet dashboard lists them, with a severity, the count in its summary and a runbook that exists', () => {
    for (const a of alerts) {
      expect(a.alert).toMatch(/^Fleet[A-Z]\w+$/);
      expect(['warning', 'critical']).toContain(a.labels?.severity);
      const runbook = a.annotations?.runbook_url ?? '';
      expect(runbook).toBe(`docs/runbooks/${a.alert}.md`);
      expect(existsSync(`${ROOT}${runbook}`), runbook).toBe(true);
    }
    for (const a of alerts.filter((a) => a.alert !== 'FleetCaptureReadinessMissing')) expect(a.annotations?.summary, a.alert).toContain('{{ $value }}');
  });

  it('reads only metrics the agent exports (or capture readiness, pinned), and keeps job in every aggregation', () => {
    for (const a of alerts) {
      const { errors, metrics } = parsePromql(a.expr);
      expect(errors, a.alert).toEqual([]);
      for (const m of metrics) expect(m in catalog || PINNED.has(m), `${a.alert} reads ${m}`).toBe(true);
      for (const by of a.expr.matchAll(/\bby \(([^)]*)\)/g)) expect(by[1], a.alert).toMatch(/\bjob\b/);
    }
  });

  it('is not among the files the agent evaluates locally: one host has no fleet', () => {
    expect(expandRuleFiles([], ROOT).files.map((f) => f.replace(/.*\//, ''))).toEqual(['contention.yml']);
  });
});
