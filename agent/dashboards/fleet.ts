/**
 * Fleet: every host on one screen, worst first, with what is wrong on each, how many of them are
 * in each condition, which stopped reporting, and what only the fleet shows (rules/fleet.yml).
 * Each row links to the host's own dashboards.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { firingPerHost, hostScore, hostsAtRank, stoppedHosts, suspectsPerHost } from './fleet-queries.js';
import { HOST_CONTENTION_UID } from './host-contention.js';
import { DATASOURCE, finish, newDashboard, rowOf, statPanel, tablePanel, timeSeriesPanel, type Steps } from './panels.js';
import { PROCESSES_UID } from './processes-and-leaks.js';
import { withRunbookLabel } from './runbooks.js';
import { datasourceVariable, runbooksVariable } from './variables.js';

export const FLEET_UID = 'contention-fleet';

const toHost = (uid: string, slug: string, title: string) => ({
  title,
  url: `/d/${uid}/${slug}?\${__url_time_range}&\${datasource:queryparam}&var-job=\${__data.fields.job}&var-instance=\${__data.fields.instance}`,
});

/** Red from one host on: any host in that condition is news. */
const anyIsBad = (color: string): Steps => [{ value: null, color: 'green' }, { value: 1, color }];

const CONDITIONS = [
  { legend: 'not reporting', expr: hostsAtRank(6), color: 'red' },
  { legend: 'critical firing', expr: hostsAtRank(5), color: 'red' },
  { legend: 'warning firing', expr: hostsAtRank(4), color: 'orange' },
  { legend: 'pending', expr: hostsAtRank(2, 3), color: 'yellow' },
  { legend: 'ok', expr: hostsAtRank(0), color: 'green' },
] as const;

/** Jobs with at least one agent; several or all at once. */
const jobsVariable = (): dashboard.QueryVariableBuilder =>
  new dashboard.QueryVariableBuilder('job')
    .label('Job')
    .datasource(DATASOURCE)
    .query('label_values(contention_host_info, job)')
    .definition('label_values(contention_host_info, job)')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.+');

/** Seconds beyond three sampling intervals before a host counts as not reporting; hidden, set in the settings. */
const slackVariable = (): dashboard.TextBoxVariableBuilder =>
  new dashboard.TextBoxVariableBuilder('slack')
    .label('Reporting slack (s)')
    .description('Seconds a host may be silent beyond three sampling intervals before it counts as not reporting: at least the scrape interval, and for pushing hosts the remote write batch deadline and backoff.')
    .defaultValue('60')
    .hide(dashboard.VariableHide.HideVariable);

export function fleet(): dashboard.Dashboard {
  const builder = newDashboard({
    title: 'Fleet',
    uid: FLEET_UID,
    description: 'Every host running contention-agent, worst first: its worst condition, firing alerts and leak suspects; the hosts in each condition; the hosts that stopped reporting; and the findings only a fleet shows.',
    from: 'now-6h',
    refresh: '1m',
  });
  for (const v of [datasourceVariable(), jobsVariable(), slackVariable(), runbooksVariable()]) builder.withVariable(v);
  builder.withRow(rowOf('Fleet now'));
  builder.withPanel(
    statPanel({
      title: 'Hosts by condition',
      description: 'Hosts by their worst condition: not reporting (no sample for three intervals and the reporting slack), a critical alert firing, another alert firing, an alert pending, or nothing. Alerts are Prometheus\'s ALERTS for rules/contention.yml or the agent\'s own (rules.enabled), which pushing hosts bring with them.',
      unit: 'short',
      queries: CONDITIONS.map((c) => ({ expr: c.expr, legend: c.legend, instant: true })),
      thresholdsByName: Object.fromEntries(CONDITIONS.map((c) => [c.legend, c.legend === 'ok' ? [{ value: null, color: 'green' }] : anyIsBad(c.color)])),
      width: 24,
      height: 4,
    }).graphMode(common.BigValueGraphMode.None),
  );
  builder.withPanel(
    tablePanel(
      {
        title: 'Hosts, worst first',
        description: 'One row per host, worst condition first: not reporting, then critical alerts firing, other alerts firing, critical pending, other pending, then nothing; ties go to the host with more firing alerts, then more leak suspects (the score column encodes that order). Click a row for the host\'s dashboards.',
        unit: 'none',
        queries: [
          { expr: hostScore, instant: true },
          { expr: firingPerHost, instant: true },
          { expr: suspectsPerHost, instant: true },
        ],
        links: [toHost(HOST_CONTENTION_UID, 'host-contention', 'Host contention on ${__data.fields.instance}'), toHost(PROCESSES_UID, 'processes-and-leaks', 'Processes and leaks on ${__data.fields.instance}')],
        width: 16,
        height: 14,
      },
      {
        show: ['instance', 'job'],
        rename: { alertname: 'worst condition', alertstate: 'state', 'Value #A': 'score', 'Value #B': 'firing alerts', 'Value #C': 'leak suspects' },
        order: ['instance', 'job', 'alertname', 'severity', 'alertstate', 'Value #B', 'Value #C', 'Value #A'],
        sortBy: { field: 'score', desc: true },
      },
    ).decimals(0),
  );
  builder.withPanel(
    tablePanel(
      {
        title: 'Hosts that stopped reporting',
        description: 'Hosts seen in the time range whose latest sample is older than three sampling intervals plus the reporting slack (a hidden variable, 60 s), by the time since it (the agent\'s sample clock, so scraped and pushing hosts count alike). A scraped one also fires AgentDown; a pushing one has nobody else to say so.',
        unit: 's',
        queries: [{ expr: `sort_desc(${stoppedHosts})`, instant: true }],
        links: [toHost(HOST_CONTENTION_UID, 'host-contention', 'Last data of ${__data.fields.instance}')],
        width: 8,
        height: 7,
      },
      { show: ['instance', 'job'], rename: { Value: 'since last sample' }, sortBy: { field: 'since last sample', desc: true } },
    ),
  );
  builder.withPanel(
    tablePanel(
      {
        title: 'Fleet-wide findings',
        description: 'Alerts of rules/fleet.yml, which see what one host cannot: the same process group leaking on several hosts at once (a release), a kernel pool growing on many hosts of one OS build (a driver), hosts whose capture readiness is missing. Load rules/fleet.yml in Prometheus\'s rule_files. Click a row for its runbook.',
        unit: 'none',
        queries: [{ expr: withRunbookLabel('ALERTS{alertname=~"Fleet.+"}'), instant: true }],
        links: [{ title: 'Runbook: ${__data.fields.runbook}', url: '${runbooks}/${__data.fields.runbook}.md', newTab: true }],
        width: 8,
        height: 7,
      },
      { hide: ['Value'], sortBy: { field: 'alertstate', desc: false } },
    ),
  );
  builder.withRow(rowOf('Over time'));
  builder.withPanel(
    timeSeriesPanel(
      {
        title: 'Hosts by condition over time',
        description: 'How many hosts were in each worst condition: a step up across many hosts at once is a fleet event (a release, a patch, a network cut), which the fleet-wide rules judge.',
        unit: 'short', min: 0,
        queries: CONDITIONS.map((c) => ({ expr: c.expr, legend: c.legend })),
        width: 24,
      },
      { stack: true },
    ),
  );
  return finish(builder);
}
