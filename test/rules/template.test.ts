import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { goF, goG } from '../../agent/rules/go-format.js';
import { compileTemplate, humanize1024, humanizeDuration, TemplateError } from '../../agent/rules/template.js';
import { requireTool } from '../helpers/tools.js';

const render = (text: string, value: number, labels: Record<string, string> = {}): string => compileTemplate(text)({ labels, value });

describe('alert templates', () => {
  it('renders $value and $labels, a missing label as empty, and text around actions as it is', () => {
    expect(render('Free {{ $value }} on {{ $labels.instance }}{{ $labels.nope }}.', 9999, { instance: 'h1' })).toBe('Free 9999 on h1.');
    expect(render('{{ $value | humanizePercentage }} free', 0.099)).toBe('9.9% free');
    expect(render('{{ $value | printf "%.1f" }} per CPU', 2.25)).toBe('2.2 per CPU');
    expect(render('{{ $value | humanize1024 }}B', 178_013_184)).toBe('169.8MiB');
    expect(render('{{ $value | humanizeDuration }} old', 180)).toBe('3m 0s old');
  });

  it('formats numbers as Go does: shortest %v with exponents from 1e21 and below 1e-4, ties to even', () => {
    expect(goG(1e6, -1)).toBe('1e+06');
    expect(goG(123456, -1)).toBe('123456');
    expect(goG(1234567, -1)).toBe('1.234567e+06');
    expect(goG(0.0001, -1)).toBe('0.0001');
    expect(goG(0.00001, -1)).toBe('1e-05');
    expect(goG(12345, 4)).toBe('1.234e+04');
    expect(goG(50, 4)).toBe('50');
    expect(goG(NaN, 4)).toBe('NaN');
    expect(goG(Infinity, -1)).toBe('+Inf');
    expect(goF(0.25, 1)).toBe('0.2');
    expect(goF(0.35, 1)).toBe('0.3');
    expect(goF(-0.04, 1)).toBe('-0.0');
    expect(goF(9.96, 1)).toBe('10.0');
    expect(humanize1024(1536)).toBe('1.5ki');
    expect(humanize1024(0.5)).toBe('0.5');
    expect(humanizeDuration(90061)).toBe('1d 1h 1m 1s');
    expect(humanizeDuration(0.5)).toBe('500ms');
    expect(humanizeDuration(1.5)).toBe('1.5s');
  });

  it('refuses constructs outside the subset when compiled, naming them', () => {
    const refused = (text: string): string => {
      try {
        compileTemplate(text);
      } catch (err) {
        expect(err).toBeInstanceOf(TemplateError);
        return (err as TemplateError).construct;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(refused('{{ $value | humanize }}')).toBe('humanize');
    expect(refused('{{ if gt $value 1.0 }}big{{ end }}')).toBe('if gt $value 1.0');
    expect(refused('{{ $externalLabels.site }}')).toBe('$externalLabels.site');
    expect(refused('{{ $value | printf "%d" }}')).toBe('printf "%d"');
    expect(refused('{{- $value }}')).toBe('{{- $value }}');
    expect(refused('{{ $value')).toBe('{{');
  });

  it('renders tricky values exactly as Prometheus does (promtool renders the same templates)', () => {
    const values = [0, 1, -1, 0.5, 0.099, 0.0995, 0.12345, 0.35, 2.25, 2.35, 12345, 123456, 1234567, 1e21, 1e-5, 0.0001234, 1023, 1024, 1536, 178013184, 1.5e12, 59.9, 60, 3599.5, 86400, 90061, 0.5e-3, 7.25, 9.95];
    const templates = {
      plain: '{{ $value }}',
      percentage: '{{ $value | humanizePercentage }}',
      binary: '{{ $value | humanize1024 }}',
      duration: '{{ $value | humanizeDuration }}',
      fixed: '{{ $value | printf "%.1f" }}',
      general: '{{ $value | printf "%.3g" }}',
      label: '{{ $labels.i }} of {{ $labels.instance }}',
    };
    const dir = mkdtempSync(join(tmpdir(), 'ca-templates-'));
    writeFileSync(join(dir, 'rules.yml'), stringify({ groups: [{ name: 't', rules: [{ alert: 'Rendered', expr: 'm', annotations: templates }] }] }));
    const alerts = values.map((v, i) => ({
      exp_labels: { i: String(i), instance: 'h' },
      exp_annotations: Object.fromEntries(Object.entries(templates).map(([k, t]) => [k, render(t, v, { i: String(i), instance: 'h' })])),
    }));
    const test = {
      rule_files: [join(dir, 'rules.yml')],
      evaluation_interval: '1m',
      tests: [{ interval: '1m', input_series: values.map((v, i) => ({ series: `m{i="${i}",instance="h"}`, values: String(v) })), alert_rule_test: [{ eval_time: '0m', alertname: 'Rendered', exp_alerts: alerts }] }],
    };
    writeFileSync(join(dir, 'test.yml'), stringify(test, { lineWidth: 0 }));
    const out = spawnSync(requireTool('promtool'), ['test', 'rules', join(dir, 'test.yml')], { encoding: 'utf8' });
    expect(out.status, `${out.stdout}${out.stderr}`.slice(0, 6000)).toBe(0);
  });
});
