import { seriesOf, valueOf, type Sample } from '../metrics/sample.js';
import { processKey, type ProcessRow } from '../process/table.js';
import { formatBytes as bytes } from '../text/bytes.js';
import { asCulprit, culpritsBy, inCgroup, memoryCulprits, type Culprit } from './culprits.js';
import { THRESHOLDS as T } from './thresholds.js';

export type { Culprit } from './culprits.js';
export type Severity = 'critical' | 'warning';
/** exhaustion: a finite thing running out; saturation: work queuing; utilization: all of it busy (no queue yet). */
export type ConditionKind = 'exhaustion' | 'saturation' | 'utilization';

/** Something at or near a limit right now, with the figures that show it. */
export interface Condition {
  readonly subject: string;
  readonly kind: ConditionKind;
  readonly severity: Severity;
  /** How far past the warning threshold, for ordering: 1 at the threshold, larger is worse. */
  readonly score: number;
  readonly value: string;
  readonly threshold: string;
  readonly message: string;
  /** Who: the processes holding or using most of the resource, worst first. */
  readonly culprits?: readonly Culprit[];
  /** Why no process is named, when none can be. */
  readonly culpritNote?: string;
}

const pct = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * What is exhausted or saturated in a sample, worst first. `previous` (an earlier sample of the same
 * host) lets counters such as pressure stall time be judged as rates.
 */
export function assessSaturation(sample: Sample, previous?: Sample): Condition[] {
  const found: Condition[] = [];
  const add = (c: Condition): void => void found.push(c);
  const rows: readonly ProcessRow[] = sample.facts.processes?.rows ?? [];
  const windows = seriesOf(sample, 'contention_host_info')[0]?.labels.os === 'windows';

  for (const { labels, value: free } of seriesOf(sample, 'contention_kernel_table_free_entries')) {
    const table = labels.table!;
    const size = valueOf(sample, 'contention_kernel_table_size_entries', { table });
    if (table === 'system_ptes') {
      if (free < T.systemPtesMinFree) {
        add({
          subject: 'kernel table system_ptes', kind: 'exhaustion', severity: 'critical',
          score: 1 + (T.systemPtesMinFree - free) / T.systemPtesMinFree,
          value: `${count(free)} free`, threshold: `< ${count(T.systemPtesMinFree)}`,
          message: 'Free System PTEs are nearly gone; find the driver or process holding them before the host hangs.',
        });
      }
      continue;
    }
    if (!size) continue;
    const ratio = free / size;
    if (ratio < T.kernelTableFreeWarning) {
      add({
        subject: `kernel table ${table}`, kind: 'exhaustion',
        severity: ratio < T.kernelTableFreeCritical ? 'critical' : 'warning',
        score: T.kernelTableFreeWarning / Math.max(ratio, 1e-6),
        value: `${count(free)} of ${count(size)} free (${pct(ratio)})`, threshold: `< ${pct(T.kernelTableFreeWarning)} free`,
        message: TABLE_MESSAGES[table] ?? `The ${table} table is nearly full; find the process holding the most entries.`,
        ...tableCulprits(table, rows),
      });
    }
  }

  for (const { labels, value: limit } of seriesOf(sample, 'contention_kernel_pool_limit_bytes')) {
    const used = valueOf(sample, 'contention_kernel_pool_bytes', { pool: labels.pool! });
    if (used === undefined || limit <= 0) continue;
    const ratio = used / limit;
    if (ratio > T.poolUsedWarning) {
      add({
        subject: `kernel pool ${labels.pool}`, kind: 'exhaustion',
        severity: ratio > T.poolUsedCritical ? 'critical' : 'warning',
        score: ratio / T.poolUsedWarning,
        value: `${bytes(used)} of ${bytes(limit)}${labels.source === 'estimate' ? ' (estimated limit)' : ''} (${pct(ratio)})`,
        threshold: `> ${pct(T.poolUsedWarning)}`,
        message: 'Kernel pool close to its maximum; find the pool tag or slab cache that grows.',
      });
    }
  }

  const commit = valueOf(sample, 'contention_memory_commit_bytes');
  const commitLimit = valueOf(sample, 'contention_memory_commit_limit_bytes');
  if (commit !== undefined && commitLimit && valueOf(sample, 'contention_memory_commit_limit_enforced') === 1) {
    const ratio = commit / commitLimit;
    if (ratio > T.commitUsedWarning) {
      add({
        subject: 'memory commit', kind: 'exhaustion',
        severity: ratio > T.commitUsedCritical ? 'critical' : 'warning',
        score: ratio / T.commitUsedWarning,
        value: `${bytes(commit)} of ${bytes(commitLimit)} (${pct(ratio)})`, threshold: `> ${pct(T.commitUsedWarning)}`,
        message: 'Commit charge is close to the limit; allocations will fail. Find the process with the most private bytes.',
        culprits: memoryCulprits(rows),
      });
    }
  }

  const available = valueOf(sample, 'contention_memory_available_bytes');
  const physical = valueOf(sample, 'contention_memory_physical_bytes');
  if (available !== undefined && physical) {
    const ratio = available / physical;
    if (ratio < T.availableMemoryWarning) {
      add({
        subject: 'available memory', kind: 'exhaustion',
        severity: ratio < T.availableMemoryCritical ? 'critical' : 'warning',
        score: T.availableMemoryWarning / Math.max(ratio, 1e-6),
        value: `${bytes(available)} of ${bytes(physical)} (${pct(ratio)})`, threshold: `< ${pct(T.availableMemoryWarning)}`,
        message: 'Little physical memory left; the host will page or invoke the OOM killer.',
        culprits: memoryCulprits(rows),
      });
    }
  }

  const cpus = valueOf(sample, 'contention_cpus');
  const queue = valueOf(sample, 'contention_cpu_queue_length');
  const peak = valueOf(sample, 'contention_cpu_queue_length_peak') ?? queue;
  if (cpus && queue !== undefined && peak !== undefined) {
    const worst = Math.max(queue, peak) / cpus;
    if (worst > T.cpuQueuePerCpu) {
      add({
        subject: 'cpu queue', kind: 'saturation', severity: 'warning',
        score: worst / T.cpuQueuePerCpu,
        value: `${queue} waiting now, peak ${peak}, over ${cpus} CPUs (${(worst).toFixed(1)} per CPU)`,
        threshold: `> ${T.cpuQueuePerCpu} per CPU`,
        message: 'More runnable threads than CPUs can serve: the busiest processes are below.',
        culprits: culpritsBy(rows, 'cpu'),
      });
    }
  }

  const utilization = valueOf(sample, 'contention_cpu_utilization_ratio');
  if (utilization !== undefined && utilization > T.cpuUtilizationWarning) {
    add({
      subject: 'cpu utilization', kind: 'utilization', severity: 'warning',
      score: utilization / T.cpuUtilizationWarning,
      value: `${pct(utilization)} busy${cpus ? ` over ${cpus} CPUs` : ''}`, threshold: `> ${pct(T.cpuUtilizationWarning)}`,
      message: 'Every CPU is busy; work that arrives now waits. The processes using the CPU are below.',
      culprits: culpritsBy(rows, 'cpu'),
    });
  }

  for (const { labels, value } of seriesOf(sample, 'contention_disk_queue_length')) {
    const diskPeak = valueOf(sample, 'contention_disk_queue_length_peak', { device: labels.device! }) ?? value;
    const worst = Math.max(value, diskPeak);
    if (worst > T.diskQueue) {
      add({
        subject: `disk queue ${labels.device}`, kind: 'saturation', severity: 'warning',
        score: worst / T.diskQueue,
        value: `${value} in flight now, peak ${diskPeak}`, threshold: `> ${T.diskQueue}`,
        message: 'I/O requests are queuing on this disk; the processes doing the most I/O are below.',
        culprits: culpritsBy(rows, 'io'),
      });
    }
  }

  if (previous) {
    const seconds = (sample.timestamp - previous.timestamp) / 1000;
    for (const { labels, value } of seriesOf(sample, 'contention_pressure_stalled_seconds_total')) {
      const before = valueOf(previous, 'contention_pressure_stalled_seconds_total', labels);
      if (before === undefined || seconds <= 0) continue;
      const share = Math.max(0, value - before) / seconds;
      const { resource, scope } = labels as { resource: string; scope: string };
      const warnAt = resource === 'cpu' ? T.cpuPressureSomeWarning : scope === 'full' ? T.pressureFullWarning : T.pressureSomeWarning;
      if (resource === 'cpu' && scope === 'full') continue; // not meaningful system-wide
      if (share > warnAt) {
        add({
          subject: `${resource} pressure (${scope})`, kind: 'saturation',
          severity: scope === 'full' && share > T.pressureFullCritical ? 'critical' : 'warning',
          score: share / warnAt,
          value: `${pct(share)} of the time stalled`, threshold: `> ${pct(warnAt)}`,
          message: `Tasks are stalling on ${resource}; see which cgroups or processes wait the most.`,
          culprits: resource === 'cpu' ? culpritsBy(rows, 'cpu') : resource === 'io' ? culpritsBy(rows, 'io') : memoryCulprits(rows),
        });
      }
    }
  }

  processLimits(sample, rows, windows, add);
  cgroupLimits(sample, rows, add);
  filesystems(sample, rows, add);
  if (previous) oomKills(sample, previous, add);

  return found.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || b.score - a.score);
}

const TABLE_MESSAGES: Readonly<Record<string, string>> = {
  conntrack: 'The connection-tracking table is nearly full; the kernel drops new connections when it is.',
  ephemeral_ports: 'Local ports are nearly all in use; connect() fails with EADDRNOTAVAIL when they are.',
};

function tableCulprits(table: string, rows: readonly ProcessRow[]): Pick<Condition, 'culprits' | 'culpritNote'> {
  if (table === 'file_handles') return { culprits: culpritsBy(rows, 'handles') };
  if (table === 'pids' || table === 'threads') return { culprits: culpritsBy(rows, 'threads') };
  if (table === 'conntrack' || table === 'ephemeral_ports') {
    return { culpritNote: 'sockets are not attributed to processes each sample; `ss -tanp state time-wait` (or `conntrack -L`) names them' };
  }
  return {};
}

/** Each process whose open descriptors near its own limit: the EMFILE that the system-wide table never shows. */
function processLimits(sample: Sample, rows: readonly ProcessRow[], windows: boolean, add: (c: Condition) => void): void {
  const limits = sample.facts.processes?.fdLimits;
  if (!limits) return;
  const near = new Map<string, Array<{ r: ProcessRow; ratio: number; limit: number }>>();
  for (const r of rows) {
    const limit = limits.get(processKey(r));
    if (limit === undefined || limit === Infinity || limit <= 0) continue;
    const ratio = r.handles / limit;
    if (ratio <= T.processFdWarning) continue;
    const list = near.get(r.processGroup) ?? [];
    list.push({ r, ratio, limit });
    near.set(r.processGroup, list);
  }
  const what = windows ? 'handles' : 'open files';
  for (const [group, list] of near) {
    list.sort((a, b) => b.ratio - a.ratio || a.r.pid - b.r.pid);
    const worst = list[0]!;
    add({
      subject: `${what} of ${worst.r.displayName} [${worst.r.pid}]${list.length > 1 ? ` and ${list.length - 1} more in ${group}` : ''}`,
      kind: 'exhaustion',
      severity: worst.ratio > T.processFdCritical ? 'critical' : 'warning',
      score: worst.ratio / T.processFdWarning,
      value: `${count(worst.r.handles)} of ${count(worst.limit)} (${pct(worst.ratio)})`,
      threshold: `> ${pct(T.processFdWarning)} of its limit`,
      message: windows
        ? 'The process is near the per-process handle limit; a handle leak, not load, gets there.'
        : 'The process is at its RLIMIT_NOFILE: open(), accept() and socket() fail with EMFILE. Capture ls -l /proc/PID/fd before any restart.',
      culprits: list.slice(0, 5).map(({ r, limit }) => ({ ...asCulprit(r, 'handles'), figure: `${count(r.handles)} of ${count(limit)} open` })),
    });
  }
}

function cgroupLimits(sample: Sample, rows: readonly ProcessRow[], add: (c: Condition) => void): void {
  for (const { labels, value: limit } of seriesOf(sample, 'contention_cgroup_memory_limit_bytes')) {
    const cgroup = labels.cgroup!;
    const used = valueOf(sample, 'contention_cgroup_memory_bytes', { cgroup });
    if (used === undefined || limit <= 0) continue;
    const ratio = used / limit;
    const high = labels.limit === 'high';
    const warnAt = high ? T.cgroupMemoryHighWarning : T.cgroupMemoryWarning;
    if (ratio < warnAt || (!high && ratio === warnAt)) continue;
    const members = inCgroup(rows, cgroup);
    add({
      subject: `cgroup ${cgroup} memory${high ? ' (memory.high)' : ''}`, kind: 'exhaustion',
      severity: !high && ratio > T.cgroupMemoryCritical ? 'critical' : 'warning',
      score: ratio / warnAt,
      value: `${bytes(used)} of ${bytes(limit)} (${pct(ratio)})`,
      threshold: high ? `>= memory.high` : `> ${pct(T.cgroupMemoryWarning)} of memory.max`,
      message: high
        ? 'The cgroup is at memory.high: its allocations are throttled and reclaimed hard (the service slows down).'
        : 'The cgroup is near memory.max: the kernel OOM-kills inside it, however much memory the host has free.',
      ...(members.length > 0 ? { culprits: memoryCulprits(members) } : { culpritNote: 'no process of this cgroup is in the process table' }),
    });
  }
  for (const { labels, value: limit } of seriesOf(sample, 'contention_cgroup_pids_limit')) {
    const cgroup = labels.cgroup!;
    const used = valueOf(sample, 'contention_cgroup_pids', { cgroup });
    if (used === undefined || limit <= 0) continue;
    const ratio = used / limit;
    if (ratio <= T.cgroupPidsWarning) continue;
    add({
      subject: `cgroup ${cgroup} tasks`, kind: 'exhaustion',
      severity: ratio > T.cgroupPidsCritical ? 'critical' : 'warning',
      score: ratio / T.cgroupPidsWarning,
      value: `${count(used)} of ${count(limit)} (${pct(ratio)})`, threshold: `> ${pct(T.cgroupPidsWarning)} of pids.max`,
      message: 'The cgroup is near pids.max: fork() and thread creation fail inside it with EAGAIN.',
      culprits: culpritsBy(inCgroup(rows, cgroup), 'threads'),
    });
  }
}

function filesystems(sample: Sample, rows: readonly ProcessRow[], add: (c: Condition) => void): void {
  const writers = () => {
    const c = culpritsBy(rows, 'writes');
    return c.length > 0 ? { culprits: c } : { culpritNote: 'nothing is writing now; `du -xsh MOUNT/*` finds what filled it' };
  };
  for (const { labels, value: size } of seriesOf(sample, 'contention_filesystem_size_bytes')) {
    const avail = valueOf(sample, 'contention_filesystem_avail_bytes', labels);
    if (avail === undefined || size <= 0) continue;
    const ratio = avail / size;
    if (ratio >= T.filesystemAvailWarning) continue;
    add({
      subject: `filesystem ${labels.mountpoint} space`, kind: 'exhaustion',
      severity: ratio < T.filesystemAvailCritical ? 'critical' : 'warning',
      score: T.filesystemAvailWarning / Math.max(ratio, 1e-6),
      value: `${bytes(avail)} of ${bytes(size)} available (${pct(ratio)})`, threshold: `< ${pct(T.filesystemAvailWarning)} available`,
      message: `${labels.device} (${labels.fstype}) is nearly full: writes fail with ENOSPC, logs and databases stop. The processes writing now are below.`,
      ...writers(),
    });
  }
  for (const { labels, value: files } of seriesOf(sample, 'contention_filesystem_files')) {
    const free = valueOf(sample, 'contention_filesystem_files_free', labels);
    if (free === undefined || files <= 0) continue;
    const ratio = free / files;
    if (ratio >= T.filesystemFilesFreeWarning) continue;
    add({
      subject: `filesystem ${labels.mountpoint} inodes`, kind: 'exhaustion',
      severity: ratio < T.filesystemFilesFreeCritical ? 'critical' : 'warning',
      score: T.filesystemFilesFreeWarning / Math.max(ratio, 1e-6),
      value: `${count(free)} of ${count(files)} inodes free (${pct(ratio)})`, threshold: `< ${pct(T.filesystemFilesFreeWarning)} free`,
      message: 'The filesystem is running out of inodes: file creation fails with ENOSPC while space remains (many small files: a spool, a cache, sessions).',
      ...writers(),
    });
  }
}

/** OOM kills between the two samples: the host's, and each cgroup's. */
function oomKills(sample: Sample, previous: Sample, add: (c: Condition) => void): void {
  const host = (valueOf(sample, 'contention_oom_kills_total') ?? 0) - (valueOf(previous, 'contention_oom_kills_total') ?? Infinity);
  if (host > 0) {
    add({
      subject: 'oom kills', kind: 'exhaustion', severity: 'critical', score: 1 + host,
      value: `${count(host)} since the previous sample`, threshold: '> 0',
      message: 'The kernel OOM killer killed processes: `journalctl -k | grep -i "killed process"` names them.',
      culpritNote: 'the killed process is gone; the kernel log names it and the largest memory holders remain',
    });
  }
  for (const { labels, value } of seriesOf(sample, 'contention_cgroup_oom_kills_total')) {
    const before = valueOf(previous, 'contention_cgroup_oom_kills_total', labels);
    if (before === undefined || value <= before) continue;
    add({
      subject: `cgroup ${labels.cgroup} oom kills`, kind: 'exhaustion', severity: 'critical', score: 1 + value - before,
      value: `${count(value - before)} since the previous sample`, threshold: '> 0',
      message: 'The OOM killer killed inside this cgroup: it reached memory.max.',
    });
  }
}

const severityRank = (s: Severity): number => (s === 'critical' ? 2 : 1);
