/**
 * Policies: which WSRM-style policy manages the host, what broke its limits, and what the agent did
 * about it (log, stop, trim), stops included. Every panel is empty until policies are configured.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as common from '@grafana/grafana-foundation-sdk/common';
import { finish, newDashboard, rowOf, sel, statPanel, tablePanel, timeSeriesPanel, type DataLink } from './panels.js';
import { hostVariables } from './variables.js';
import { hostAnnotations } from './annotations.js';

export const POLICIES_UID = 'contention-policies';

const actions = `contention_policy_actions_total${sel()}`;
const violations = `contention_policy_violations_total${sel()}`;
/** The agent's own page lists recent policy actions with the evidence each stop captured. */
const agentPage: DataLink = { title: 'Open the agent\'s page on ${instance}', url: 'http://${instance}/', newTab: true };

export function policies(): dashboard.Dashboard {
  const builder = newDashboard({
    title: 'Policies',
    uid: POLICIES_UID,
    description: 'The managing policy of one host, the limits its process groups broke, and the actions the agent took: logs, trims and stops.',
    from: 'now-24h',
    refresh: '1m',
  });
  for (const v of hostVariables()) builder.withVariable(v);
  for (const a of hostAnnotations()) builder.annotation(a);
  builder.withRow(rowOf('Now'));
  builder.withPanel(
    statPanel({
      title: 'Active policy',
      description: 'The one policy managing the host now (active_policy, or the calendar\'s latest switch).',
      audience: 'policies',
      unit: 'none',
      queries: [{ expr: `contention_policy_active${sel()} == 1`, legend: '{{policy}}', instant: true }],
      mappings: [{ type: dashboard.MappingType.ValueToText, options: { '1': { text: 'active', color: 'green' } } }],
      width: 6,
    }).textMode(common.BigValueTextMode.Name).graphMode(common.BigValueGraphMode.None),
  );
  builder.withPanel(
    tablePanel(
      {
        title: 'Violations in the time range',
        description: 'Limits broken in the dashboard\'s time range, by policy, criteria and measure (committed_memory, working_set, handles). A violation is recorded whatever the action.',
        audience: 'policies',
        unit: 'short',
        queries: [{ expr: `sum by (policy, criteria, measure) (increase(${violations}[$__range])) > 0`, instant: true }],
        width: 9,
      },
      { rename: { Value: 'violations' }, sortBy: { field: 'violations', desc: true } },
    ).decimals(0),
  );
  builder.withPanel(
    tablePanel(
      {
        title: 'Stops in the time range',
        description: 'Processes the agent stopped (action="stop"), or refused to, in the time range, by policy, criteria and outcome. Before each stop the agent captures evidence (status, smaps_rollup, limits, fds, cmdline, the metric\'s recent history) into a directory; the audit log line of the stop names it, and the agent\'s own page lists recent actions with it: click a row.',
        audience: 'policies',
        unit: 'short',
        queries: [{ expr: `sum by (policy, criteria, outcome) (increase(contention_policy_actions_total${sel('action="stop"')}[$__range])) > 0`, instant: true }],
        links: [agentPage],
        width: 9,
      },
      { rename: { Value: 'stops' }, sortBy: { field: 'stops', desc: true } },
    ).decimals(0),
  );
  builder.withRow(rowOf('Over time'));
  builder.withPanel(
    timeSeriesPanel(
      {
        title: 'Violations by policy and criteria',
        description: 'Limits broken per second, by policy, criteria and measure.',
        audience: 'policies',
        unit: 'cps', min: 0,
        queries: [{ expr: `sum by (policy, criteria, measure) (rate(${violations}[$__rate_interval]))`, legend: '{{policy}} {{criteria}} {{measure}}' }],
        width: 12,
      },
      { stack: true },
    ),
  );
  builder.withPanel(
    timeSeriesPanel(
      {
        title: 'Actions by policy, criteria and outcome',
        description: 'Actions taken per second (log, trim, stop), by policy, criteria, action and outcome.',
        audience: 'policies',
        unit: 'cps', min: 0,
        queries: [{ expr: `sum by (policy, criteria, action, outcome) (rate(${actions}[$__rate_interval]))`, legend: '{{policy}} {{criteria}} {{action}} {{outcome}}' }],
        links: [agentPage],
        width: 12,
      },
      { stack: true },
    ),
  );
  builder.withPanel(
    timeSeriesPanel({
      title: 'Active policy over time',
      description: 'Which policy managed the host when: calendar switches show as one series ending and another starting.',
      audience: 'policies',
      unit: 'bool', min: 0, max: 1,
      queries: [{ expr: `contention_policy_active${sel()}`, legend: '{{policy}}' }],
      width: 24,
    }),
  );
  return finish(builder);
}
