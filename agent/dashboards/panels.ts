/**
 * Small builders shared by the dashboards: every panel gets the datasource variable, a unit, a
 * description (with a fixed note when it is Windows-only or policy-only), thresholds and runbook links.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { runbookLink, type RunbookName } from './runbooks.js';

export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/**
 * The hosts the dashboard shows (one, several or all: `instance` is multi-select), plus any further
 * matchers: `{job="$job", instance=~"$instance", ...}`.
 */
export const sel = (...matchers: string[]): string => `{${['job="$job"', 'instance=~"$instance"', ...matchers].join(', ')}}`;

/**
 * Who a panel is for. `windows`: it reads a metric only Windows exports (system PTEs, paged and
 * nonpaged pools). `policies`: it reads policy metrics, absent until policies are configured. Both
 * say so at the start of their description, which is how a reader of the JSON (and the tests) know.
 */
export type Audience = 'any' | 'windows' | 'policies';
export const AUDIENCE_NOTE: Record<Exclude<Audience, 'any'>, string> = {
  windows: 'Windows only: Linux has no such counter, so this panel stays empty on a Linux host.',
  policies: 'Empty until policies are configured (`policies:` in the agent config).',
};
export function audienceOf(panel: { description?: string }): Audience {
  for (const [audience, note] of Object.entries(AUDIENCE_NOTE)) if (panel.description?.startsWith(note)) return audience as Audience;
  return 'any';
}

export interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** One value per series at the end of the range (tables, stats), instead of a range. */
  readonly instant?: boolean;
}

export type Steps = dashboard.Threshold[];
const GREEN = 'green';
const ORANGE = 'orange';
const RED = 'red';
/** Higher is worse: orange from `warning`, red from `critical`. */
export const above = (warning: number, critical?: number): Steps => [
  { value: null, color: GREEN },
  { value: warning, color: ORANGE },
  ...(critical === undefined ? [] : [{ value: critical, color: RED }]),
];
/** Lower is worse: red below `critical` (or `warning` alone), orange below `warning`. */
export const below = (warning: number, critical?: number): Steps =>
  critical === undefined
    ? [{ value: null, color: RED }, { value: warning, color: GREEN }]
    : [{ value: null, color: RED }, { value: critical, color: ORANGE }, { value: warning, color: GREEN }];

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly audience?: Audience;
  readonly thresholds?: Steps;
  /** Per-series thresholds, by display name (the legend), for series judged by different rules. */
  readonly thresholdsByName?: Readonly<Record<string, Steps>>;
  readonly runbooks?: readonly RunbookName[];
  readonly links?: readonly DataLink[];
  readonly min?: number;
  readonly max?: number;
  readonly mappings?: dashboard.ValueMapping[];
  readonly width?: number;
  readonly height?: number;
}

/** A link on the values of a panel (a click on a bar, a cell, a point). */
export interface DataLink {
  readonly title: string;
  readonly url: string;
  readonly newTab?: boolean;
}

type AnyPanel = stat.PanelBuilder | bargauge.PanelBuilder | timeseries.PanelBuilder | table.PanelBuilder;

/**
 * Several hosts can be shown at once (`instance` is multi-select), so every named series says which
 * host it is: `<instance>: <legend>`. Tables show the instance as a column instead.
 */
export const withHost = (legend: string): string => (legend.includes('{{instance}}') ? legend : `{{instance}}: ${legend}`);

/** Tables want one frame of rows (format table); stats and bars one frame per series. */
function target(q: Query, refId: string, asTable: boolean): prometheus.DataqueryBuilder {
  // Only queries over the selected hosts: the fleet's counts have no instance to name.
  const legend = q.legend === undefined ? '__auto' : asTable || !q.expr.includes('$instance') ? q.legend : withHost(q.legend);
  const t = new prometheus.DataqueryBuilder().refId(refId).datasource(DATASOURCE).expr(q.expr).legendFormat(legend);
  if (!q.instant) return t.range();
  return t.instant().format(asTable ? prometheus.PromQueryFormat.Table : prometheus.PromQueryFormat.TimeSeries);
}

const linkBuilder = (l: DataLink): dashboard.DashboardLinkBuilder =>
  new dashboard.DashboardLinkBuilder(l.title).type(dashboard.DashboardLinkType.Link).url(l.url).targetBlank(l.newTab ?? false);

function decorate<P extends AnyPanel>(panel: P, spec: PanelSpec, asTable = false): P {
  const audience = spec.audience ?? 'any';
  const note = audience === 'any' ? '' : `${AUDIENCE_NOTE[audience]} `;
  panel
    .title(spec.title)
    .description(`${note}${spec.description}`)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.width ?? 8)
    .height(spec.height ?? 7)
    .targets(spec.queries.map((q, i) => target(q, String.fromCharCode(65 + i), asTable)));
  if (spec.thresholds) panel.thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(spec.thresholds));
  for (const [name, steps] of Object.entries(spec.thresholdsByName ?? {})) {
    // Matched after the host prefix, so the series of every selected host get their thresholds.
    panel.overrideByRegexp(`^(.+: )?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, [{ id: 'thresholds', value: { mode: dashboard.ThresholdsMode.Absolute, steps } }]);
  }
  if (spec.runbooks?.length) panel.links(spec.runbooks.map((r) => linkBuilder(runbookLink(r))));
  if (spec.links?.length) panel.dataLinks(spec.links.map(linkBuilder));
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  if (spec.mappings) panel.mappings(spec.mappings);
  return panel;
}

const lastValue = (): common.ReduceDataOptionsBuilder => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

/** One big number per series, coloured by the thresholds. */
export const statPanel = (spec: PanelSpec): stat.PanelBuilder =>
  decorate(new stat.PanelBuilder(), spec)
    .reduceOptions(lastValue())
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.Area)
    .textMode(common.BigValueTextMode.Auto);

/** One horizontal bar per series: several tables, pools, disks or groups side by side. */
export const barPanel = (spec: PanelSpec): bargauge.PanelBuilder =>
  decorate(new bargauge.PanelBuilder(), spec)
    .reduceOptions(lastValue())
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .valueMode(common.BarGaugeValueMode.Color)
    .showUnfilled(true);

/** The history behind a figure, with the thresholds drawn as dashed lines. */
export const timeSeriesPanel = (spec: PanelSpec, opts: { stack?: boolean } = {}): timeseries.PanelBuilder => {
  const panel = decorate(new timeseries.PanelBuilder(), spec)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .lineWidth(1)
    .fillOpacity(opts.stack ? 60 : 10)
    .showPoints(common.VisibilityMode.Never);
  if (opts.stack) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)).drawStyle(common.GraphDrawStyle.Bars);
  if (spec.thresholds || spec.thresholdsByName) {
    panel.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  return panel;
};

/** Rows of labels and a value: instant queries, merged when there are several. */
export const tablePanel = (
  spec: PanelSpec,
  opts: { hide?: readonly string[]; show?: readonly string[]; rename?: Readonly<Record<string, string>>; sortBy?: { field: string; desc: boolean }; order?: readonly string[] } = {},
): table.PanelBuilder => {
  const panel = decorate(new table.PanelBuilder(), spec, true).cellHeight(common.TableCellHeight.Sm);
  if (spec.queries.length > 1) panel.withTransformation({ id: 'merge', options: {} });
  const hidden = ['Time', '__name__', 'job', 'instance', ...(opts.hide ?? [])].filter((f) => !opts.show?.includes(f));
  panel.withTransformation({
    id: 'organize',
    options: {
      excludeByName: Object.fromEntries(hidden.map((h) => [h, true])),
      renameByName: { ...opts.rename },
      ...(opts.order ? { indexByName: Object.fromEntries(opts.order.map((f, i) => [f, i])) } : {}),
    },
  });
  if (opts.sortBy) panel.sortBy([new common.TableSortByFieldStateBuilder().displayName(opts.sortBy.field).desc(opts.sortBy.desc)]);
  return panel;
};

export const rowOf = (title: string): dashboard.RowBuilder => new dashboard.RowBuilder(title);

/**
 * Numbers the panels and rows in order (Grafana needs unique ids for links and "view panel"), and
 * returns the finished dashboard.
 */
export function finish(builder: dashboard.DashboardBuilder): dashboard.Dashboard {
  const built = builder.build();
  let id = 0;
  for (const panel of built.panels ?? []) {
    panel.id = ++id;
    if (panel.type === 'row') continue;
    const { links = [], fieldConfig } = panel as dashboard.Panel;
    for (const link of [...links, ...(fieldConfig?.defaults.links ?? [])]) delete link.placement;
  }
  // The SDK's default puts links inside the controls menu; the dashboards' menu belongs in plain sight.
  for (const link of built.links ?? []) delete link.placement;
  return built;
}

const TAG = 'contention-agent';

/**
 * A dashboard with the settings all three share: the tag, a shared crosshair, and a menu of the
 * other contention-agent dashboards that keeps the time range and the host.
 */
export function newDashboard(spec: { title: string; uid: string; description: string; from: string; refresh: string }): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([TAG])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: spec.from, to: 'now' })
    .refresh(spec.refresh)
    .link(
      new dashboard.DashboardLinkBuilder('contention-agent')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
}
