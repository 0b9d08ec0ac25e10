import { seriesOf, valueOf, type Sample } from '../metrics/sample.js';
import { formatBytes as bytes } from '../text/bytes.js';
import { THRESHOLDS as T } from './thresholds.js';

export type Severity = 'critical' | 'warning';
export type ConditionKind = 'exhaustion' | 'saturation';

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
        message: `The ${table} table is nearly full; find the process holding the most entries.`,
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
        message: 'More runnable threads than CPUs can serve; find the busiest processes.',
      });
    }
  }

  for (const { labels, value } of seriesOf(sample, 'contention_disk_queue_length')) {
    const diskPeak = valueOf(sample, 'contention_disk_queue_length_peak', { device: labels.device! }) ?? value;
    const worst = Math.max(value, diskPeak);
    if (worst > T.diskQueue) {
      add({
        subject: `disk queue ${labels.device}`, kind: 'saturation', severity: 'warning',
        score: worst / T.diskQueue,
        value: `${value} in flight now, peak ${diskPeak}`, threshold: `> ${T.diskQueue}`,
        message: 'I/O requests are queuing on this disk; find the processes doing the most I/O.',
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
        });
      }
    }
  }

  return found.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || b.score - a.score);
}

const severityRank = (s: Severity): number => (s === 'critical' ? 2 : 1);
