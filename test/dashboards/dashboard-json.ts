import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { DASHBOARDS } from '../../agent/dashboards/index.js';
import { ROOT } from '../helpers/agent.js';

/** The parts of the committed dashboard JSON the tests read. */
export interface PanelJson {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string; refId: string; instant?: boolean; datasource?: { uid?: string } }>;
  links?: Array<{ title: string; url: string }>;
  fieldConfig?: {
    defaults: { unit?: string; links?: Array<{ title: string; url: string }>; thresholds?: { steps: Array<{ value: number | null }> } };
    overrides: Array<{ properties: Array<{ id: string; value?: { steps?: Array<{ value: number | null }> } }> }>;
  };
  panels?: PanelJson[];
}
export interface VariableJson {
  type: string;
  name: string;
  query?: string;
  datasource?: { uid?: string };
}
export interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  __inputs?: unknown;
}

export const committed = (file: string): string => readFileSync(`${ROOT}dashboards/${file}`, 'utf8');

/** Every committed dashboard, parsed, with its file name. */
export const DASHBOARD_FILES = DASHBOARDS.map(({ file }) => ({ file, json: JSON.parse(committed(file)) as DashboardJson }));

/** Panels that show data (rows left out, collapsed rows' panels included). */
export function dataPanels(d: DashboardJson): PanelJson[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/** What Grafana puts in place of a variable; `$__rate_interval` as for a 1 s scrape interval. */
export interface Substitutions {
  readonly job: string;
  readonly instance: string;
  readonly group?: string;
}
export function substitute(expr: string, s: Substitutions): string {
  const values: Record<string, string> = {
    __rate_interval: '5s',
    __interval: '1s',
    __range: '1m',
    job: s.job,
    instance: s.instance,
    group: s.group ?? '.+',
    slack: '60',
  };
  return expr.replace(/\$\{?([A-Za-z_]\w*)\}?/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no substitution for ${whole} in ${expr}`);
    return value;
  });
}

/** A Prometheus query variable's `label_values(selector, label)`, split. */
export function labelValuesQuery(query: string): { selector: string; label: string } {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
  if (!m) throw new Error(`not a label_values() query: ${query}`);
  return { selector: m[1]!, label: m[2]! };
}

/** Parses PromQL with Prometheus's own grammar: the syntax errors found, and the metric names it reads. */
export function parsePromql(expr: string): { errors: string[]; metrics: string[] } {
  const errors: string[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.from + 20))}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}

/** All threshold values a panel colours by: its defaults and every per-series override. */
export function thresholdValues(panel: PanelJson): number[] {
  const steps = [
    ...(panel.fieldConfig?.defaults.thresholds?.steps ?? []),
    ...(panel.fieldConfig?.overrides ?? []).flatMap((o) => o.properties.filter((p) => p.id === 'thresholds').flatMap((p) => p.value?.steps ?? [])),
  ];
  return steps.map((s) => s.value).filter((v): v is number => v !== null);
}
