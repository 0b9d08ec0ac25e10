/**
 * Processes and leaks: who holds the memory, handles and threads; what grows, how surely, and when
 * it runs out; a drill-down from a process group to its processes through the `group` variable.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { above, barPanel, below, finish, newDashboard, rowOf, sel, tablePanel, timeSeriesPanel, type DataLink, type PanelSpec } from './panels.js';
import { THRESHOLDS as T } from '../detect/thresholds.js';
import { groupVariable, hostVariables } from './variables.js';
import { hostAnnotations } from './annotations.js';

export const PROCESSES_UID = 'contention-processes';

/** The trend test's default confidence for a leak (`detection.min_confidence`). */
const MIN_CONFIDENCE = 0.99;
/** The horizon of ProcessGroupLeakExhaustsMemory: a group that fills memory within 4 hours. */
const EXHAUSTION_HORIZON_SECONDS = 4 * 3600;
const DAY = 86_400;
const TOP = 10;

const inGroup = sel('group=~"$group"');
/**
 * Opens this dashboard on one group, keeping the time range and the host. A series names its group
 * in its labels; a table row in its `group` column.
 */
const drillToGroup = (group: '${__field.labels.group}' | '${__data.fields.group}'): DataLink => ({
  title: `Show group ${group}`,
  url: `/d/${PROCESSES_UID}/processes-and-leaks?\${__url_time_range}&\${datasource:queryparam}&\${job:queryparam}&\${instance:queryparam}&var-group=${group}`,
});
const seriesGroup = drillToGroup('${__field.labels.group}');
const rowGroup = drillToGroup('${__data.fields.group}');

const measures = [
  { key: 'private_bytes', what: 'private bytes', unit: 'bytes', note: 'Private bytes: on Linux resident anonymous memory plus swap (RssAnon + VmSwap), on Windows Private Bytes.' },
  { key: 'handles', what: 'handles', unit: 'short', note: 'Handles: on Linux open file descriptors, on Windows Handle Count.' },
  { key: 'threads', what: 'threads', unit: 'short', note: 'Threads of the processes.' },
] as const;

const cpuOf = `contention_process_cpu_seconds_per_second${inGroup}`;
const ioOf = `contention_process_io_read_bytes_per_second${inGroup} + contention_process_io_write_bytes_per_second${inGroup}`;
const fdShare = `contention_process_handles${inGroup} / contention_process_open_files_limit${inGroup}`;

/** Who uses the CPU and the disks now, and who is nearest its own descriptor limit. */
function busiest(): Array<{ build(): dashboard.Panel }> {
  return [
    tablePanel(
      {
        title: 'Top processes by CPU',
        description: `The processes of the selected groups using the most CPU since the previous sample, in CPUs (1 = one CPU busy), by display name (the script, jar, module or app pool an interpreter or host runs). From the agent's top set: the top ${TOP} by each of CPU, memory, growth, handles, threads and I/O. Click a row to show its group.`,
        unit: 'percentunit',
        queries: [{ expr: `topk(${TOP}, ${cpuOf})`, instant: true }],
        runbooks: ['CPUAllBusy', 'CPUQueueSaturated'],
        links: [rowGroup],
        width: 8,
      },
      { rename: { Value: 'CPU' }, sortBy: { field: 'CPU', desc: true } },
    ),
    tablePanel(
      {
        title: 'Top processes by storage I/O',
        description: 'The processes of the selected groups reading and writing most from storage (Linux /proc/PID/io read_bytes + write_bytes, per second; absent for processes the agent may not read, and on Windows, whose counters mix in network I/O). Click a row to show its group.',
        unit: 'Bps',
        queries: [{ expr: `topk(${TOP}, ${ioOf})`, instant: true }],
        runbooks: ['IOPressureStall', 'DiskQueueSaturated'],
        links: [rowGroup],
        width: 8,
      },
      { rename: { Value: 'read + write' }, sortBy: { field: 'read + write', desc: true } },
    ),
    tablePanel(
      {
        title: 'Processes nearest their open-files limit',
        description: 'Open descriptors of each process holding 64 or more, as a share of its own soft RLIMIT_NOFILE (Windows: handles against the 16,777,216 per-process limit). At 100% the process gets EMFILE while the host-wide file table looks fine. Orange above 90% (ProcessNearFdLimit), red above 98% (ProcessFdLimitExhausted).',
        unit: 'percentunit',
        queries: [{ expr: `topk(${TOP}, ${fdShare})`, instant: true }],
        thresholds: above(T.processFdWarning, T.processFdCritical),
        runbooks: ['ProcessFdLimit'],
        links: [rowGroup],
        width: 8,
      },
      { rename: { Value: 'share of limit' }, sortBy: { field: 'share of limit', desc: true } },
    ),
  ];
}

function topGroups(): Array<{ build(): dashboard.Panel }> {
  return measures.map((m) =>
    barPanel({
      title: `Top groups by ${m.what}`,
      description: `The ${TOP} process groups of the selected groups holding the most ${m.what}. ${m.note} Click a bar to show that group alone.`,
      unit: m.unit, min: 0,
      queries: [{ expr: `topk(${TOP}, contention_process_group_${m.key}${inGroup})`, legend: '{{group}}', instant: true }],
      links: [seriesGroup],
    }),
  );
}

function topProcesses(): Array<{ build(): dashboard.Panel }> {
  return measures.map((m) =>
    tablePanel(
      {
        title: `Top processes by ${m.what}`,
        description: `The processes of the selected groups with the most ${m.what}, from the agent's top set (the top ${TOP} by each of CPU, memory, growth, handles, threads and I/O, each with all its figures; not every process). ${m.note} Click a row to show its group.`,
        unit: m.unit,
        queries: [{ expr: `topk(${TOP}, contention_process_${m.key}${inGroup})`, instant: true }],
        links: [rowGroup],
      },
      { rename: { Value: m.what }, sortBy: { field: m.what, desc: true } },
    ),
  );
}

/** Keeps a detector series only where its subject is a leak suspect. */
const ofSuspects = (metric: string): string =>
  `${metric}${sel()} and on(instance, job, subject_kind, subject, resource) (contention_leak_suspected${sel()} == 1)`;

function leakPanels(): Array<{ build(): dashboard.Panel }> {
  const growth = (spec: Pick<PanelSpec, 'title' | 'description' | 'unit'>, metric: string): { build(): dashboard.Panel } =>
    timeSeriesPanel({
      ...spec,
      queries: [{ expr: `${metric}${sel()}`, legend: '{{subject_kind}} {{subject}} {{resource}}' }],
      runbooks: ['LeakSuspected'],
      width: 6,
    });
  return [
    tablePanel(
      {
        title: 'Leak suspects',
        description: 'Subjects whose floor rises steadily over the detection window (a leak, not a warm-up, a sawtooth or a step), with their growth rate and the trend test\'s confidence. process_group subjects are groups, process subjects name[pid], host subjects pools, tables and commit. Each fires LeakSuspected after 15 minutes.',
        unit: 'none',
        queries: [
          { expr: ofSuspects('contention_growth_bytes_per_second'), instant: true },
          { expr: ofSuspects('contention_growth_per_second'), instant: true },
          { expr: ofSuspects('contention_trend_confidence'), instant: true },
        ],
        runbooks: ['LeakSuspected'],
        width: 24,
      },
      { rename: { 'Value #A': 'growth (bytes/s)', 'Value #B': 'growth (per second)', 'Value #C': 'confidence' }, sortBy: { field: 'growth (bytes/s)', desc: true } },
    )
      .overrideByName('growth (bytes/s)', [{ id: 'unit', value: 'Bps' }])
      .overrideByName('growth (per second)', [{ id: 'unit', value: 'short' }])
      .overrideByName('confidence', [{ id: 'unit', value: 'percentunit' }]),
    barPanel({
      title: 'Time to exhaustion',
      description: 'Seconds until a limited resource runs out at its steady growth rate: commit (only where the limit is enforced), available memory, kernel tables, pools with a limit. Absent when nothing grows steadily. Red within 4 hours (the horizon of ProcessGroupLeakExhaustsMemory), orange within a day.',
      unit: 's', min: 0,
      queries: [{ expr: `contention_seconds_to_exhaustion${sel()}`, legend: '{{resource}}', instant: true }],
      thresholds: below(DAY, EXHAUSTION_HORIZON_SECONDS),
      runbooks: ['ProcessGroupLeakExhaustsMemory', 'LeakSuspected'],
      width: 6,
    }),
    growth(
      { title: 'Growth rate: memory', description: 'Robust (Theil–Sen) growth rate of the floor of each judged byte measure (private bytes, pool bytes, commit) over the detection window, for suspects and the strongest other candidates.', unit: 'Bps' },
      'contention_growth_bytes_per_second',
    ),
    growth(
      { title: 'Growth rate: handles, threads, table entries', description: 'Robust (Theil–Sen) growth rate of the floor of each judged count (handles, threads, kernel table entries in use) over the detection window, per second.', unit: 'short' },
      'contention_growth_per_second',
    ),
    timeSeriesPanel({
      title: 'Trend confidence',
      description: `Mann–Kendall confidence that the floor of each judged measure rises. A leak needs at least ${MIN_CONFIDENCE * 100}% (detection.min_confidence, default) together with growth in both halves of the window and material growth.`,
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: `contention_trend_confidence${sel()}`, legend: '{{subject_kind}} {{subject}} {{resource}}' }],
      thresholds: above(MIN_CONFIDENCE),
      runbooks: ['LeakSuspected'],
      width: 6,
    }),
  ];
}

function groupHistory(): Array<{ build(): dashboard.Panel }> {
  const perGroup = measures.map((m) =>
    timeSeriesPanel({
      title: `${m.what[0]!.toUpperCase()}${m.what.slice(1)} by group`,
      description: `${m.what[0]!.toUpperCase()}${m.what.slice(1)} summed over the processes of each selected group. ${m.note} A leak is a floor that keeps rising; a sawtooth with a flat floor is not one. Click a point to show that group alone.`,
      unit: m.unit, min: 0,
      queries: [{ expr: `contention_process_group_${m.key}${inGroup}`, legend: '{{group}}' }],
      links: [seriesGroup],
    }),
  );
  const perProcess = measures.map((m) =>
    timeSeriesPanel({
      title: `${m.what[0]!.toUpperCase()}${m.what.slice(1)} of top processes`,
      description: `${m.what[0]!.toUpperCase()}${m.what.slice(1)} of the processes of the selected groups while among the agent's top ${TOP} by that measure. ${m.note}`,
      unit: m.unit, min: 0,
      queries: [{ expr: `contention_process_${m.key}${inGroup}`, legend: '{{name}}[{{pid}}] ({{group}})' }],
    }),
  );
  return [
    ...perGroup,
    ...perProcess,
    timeSeriesPanel({
      title: 'CPU of top processes',
      description: 'CPU of the processes of the selected groups while in the agent\'s top set, in CPUs (1 = one CPU busy), by display name and pid. A runaway is a line stuck at a whole number of CPUs.',
      unit: 'short', min: 0,
      queries: [{ expr: cpuOf, legend: '{{name}}[{{pid}}] ({{group}})' }],
      runbooks: ['CPUAllBusy'],
    }),
    timeSeriesPanel({
      title: 'Storage I/O of top processes',
      description: 'Bytes per second read (positive) and written (shown as its own series) from storage by the processes of the selected groups while in the agent\'s top set (Linux /proc/PID/io).',
      unit: 'Bps', min: 0,
      queries: [
        { expr: `contention_process_io_read_bytes_per_second${inGroup}`, legend: 'read {{name}}[{{pid}}]' },
        { expr: `contention_process_io_write_bytes_per_second${inGroup}`, legend: 'write {{name}}[{{pid}}]' },
      ],
    }),
    barPanel({
      title: 'Worst open-files share by group',
      description: 'The highest share of its own descriptor limit that any process of each selected group holds (processes holding 64 or more): a group of workers where one is at its limit shows here although the group total looks small. Orange above 90% (ProcessNearFdLimit).',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: `topk(${TOP}, contention_process_group_worst_fd_ratio${inGroup})`, legend: '{{group}}', instant: true }],
      thresholds: above(T.processFdWarning, T.processFdCritical),
      runbooks: ['ProcessFdLimit'],
      links: [seriesGroup],
    }),
    timeSeriesPanel({
      title: 'Processes by group',
      description: 'Processes in each selected group. A count that only grows is a process leak (children never reaped or restarted without end).',
      unit: 'short', min: 0,
      queries: [{ expr: `contention_process_group_processes${inGroup}`, legend: '{{group}}' }],
      width: 12,
    }),
    timeSeriesPanel({
      title: 'CPU by group',
      description: 'CPU used by each selected group, in CPUs (1 = one CPU busy all the time), from the rate of its CPU seconds; members that exit keep their share.',
      unit: 'short', min: 0,
      queries: [{ expr: `rate(contention_process_group_cpu_seconds_total${inGroup}[$__rate_interval])`, legend: '{{group}}' }],
      width: 12,
    }),
  ];
}

export function processesAndLeaks(): dashboard.Dashboard {
  const builder = newDashboard({
    title: 'Processes and leaks',
    uid: PROCESSES_UID,
    description: 'Who holds memory, handles and threads on one host, what grows steadily (leak suspects), and when a limited resource runs out.',
    from: 'now-6h',
    refresh: '30s',
  });
  for (const v of [...hostVariables(), groupVariable()]) builder.withVariable(v);
  for (const a of hostAnnotations()) builder.annotation(a);
  builder.withRow(rowOf('Top now'));
  for (const p of [...busiest(), ...topGroups(), ...topProcesses()]) builder.withPanel(p);
  builder.withRow(rowOf('Leaks'));
  for (const p of leakPanels()) builder.withPanel(p);
  builder.withRow(rowOf('Groups and their processes over time'));
  for (const p of groupHistory()) builder.withPanel(p);
  return finish(builder);
}
