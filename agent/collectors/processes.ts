import { compileCriteria } from '../process/criteria.js';
import { FD_LIMIT_MIN_HANDLES, worstFdRatio } from '../process/fd-limits.js';
import { createGroupCpu, createGrouping, topSet } from '../process/groups.js';
import { createProcessRates } from '../process/rates.js';
import type { ReadErrorReason } from '../process/read-table.js';
import { createProcfsSource, type IdentityField, type ProcessSource } from '../process/source.js';
import { processKey, type ProcessRow } from '../process/table.js';
import type { LabelsOf, MetricName } from '../metrics/catalog.js';
import { MAX_PLAUSIBLE_BYTES } from '../metrics/plausible.js';
import type { CollectorContext, CollectorSpec } from './collector.js';

type TopFamily = Extract<MetricName, `contention_process_${string}`>;

/** Every figure of a row in the top set; a row's series are all present or (unreadable figures) absent, never mixed in from elsewhere. */
const TOP_FIGURES: ReadonlyArray<[TopFamily, (r: ProcessRow) => number | undefined]> = [
  ['contention_process_private_bytes', (r) => r.privateBytes],
  ['contention_process_working_set_bytes', (r) => r.workingSetBytes],
  ['contention_process_handles', (r) => r.handles],
  ['contention_process_threads', (r) => r.threads],
  ['contention_process_cpu_seconds_per_second', (r) => r.rates.cpu],
  ['contention_process_private_growth_bytes_per_second', (r) => r.rates.privateGrowth],
  ['contention_process_io_read_bytes_per_second', (r) => r.rates.ioRead],
  ['contention_process_io_write_bytes_per_second', (r) => r.rates.ioWrite],
  ['contention_process_major_page_faults_per_second', (r) => r.rates.majorFaults],
];

/**
 * The processes collector over a table source: every process grouped by criteria, group totals, one
 * top set (the union of the top K by each measure, criteria processes kept) with every figure of each
 * row, descriptor limits and skipped-row counters. One implementation for every OS; only the source differs.
 */
export function processesCollectorOver(openSource: (ctx: CollectorContext) => ProcessSource): CollectorSpec {
  return {
    name: 'processes',
    description: 'Every process: private bytes, working set, virtual size, handles, threads, CPU, I/O; grouped by criteria, one top set',
    defaultEnabled: true,
    create: (ctx) => {
      const source = openSource(ctx);
      const criteria = compileCriteria(ctx.config.criteria);
      const groupCpu = createGroupCpu();
      const group = createGrouping(criteria, ctx.config.process_groups.max_unmatched);
      const rate = createProcessRates();
      const plausible = createPlausibleFilter();
      const errorTotals = new Map<ReadErrorReason, number>([['vanished', 0], ['permission', 0], ['zombie', 0], ['malformed', 0], ['out_of_range', 0]]);
      let unreadableTotals: Map<IdentityField, number> | undefined;
      const { top_k: k, criteria_processes_max: criteriaMax } = ctx.config.process_groups;
      // What the last sample showed or acted on is read afresh every sample: the top set, every
      // criteria process (a policy's `for` counts samples) and those holding enough descriptors for
      // their limit to be asked (fd-limits.ts).
      let always = new Set<number>();
      return {
        async update(sink) {
          const timestamp = Date.now();
          const { rows: read, errors, unreadable } = await source.read({ always });
          // One implausible row is skipped and counted; it is never exported, grouped or handed to a policy.
          const named = plausible(read);
          if (named.length < read.length) errorTotals.set('out_of_range', (errorTotals.get('out_of_range') ?? 0) + read.length - named.length);
          const { rows, groups } = group(named, rate(named, timestamp));
          for (const g of groups) {
            const labels = { group: g.group };
            sink.set('contention_process_group_private_bytes', labels, g.privateBytes);
            sink.set('contention_process_group_working_set_bytes', labels, g.workingSetBytes);
            sink.set('contention_process_group_virtual_bytes', labels, g.virtualBytes);
            sink.set('contention_process_group_handles', labels, g.handles);
            sink.set('contention_process_group_threads', labels, g.threads);
            sink.set('contention_process_group_processes', labels, g.processes);
          }
          for (const [group, seconds] of groupCpu(rows)) sink.set('contention_process_group_cpu_seconds_total', { group }, seconds);
          const limits = source.fdLimits?.(rows) ?? new Map<string, number>();
          for (const [group, ratio] of worstFdRatio(rows, limits)) sink.set('contention_process_group_worst_fd_ratio', { group }, ratio);
          const top = topSet(rows, k, criteriaMax);
          for (const r of top) {
            const labels: LabelsOf<'contention_process_handles'> = { group: r.processGroup, name: r.displayName, pid: String(r.pid) };
            for (const [metric, of] of TOP_FIGURES) {
              const value = of(r);
              if (value !== undefined) sink.set(metric as 'contention_process_handles', labels, value);
            }
            const limit = limits.get(processKey(r));
            if (limit !== undefined && limit !== Infinity) sink.set('contention_process_open_files_limit' as 'contention_process_handles', labels, limit);
          }
          for (const [reason, n] of errors) errorTotals.set(reason, (errorTotals.get(reason) ?? 0) + n);
          for (const [reason, n] of errorTotals) sink.set('contention_process_read_errors_total', { reason }, n);
          for (const [field, n] of unreadable ?? []) {
            unreadableTotals ??= new Map([['user', 0], ['exe', 0], ['cmdline', 0]]);
            unreadableTotals.set(field, (unreadableTotals.get(field) ?? 0) + n);
          }
          for (const [field, n] of unreadableTotals ?? []) sink.set('contention_process_identity_unreadable_total', { field }, n);
          always = new Set(top.map((r) => r.pid));
          for (let i = 0; i < rows.length; i++) {
            const r = rows[i]!;
            if (r.criteria.length > 0 || r.handles >= FD_LIMIT_MIN_HANDLES) always.add(r.pid);
          }
          sink.publish('processes', { rows, timestamp, top, fdLimits: limits });
        },
        stop() {
          source.stop?.();
        },
      };
    },
  };
}

const plausibleSize = (n: number): boolean => Number.isFinite(n) && n >= 0 && n <= MAX_PLAUSIBLE_BYTES;
const plausibleCount = (n: number): boolean => Number.isInteger(n) && n >= 0;

/** Whether every number of a row is one a kernel can report. */
export function plausibleRow(r: { pid: number; privateBytes: number; workingSetBytes: number; virtualBytes: number; threads: number; handles: number; cpuSeconds: number; startTime: number }): boolean {
  return (
    plausibleCount(r.pid) &&
    plausibleSize(r.privateBytes) &&
    plausibleSize(r.workingSetBytes) &&
    plausibleSize(r.virtualBytes) &&
    plausibleCount(r.threads) &&
    plausibleCount(r.handles) &&
    Number.isFinite(r.cpuSeconds) &&
    r.cpuSeconds >= 0 &&
    Number.isFinite(r.startTime)
  );
}

/**
 * The rows of a reading whose every number is plausible. A row carried over from an earlier reading
 * (the same object, by pid) was judged when it was read, and costs one look-up: on a big host most
 * rows are carried, and judging each again was a pass of nine calls a row.
 */
export function createPlausibleFilter() {
  const judged = new Map<number, { row: object; call: number }>();
  let calls = 0;
  return <R extends Parameters<typeof plausibleRow>[0]>(rows: readonly R[]): R[] => {
    const call = ++calls;
    const out: R[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const last = judged.get(r.pid);
      if (last !== undefined && last.row === r) last.call = call;
      else if (plausibleRow(r)) {
        if (last === undefined) judged.set(r.pid, { row: r, call });
        else {
          last.row = r;
          last.call = call;
        }
      } else continue;
      out.push(r);
    }
    if (judged.size > out.length) judged.forEach((j, pid) => j.call !== call && judged.delete(pid));
    return out;
  };
}

/** Samples between readings of a quiet process: sampling.quiet_process_interval over the sample interval. */
export function quietEvery(sampling: { interval: number; quiet_process_interval: number }): number {
  return Math.max(1, Math.round(sampling.quiet_process_interval / sampling.interval));
}

export const processesCollector: CollectorSpec = processesCollectorOver(({ procfs, config }) => createProcfsSource(procfs, quietEvery(config.sampling)));
