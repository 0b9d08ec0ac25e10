/**
 * Template variables. The datasource is a variable, not an `__inputs` entry, so the same JSON works
 * imported by hand and under file provisioning.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE } from './panels.js';
import { RUNBOOKS_URL } from './runbooks.js';

export const datasourceVariable = (): dashboard.DatasourceVariableBuilder =>
  new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');

const labelValues = (name: string, label: string, query: string): dashboard.QueryVariableBuilder =>
  new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);

/** Scrape jobs with at least one agent in them. */
export const jobVariable = (): dashboard.QueryVariableBuilder => labelValues('job', 'Job', 'label_values(contention_host_info, job)');

/** The agents (hosts) of the chosen job: one, several side by side, or all. */
export const instanceVariable = (): dashboard.QueryVariableBuilder =>
  labelValues('instance', 'Host', 'label_values(contention_host_info{job="$job"}, instance)').multi(true).includeAll(true).allValue('.+');

/** Process groups of the chosen host; several at once, or all. */
export const groupVariable = (): dashboard.QueryVariableBuilder =>
  labelValues('group', 'Process group', 'label_values(contention_process_group_private_bytes{job="$job", instance=~"$instance"}, group)')
    .multi(true)
    .includeAll(true)
    .allValue('.+');

/** Where docs/runbooks is served; hidden, set in the dashboard's settings or with `&var-runbooks=`. */
export const runbooksVariable = (): dashboard.TextBoxVariableBuilder =>
  new dashboard.TextBoxVariableBuilder('runbooks')
    .label('Runbooks URL')
    .description('Base URL of the runbooks folder (docs/runbooks): the alert panels link <this>/<AlertName>.md.')
    .defaultValue(RUNBOOKS_URL)
    .hide(dashboard.VariableHide.HideVariable);

/** The variables every dashboard has, in order. */
export const hostVariables = (): Array<{ build(): dashboard.VariableModel }> => [datasourceVariable(), jobVariable(), instanceVariable(), runbooksVariable()];
