/**
 * Host contention: the first row answers "what is saturated right now" with the alert rules'
 * thresholds; the rows below hold the history behind each figure.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { THRESHOLDS as T } from '../detect/thresholds.js';
import { above, barPanel, below, finish, newDashboard, rowOf, sel, statPanel, tablePanel, timeSeriesPanel } from './panels.js';
import { withRunbookLabel } from './runbooks.js';
import { hostVariables } from './variables.js';
import { hostAnnotations } from './annotations.js';

export const HOST_CONTENTION_UID = 'contention-host';

const tableFree = `contention_kernel_table_free_entries${sel()} / contention_kernel_table_size_entries${sel()}`;
const ptesFree = `contention_kernel_table_free_entries${sel('table="system_ptes"')}`;
/**
 * Pools against a limit they can reach: a limit above physical memory (Linux's vmalloc window, 32 TiB
 * on x86-64, is address space, not memory) would show a share that never moves off zero.
 */
const poolShare =
  `contention_kernel_pool_bytes${sel()} / ignoring(source) (contention_kernel_pool_limit_bytes${sel()} ` +
  `<= ignoring(pool, source) group_left contention_memory_physical_bytes${sel()})`;
const fsAvail = `contention_filesystem_avail_bytes${sel()} / contention_filesystem_size_bytes${sel()}`;
const fsInodes = `contention_filesystem_files_free${sel()} / contention_filesystem_files${sel()}`;
const cgroupMemory = `contention_cgroup_memory_bytes${sel()} / ignoring(limit) contention_cgroup_memory_limit_bytes${sel('limit="max"')}`;
const cgroupPids = `contention_cgroup_pids${sel()} / contention_cgroup_pids_limit${sel()}`;
const commitShare = `contention_memory_commit_bytes${sel()} / contention_memory_commit_limit_bytes${sel()}`;
const availableShare = `contention_memory_available_bytes${sel()} / contention_memory_physical_bytes${sel()}`;
const perCpu = (queue: string): string => `${queue}${sel()} / on(instance, job) contention_cpus${sel()}`;
const diskAverage = `rate(contention_disk_queue_weighted_seconds_total${sel()}[$__rate_interval])`;
const stalls = (scope: string): string => `rate(contention_pressure_stalled_seconds_total${sel(`scope="${scope}"`)}[$__rate_interval])`;

const tableThresholds = below(T.kernelTableFreeWarning, T.kernelTableFreeCritical);
const poolThresholds = above(T.poolUsedWarning, T.poolUsedCritical);
const commitThresholds = above(T.commitUsedWarning, T.commitUsedCritical);
const availableThresholds = below(T.availableMemoryWarning, T.availableMemoryCritical);
/** Each pressure series is judged by its own rule: cpu some, memory and io some, and full. */
const pressureThresholds = (scope: 'some' | 'full'): Record<string, ReturnType<typeof above>> =>
  scope === 'some'
    ? { 'cpu some': above(T.cpuPressureSomeWarning), 'memory some': above(T.pressureSomeWarning), 'io some': above(T.pressureSomeWarning) }
    : { 'memory full': above(T.pressureFullWarning, T.pressureFullCritical), 'io full': above(T.pressureFullWarning, T.pressureFullCritical) };

const PRESSURE_NOTE = 'Linux only (PSI, /proc/pressure): Windows has no counterpart and the series are absent there.';

function nowRow(): Array<{ build(): dashboard.Panel }> {
  return [
    barPanel({
      title: 'Kernel tables: share free',
      description: 'Free entries of each finite kernel table as a share of its size (Linux: file_handles, pids, threads, conntrack where loaded, ephemeral_ports). Orange below 10% free (KernelTableLow), red below 2% (KernelTableExhausted): then opening files or starting processes and threads fails.',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: tableFree, legend: '{{table}}', instant: true }],
      thresholds: tableThresholds,
      runbooks: ['KernelTableLow', 'KernelTableExhausted'],
      width: 6,
    }),
    statPanel({
      title: 'Free system PTEs (Windows only)',
      description: `Free System Page Table Entries. Red below ${T.systemPtesMinFree.toLocaleString('en-US')} (FreeSystemPTEsLow): kernel address space is nearly exhausted and the host is close to hanging.`,
      audience: 'windows',
      unit: 'short',
      queries: [{ expr: ptesFree, legend: 'free PTEs' }],
      thresholds: below(T.systemPtesMinFree),
      runbooks: ['FreeSystemPTEsLow'],
      width: 3,
    }),
    barPanel({
      title: 'Kernel pools: share of limit (Windows only)',
      description: 'Kernel pool bytes against a limit the pool can reach (one no larger than physical memory): Windows\' paged and nonpaged pools against their estimated maximum. Linux has none: slab, kernel stacks and page tables are bounded only by memory, and vmalloc\'s limit is its address window (32 TiB on x86-64), never reached; see the pool history. Orange above 80% (KernelPoolNearLimit), red above 90% (KernelPoolExhausted).',
      audience: 'windows',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: poolShare, legend: '{{pool}}', instant: true }],
      thresholds: poolThresholds,
      runbooks: ['KernelPoolNearLimit', 'KernelPoolExhausted'],
      width: 5,
    }),
    statPanel({
      title: 'Commit: share of limit',
      description: 'Committed memory against the commit limit. Orange above 90% (CommitNearLimit), red above 98% (CommitExhausted) where the limit is enforced: always on Windows, only with vm.overcommit_memory=2 on Linux. Elsewhere Linux overcommits and a figure past 100% fails nothing: judge available memory instead.',
      unit: 'percentunit',
      queries: [{ expr: commitShare, legend: 'commit' }],
      thresholds: commitThresholds,
      runbooks: ['CommitNearLimit', 'CommitExhausted'],
      width: 3,
    }),
    statPanel({
      title: 'Commit limit enforced',
      description: 'Whether allocations fail at the commit limit: always on Windows; on Linux only in strict overcommit mode (vm.overcommit_memory=2). The commit alerts apply only where it is.',
      unit: 'none',
      queries: [{ expr: `contention_memory_commit_limit_enforced${sel()}`, legend: 'enforced' }],
      mappings: [{ type: dashboard.MappingType.ValueToText, options: { '0': { text: 'no (overcommit)', color: 'blue' }, '1': { text: 'yes', color: 'blue' } } }],
      width: 3,
    }),
    statPanel({
      title: 'Available memory',
      description: 'Physical memory available to new allocations without swapping, as a share of all of it. Orange below 10% (AvailableMemoryLow), red below 5% (AvailableMemoryCritical).',
      unit: 'percentunit',
      queries: [{ expr: availableShare, legend: 'available' }],
      thresholds: availableThresholds,
      runbooks: ['AvailableMemoryLow', 'AvailableMemoryCritical'],
      width: 4,
    }),
    statPanel({
      title: 'CPU queue per CPU',
      description: 'Runnable threads waiting for a CPU, per CPU, now and the highest the 1 s poller saw since the previous sample. Orange above 2 per CPU (CPUQueueSaturated, judged on the value now).',
      unit: 'short',
      queries: [
        { expr: perCpu('contention_cpu_queue_length'), legend: 'now' },
        { expr: perCpu('contention_cpu_queue_length_peak'), legend: 'peak' },
      ],
      thresholds: above(T.cpuQueuePerCpu),
      runbooks: ['CPUQueueSaturated'],
      width: 4,
    }),
    barPanel({
      title: 'Disk queue per device',
      description: 'Average I/O requests in flight on each whole disk over the rate interval (the rate of the time-weighted queue). Orange above 2 (DiskQueueSaturated).',
      unit: 'short', min: 0,
      queries: [{ expr: diskAverage, legend: '{{device}}', instant: true }],
      thresholds: above(T.diskQueue),
      runbooks: ['DiskQueueSaturated'],
      width: 5,
    }),
    barPanel({
      title: 'Pressure stalls',
      description: `Share of time tasks stalled on each resource. "some": at least one task waited; "full": all non-idle tasks waited at once. Thresholds per series as the rules: cpu some 50% (CPUPressureStall), memory and io some 20%, full 5% and 20% (MemoryPressure*, IOPressure*). ${PRESSURE_NOTE}`,
      unit: 'percentunit', min: 0, max: 1,
      queries: [
        { expr: stalls('some'), legend: '{{resource}} some', instant: true },
        { expr: stalls('full'), legend: '{{resource}} full', instant: true },
      ],
      thresholds: above(T.pressureSomeWarning),
      thresholdsByName: { ...pressureThresholds('some'), ...pressureThresholds('full') },
      runbooks: ['MemoryPressureStall', 'IOPressureStall', 'CPUQueueSaturated'],
      width: 6,
    }),
    barPanel({
      title: 'Filesystems: share available',
      description: 'Space an unprivileged writer can still use on each real filesystem (no kernel views, read-only or network mounts). Red below 5% (FilesystemSpaceExhausted), orange below 10% (FilesystemSpaceLow): writes then fail with ENOSPC.',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: fsAvail, legend: '{{mountpoint}}', instant: true }],
      thresholds: below(T.filesystemAvailWarning, T.filesystemAvailCritical),
      runbooks: ['FilesystemSpace'],
      width: 6,
    }),
    statPanel({
      title: 'OOM kills in the time range',
      description: 'Processes the kernel OOM killer killed over the dashboard\'s time range, on the host and in cgroups (OOMKill, CgroupOOMKill fire on any). The victim is gone; the kernel log names it.',
      unit: 'short',
      queries: [
        { expr: `increase(contention_oom_kills_total${sel()}[$__range])`, legend: 'host' },
        { expr: `sum(increase(contention_cgroup_oom_kills_total${sel()}[$__range])) or vector(0)`, legend: 'in cgroups' },
      ],
      thresholds: above(1),
      runbooks: ['OOMKill'],
      width: 3,
    }),
    barPanel({
      title: 'cgroups: share of their limits',
      description: 'Memory of each cgroup with a memory.max against it, and tasks of each cgroup with a pids.max against that (services and containers; the host may have memory to spare while one of them is OOM-killed). Orange above 90% (CgroupMemoryNearLimit, CgroupPidsNearLimit), red above 98% (CgroupMemoryExhausted).',
      unit: 'percentunit', min: 0, max: 1,
      queries: [
        { expr: cgroupMemory, legend: '{{cgroup}} memory', instant: true },
        { expr: cgroupPids, legend: '{{cgroup}} tasks', instant: true },
      ],
      thresholds: above(T.cgroupMemoryWarning, T.cgroupMemoryCritical),
      runbooks: ['CgroupMemoryLimit', 'CgroupPidsNearLimit'],
      width: 6,
    }),
    statPanel({
      title: 'CPU busy',
      description: 'Share of all CPU time spent busy since the previous sample: utilisation, apart from saturation (the queue). Orange above 95% (CPUAllBusy, after 10 minutes). The Processes and leaks dashboard names the processes using it.',
      unit: 'percentunit',
      queries: [{ expr: `contention_cpu_utilization_ratio${sel()}`, legend: 'busy' }],
      thresholds: above(T.cpuUtilizationWarning),
      runbooks: ['CPUAllBusy'],
      width: 3,
    }),
    tablePanel(
      {
        title: 'Firing and pending alerts',
        description: 'Alerts of rules/contention.yml for this host that Prometheus evaluates (load the file in Prometheus\'s rule_files). Pending alerts have met their condition but not yet for their `for:` time. Click a row for its runbook.',
        unit: 'none',
        queries: [{ expr: withRunbookLabel(`ALERTS${sel()}`), instant: true }],
        links: [{ title: 'Runbook: ${__data.fields.runbook}', url: '${runbooks}/${__data.fields.runbook}.md', newTab: true }],
        width: 15,
      },
      { hide: ['Value'], sortBy: { field: 'alertstate', desc: false } },
    ),
  ];
}

function historyRows(): Array<{ build(): dashboard.Panel } | dashboard.RowBuilder> {
  return [
    rowOf('Kernel tables and pools'),
    timeSeriesPanel({
      title: 'Kernel tables: share free over time',
      description: 'Free entries of each finite kernel table as a share of its size, with the KernelTableLow (10%) and KernelTableExhausted (2%) thresholds.',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: tableFree, legend: '{{table}}' }],
      thresholds: tableThresholds,
      runbooks: ['KernelTableLow', 'KernelTableExhausted'],
    }),
    timeSeriesPanel({
      title: 'Kernel table entries in use',
      description: 'Entries in use (size minus free) of each finite kernel table: a table whose use only grows is leaking (the agent\'s trend test judges it; see Processes and leaks).',
      unit: 'short', min: 0,
      queries: [{ expr: `contention_kernel_table_size_entries${sel()} - contention_kernel_table_free_entries${sel()}`, legend: '{{table}}' }],
    }),
    timeSeriesPanel({
      title: 'Free system PTEs over time (Windows only)',
      description: `Free System Page Table Entries, with the FreeSystemPTEsLow line at ${T.systemPtesMinFree.toLocaleString('en-US')}. A steady fall is a driver or process leaking kernel address space.`,
      audience: 'windows',
      unit: 'short', min: 0,
      queries: [{ expr: ptesFree, legend: 'free PTEs' }],
      thresholds: below(T.systemPtesMinFree),
      runbooks: ['FreeSystemPTEsLow'],
    }),
    timeSeriesPanel({
      title: 'Kernel pool bytes',
      description: 'Kernel memory held by each pool (Linux: slab_unreclaimable, slab_reclaimable, kernel_stack, page_tables, vmalloc; Windows: paged, nonpaged). Flat is healthy; steady growth of slab_unreclaimable (Windows: nonpaged) is a driver or subsystem leak (KernelPoolGrowing).',
      unit: 'bytes', min: 0,
      queries: [{ expr: `contention_kernel_pool_bytes${sel()}`, legend: '{{pool}}' }],
      runbooks: ['KernelPoolGrowing'],
    }),
    timeSeriesPanel({
      title: 'Kernel pools: share of limit over time (Windows only)',
      description: 'Pools against a limit they can reach (Windows: paged and nonpaged against an estimate; Linux has none), with the KernelPoolNearLimit (80%) and KernelPoolExhausted (90%) thresholds.',
      audience: 'windows',
      unit: 'percentunit', min: 0,
      queries: [{ expr: poolShare, legend: '{{pool}}' }],
      thresholds: poolThresholds,
      runbooks: ['KernelPoolNearLimit', 'KernelPoolExhausted'],
    }),
    rowOf('Filesystems and cgroup limits'),
    timeSeriesPanel({
      title: 'Filesystems: share available over time',
      description: 'Space available to writers on each real filesystem, with the FilesystemSpaceLow (10%) and FilesystemSpaceExhausted (5%) thresholds. A steady fall is a log, spool or database growing.',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: fsAvail, legend: '{{mountpoint}}' }],
      thresholds: below(T.filesystemAvailWarning, T.filesystemAvailCritical),
      runbooks: ['FilesystemSpace'],
    }),
    timeSeriesPanel({
      title: 'Filesystems: share of inodes free',
      description: 'Free inodes of each real filesystem that has an inode table, with the FilesystemInodesLow (10%) and FilesystemInodesExhausted (5%) thresholds. Files cannot be created when none are left, whatever the free space.',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: fsInodes, legend: '{{mountpoint}}' }],
      thresholds: below(T.filesystemFilesFreeWarning, T.filesystemFilesFreeCritical),
      runbooks: ['FilesystemInodes'],
    }),
    timeSeriesPanel({
      title: 'cgroups: memory against memory.max over time',
      description: 'Memory of each cgroup with a limit, as a share of memory.max, with the CgroupMemoryNearLimit (90%) and CgroupMemoryExhausted (98%) thresholds.',
      unit: 'percentunit', min: 0,
      queries: [{ expr: cgroupMemory, legend: '{{cgroup}}' }],
      thresholds: above(T.cgroupMemoryWarning, T.cgroupMemoryCritical),
      runbooks: ['CgroupMemoryLimit'],
    }),
    timeSeriesPanel({
      title: 'cgroups: memory',
      description: 'Memory charged to each cgroup with a limit and to each systemd service (v2 memory.current; v1 memory.usage_in_bytes), page cache included.',
      unit: 'bytes', min: 0,
      queries: [{ expr: `contention_cgroup_memory_bytes${sel()}`, legend: '{{cgroup}}' }],
    }),
    rowOf('Memory'),
    timeSeriesPanel({
      title: 'Commit and its limit',
      description: 'Committed memory and the commit limit. The limit binds only where enforced (always on Windows; vm.overcommit_memory=2 on Linux).',
      unit: 'bytes', min: 0,
      queries: [
        { expr: `contention_memory_commit_bytes${sel()}`, legend: 'committed' },
        { expr: `contention_memory_commit_limit_bytes${sel()}`, legend: 'limit' },
      ],
      runbooks: ['CommitNearLimit', 'CommitExhausted'],
    }),
    timeSeriesPanel({
      title: 'Commit: share of limit over time',
      description: 'Committed memory against the commit limit, with the CommitNearLimit (90%) and CommitExhausted (98%) thresholds, which apply where the limit is enforced.',
      unit: 'percentunit', min: 0,
      queries: [{ expr: commitShare, legend: 'commit' }],
      thresholds: commitThresholds,
      runbooks: ['CommitNearLimit', 'CommitExhausted'],
    }),
    timeSeriesPanel({
      title: 'Available memory over time',
      description: 'Available physical memory as a share of all of it, with the AvailableMemoryLow (10%) and AvailableMemoryCritical (5%) thresholds.',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: availableShare, legend: 'available' }],
      thresholds: availableThresholds,
      runbooks: ['AvailableMemoryLow', 'AvailableMemoryCritical'],
    }),
    rowOf('CPU'),
    timeSeriesPanel({
      title: 'CPU queue per CPU over time',
      description: 'Runnable threads waiting per CPU at each sample and the peak the 1 s poller saw between samples (a queue that builds and drains between samples shows only in the peak), with the CPUQueueSaturated threshold (2).',
      unit: 'short', min: 0,
      queries: [
        { expr: perCpu('contention_cpu_queue_length'), legend: 'now' },
        { expr: perCpu('contention_cpu_queue_length_peak'), legend: 'peak' },
      ],
      thresholds: above(T.cpuQueuePerCpu),
      runbooks: ['CPUQueueSaturated'],
    }),
    timeSeriesPanel({
      title: 'CPU utilization',
      description: 'Busy share of all CPU time (every mode but idle and iowait) between samples. High utilization alone is not contention; the queue and CPU pressure say whether work waits.',
      unit: 'percentunit', min: 0, max: 1,
      queries: [{ expr: `contention_cpu_utilization_ratio${sel()}`, legend: 'busy' }],
    }),
    timeSeriesPanel({
      title: 'Tasks blocked on I/O',
      description: 'Tasks in uninterruptible I/O wait at each sample (procs_blocked). Linux only: absent on Windows.',
      unit: 'short', min: 0,
      queries: [{ expr: `contention_cpu_blocked_tasks${sel()}`, legend: 'blocked' }],
    }),
    rowOf('Disk'),
    timeSeriesPanel({
      title: 'Average disk queue',
      description: 'Average I/O requests in flight on each whole disk over the rate interval, with the DiskQueueSaturated threshold (2).',
      unit: 'short', min: 0,
      queries: [{ expr: diskAverage, legend: '{{device}}' }],
      thresholds: above(T.diskQueue),
      runbooks: ['DiskQueueSaturated'],
      width: 12,
    }),
    timeSeriesPanel({
      title: 'Disk queue now and peak',
      description: 'In-flight I/O requests on each whole disk at each sample, and the peak the 1 s poller saw between samples.',
      unit: 'short', min: 0,
      queries: [
        { expr: `contention_disk_queue_length${sel()}`, legend: '{{device}} now' },
        { expr: `contention_disk_queue_length_peak${sel()}`, legend: '{{device}} peak' },
      ],
      width: 12,
    }),
    rowOf('Pressure stalls'),
    timeSeriesPanel({
      title: 'Pressure stalls: some',
      description: `Share of time at least one task stalled on cpu, memory or io, with each resource's rule threshold (cpu 50%, memory and io 20%). ${PRESSURE_NOTE}`,
      unit: 'percentunit', min: 0,
      queries: [{ expr: stalls('some'), legend: '{{resource}} some' }],
      thresholdsByName: pressureThresholds('some'),
      runbooks: ['MemoryPressureStall', 'IOPressureStall', 'CPUQueueSaturated'],
      width: 12,
    }),
    timeSeriesPanel({
      title: 'Pressure stalls: full',
      description: `Share of time all non-idle tasks stalled at once on memory or io (lost throughput), with the rules' thresholds (5% warning, 20% critical). ${PRESSURE_NOTE}`,
      unit: 'percentunit', min: 0,
      queries: [{ expr: stalls('full'), legend: '{{resource}} full' }],
      thresholdsByName: pressureThresholds('full'),
      runbooks: ['MemoryPressureStall', 'IOPressureStall'],
      width: 12,
    }),
    rowOf('Agent'),
    timeSeriesPanel({
      title: 'Collector success',
      description: 'Whether each collector succeeded in the last sample (1) or failed (0). A collector failing for 5 minutes fires CollectorFailing; its metrics are missing meanwhile.',
      unit: 'bool', min: 0, max: 1,
      queries: [{ expr: `contention_collector_success${sel()}`, legend: '{{collector}}' }],
      thresholds: below(1),
      runbooks: ['CollectorFailing'],
      width: 12,
    }),
    timeSeriesPanel({
      title: 'Sample age in intervals',
      description: 'Age of the served sample in sampling intervals. Above 3 for 2 minutes fires AgentSamplesStale: the sampler is stuck or starved of CPU.',
      unit: 'short', min: 0,
      queries: [{ expr: `(time() - contention_last_sample_timestamp_seconds${sel()}) / contention_sample_interval_seconds${sel()}`, legend: 'age' }],
      thresholds: above(3),
      runbooks: ['AgentSamplesStale'],
      width: 12,
    }),
  ];
}

export function hostContention(): dashboard.Dashboard {
  const builder = newDashboard({
    title: 'Host contention',
    uid: HOST_CONTENTION_UID,
    description: 'What is saturated or near a limit on one host right now, and the history behind it. Thresholds equal the alert rules\'.',
    from: 'now-3h',
    refresh: '30s',
  });
  for (const v of hostVariables()) builder.withVariable(v);
  for (const a of hostAnnotations()) builder.annotation(a);
  builder.withRow(rowOf('Saturated right now'));
  for (const p of nowRow()) builder.withPanel(p);
  for (const p of historyRows()) {
    if (p instanceof dashboard.RowBuilder) builder.withRow(p);
    else builder.withPanel(p);
  }
  return finish(builder);
}
