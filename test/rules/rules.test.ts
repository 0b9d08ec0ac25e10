import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers/agent.js';
import { requireTool } from '../helpers/tools.js';
import { ALERT_THRESHOLDS, ruleThreshold } from '../helpers/alert-thresholds.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const file = `${ROOT}rules/contention.yml`;
const rules: Rule[] = (parse(readFileSync(file, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert);
const STATE_ALERTS = new Set(['LeakSuspected', 'CollectorFailing', 'AgentDown', 'AgentAbsent', 'CaptureNotPossible']);

describe('rules/contention.yml', () => {
  it('passes promtool check rules', () => {
    const out = spawnSync(requireTool('promtool'), ['check', 'rules', file], { encoding: 'utf8' });
    expect(out.stdout + out.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(out.status).toBe(0);
  });

  it('passes its promtool unit tests: every alert at its boundaries', () => {
    const out = spawnSync(requireTool('promtool'), ['test', 'rules', `${ROOT}rules/tests/contention_test.yml`], { encoding: 'utf8' });
    expect(out.stdout + out.stderr, out.stdout + out.stderr).toMatch(/SUCCESS/);
    expect(out.status).toBe(0);
  });

  it('unit-tests every alert', () => {
    const tests = readFileSync(`${ROOT}rules/tests/contention_test.yml`, 'utf8');
    for (const a of alerts) expect(tests, a.alert).toContain(`alertname: ${a.alert}\n`);
  });

  it('gives every alert a severity, a summary, a description with the value, and a runbook that exists', () => {
    for (const a of alerts) {
      expect(['warning', 'critical'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      // Alerts on a 0/1 state (up, success, suspected) have no value worth printing.
      if (!STATE_ALERTS.has(a.alert!)) expect(`${a.annotations?.summary} ${a.annotations?.description}`, a.alert).toContain('$value');
      const runbook = a.annotations?.runbook_url ?? '';
      expect(runbook, a.alert).toMatch(/^docs\/runbooks\/\w+\.md$/);
      expect(existsSync(`${ROOT}${runbook}`), runbook).toBe(true);
    }
  });

  it('uses the thresholds the agent judges by', () => {
    const expected = ALERT_THRESHOLDS;
    for (const [alert, value] of Object.entries(expected)) {
      const rule = alerts.find((a) => a.alert === alert);
      expect(rule, alert).toBeDefined();
      expect({ alert, threshold: ruleThreshold(rule!.expr) }).toEqual({ alert, threshold: value });
    }
  });
});
