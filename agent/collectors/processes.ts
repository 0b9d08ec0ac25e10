import { compileCriteria } from '../process/criteria.js';
import { createGroupCpu, groupProcesses, topBy, type Measure } from '../process/groups.js';
import type { ReadErrorReason } from '../process/read-table.js';
import { createProcfsSource, type IdentityField, type ProcessSource } from '../process/source.js';
import type { LabelsOf } from '../metrics/catalog.js';
import { MAX_PLAUSIBLE_BYTES } from '../metrics/plausible.js';
import type { CollectorContext, CollectorSpec } from './collector.js';

const TOP: ReadonlyArray<[Measure, 'contention_process_private_bytes' | 'contention_process_handles' | 'contention_process_threads']> = [
  ['privateBytes', 'contention_process_private_bytes'],
  ['handles', 'contention_process_handles'],
  ['threads', 'contention_process_threads'],
];

/**
 * The processes collector over a table source: every process grouped by criteria, group totals,
 * top K per measure and skipped-row counters. One implementation for every OS; only the source differs.
 */
export function processesCollectorOver(openSource: (ctx: CollectorContext) => ProcessSource): CollectorSpec {
  return {
    name: 'processes',
    description: 'Every process: private bytes, working set, virtual size, handles, threads, CPU; grouped by criteria, top K',
    defaultEnabled: true,
    create: (ctx) => {
      const source = openSource(ctx);
      const criteria = compileCriteria(ctx.config.criteria);
      const groupCpu = createGroupCpu();
      const errorTotals = new Map<ReadErrorReason, number>([['vanished', 0], ['permission', 0], ['zombie', 0], ['malformed', 0], ['out_of_range', 0]]);
      let unreadableTotals: Map<IdentityField, number> | undefined;
      const { max_unmatched: maxUnmatched, top_k: k } = ctx.config.process_groups;
      return {
        async update(sink) {
          const timestamp = Date.now();
          const { rows: read, errors, unreadable } = await source.read();
          // One implausible row is skipped and counted; it is never exported, grouped or handed to a policy.
          const named = read.filter(plausibleRow);
          if (named.length < read.length) errorTotals.set('out_of_range', (errorTotals.get('out_of_range') ?? 0) + read.length - named.length);
          const { rows, groups } = groupProcesses(named, criteria, maxUnmatched);
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
          for (const [measure, metric] of TOP) {
            for (const r of topBy(rows, measure, k)) {
              const labels: LabelsOf<typeof metric> = { group: r.processGroup, name: r.comm, pid: String(r.pid) };
              sink.set(metric, labels, r[measure]);
            }
          }
          for (const [reason, n] of errors) errorTotals.set(reason, (errorTotals.get(reason) ?? 0) + n);
          for (const [reason, n] of errorTotals) sink.set('contention_process_read_errors_total', { reason }, n);
          for (const [field, n] of unreadable ?? []) {
            unreadableTotals ??= new Map([['user', 0], ['exe', 0], ['cmdline', 0]]);
            unreadableTotals.set(field, (unreadableTotals.get(field) ?? 0) + n);
          }
          for (const [field, n] of unreadableTotals ?? []) sink.set('contention_process_identity_unreadable_total', { field }, n);
          sink.publish('processes', { rows, timestamp });
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

export const processesCollector: CollectorSpec = processesCollectorOver(({ procfs }) => createProcfsSource(procfs));
