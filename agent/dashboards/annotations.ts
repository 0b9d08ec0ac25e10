/**
 * Events marked on the host dashboards, from the agent's own metrics (scraped or pushed alike):
 * agent restarts, policy actions, and the evidence captured before each stop.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE, sel } from './panels.js';

export interface AnnotationSpec {
  readonly name: string;
  readonly expr: string;
  readonly title: string;
  readonly text: string;
  readonly color: string;
}

export const HOST_ANNOTATIONS: readonly AnnotationSpec[] = [
  {
    name: 'Agent restarts',
    // The start time changes only when the agent (or its host) restarts; a reload keeps it.
    expr: `changes(process_start_time_seconds${sel()}[$__rate_interval]) > 0`,
    title: 'agent restarted on {{instance}}',
    text: 'process_start_time_seconds changed: the agent started again (host reboot, service restart or crash). Its history and leak trends start over.',
    color: 'blue',
  },
  {
    name: 'Policy actions',
    expr: `sum by (job, instance, policy, criteria, action, outcome) (increase(contention_policy_actions_total${sel('action=~"stop|trim|log"')}[$__rate_interval])) > 0`,
    title: 'policy {{policy}}: {{action}} ({{outcome}}) on {{instance}}',
    text: 'criteria {{criteria}}: a process broke an allocation limit and the policy acted. The audit log has the process and the measure.',
    color: 'orange',
  },
  {
    name: 'Captures',
    // Every stop the policy carries out captures evidence first (enforcement.evidence_dir).
    expr: `sum by (job, instance, policy, criteria) (increase(contention_policy_actions_total${sel('action="stop"', 'outcome=~"stopped|killed"')}[$__rate_interval])) > 0`,
    title: 'evidence captured on {{instance}} before a stop',
    text: 'policy {{policy}}, criteria {{criteria}}: the agent wrote an evidence directory (status, smaps_rollup, limits, fds, cmdline, recent history) before stopping the process; its page and the audit log name it.',
    color: 'red',
  },
];

export const hostAnnotations = (): dashboard.AnnotationQueryBuilder[] =>
  HOST_ANNOTATIONS.map((a) =>
    new dashboard.AnnotationQueryBuilder()
      .name(a.name)
      .datasource(DATASOURCE)
      .enable(true)
      .iconColor(a.color)
      .expr(a.expr)
      .titleFormat(a.title)
      .textFormat(a.text)
      .tagKeys('instance')
      .step('15s'),
  );
