import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../alerts/alert.js';
import type { Point } from '../history/source.js';
import type { MetricName } from '../metrics/catalog.js';
import type { Sample } from '../metrics/sample.js';
import { topBy } from '../process/groups.js';
import { parseMeminfo } from '../procfs/meminfo.js';
import { topSlabCaches } from '../procfs/smaps.js';
import type { Check } from './verdict.js';

/** Figures from the sample that say what the kernel holds: pools against their limits, tables, commit. */
const HOST_FIGURES: readonly MetricName[] = [
  'contention_kernel_pool_bytes', 'contention_kernel_pool_limit_bytes', 'contention_kernel_table_free_entries', 'contention_kernel_table_size_entries',
  'contention_memory_commit_bytes', 'contention_memory_commit_limit_bytes', 'contention_memory_available_bytes', 'contention_memory_physical_bytes',
  'contention_cpu_queue_length', 'contention_cpu_queue_length_peak', 'contention_disk_queue_length', 'contention_disk_queue_length_peak',
];
const TOP_PROCESSES = 15;

export interface HostSnapshotInput {
  readonly now: number;
  readonly procfs: string;
  /** The latest sample, when there is one: top processes and the pool and table figures. */
  readonly sample?: Sample;
  /** The agent's verdicts at the time: its alerts, and what doctor says about capture. */
  readonly alerts?: readonly Alert[];
  readonly readiness?: readonly Check[];
  /** The measure that tripped and its recent history. */
  readonly tripping?: { readonly measure: string; readonly limit?: number; readonly points: readonly Point[] };
  readonly platform?: NodeJS.Platform;
}

/**
 * Writes host.json (and, on Linux, meminfo and vmstat as the kernel printed them) into an evidence
 * directory: what the host looked like when the dump was taken. Files the kernel refuses (slabinfo
 * is root-only) are noted, not fatal. Returns what host.json holds.
 */
export function writeHostSnapshot(dir: string, input: HostSnapshotInput): Record<string, unknown> {
  const platform = input.platform ?? process.platform;
  const unreadable: Record<string, string> = {};
  const raw = (file: string): string | undefined => {
    try {
      return readFileSync(join(input.procfs, file), 'latin1');
    } catch (err) {
      unreadable[file] = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return undefined;
    }
  };
  const rows = input.sample?.facts.processes?.rows ?? [];
  const figures: Record<string, Array<{ labels: Record<string, string>; value: number }>> = {};
  for (const name of HOST_FIGURES) {
    const series = input.sample?.families.get(name);
    if (series?.length) figures[name] = series.map((s) => ({ labels: { ...s.labels }, value: s.value }));
  }
  const snapshot: Record<string, unknown> = {
    time: new Date(input.now).toISOString(),
    hostname: hostname(),
    platform,
    ...(input.sample ? { sampled_at: new Date(input.sample.timestamp).toISOString() } : {}),
    alerts: (input.alerts ?? []).filter((a) => a.state !== 'resolved').map((a) => ({ ...a.labels, summary: a.annotations.summary, since: new Date(a.activeAt).toISOString(), source: a.source })),
    capture_readiness: input.readiness ?? [],
    ...(input.tripping ? { tripping: input.tripping } : {}),
    top_processes: topBy(rows, 'privateBytes', TOP_PROCESSES).map((r) => ({
      pid: r.pid, name: r.comm, user: r.user, group: r.processGroup, private_bytes: r.privateBytes, working_set_bytes: r.workingSetBytes,
      virtual_bytes: r.virtualBytes, handles: r.handles, threads: r.threads, cpu_seconds: r.cpuSeconds,
    })),
    figures,
  };
  if (platform === 'linux') {
    const meminfo = raw('meminfo');
    const vmstat = raw('vmstat');
    const slabinfo = raw('slabinfo');
    if (meminfo !== undefined) writeFileSync(join(dir, 'meminfo'), meminfo);
    if (vmstat !== undefined) writeFileSync(join(dir, 'vmstat'), vmstat);
    snapshot.meminfo = meminfo === undefined ? undefined : Object.fromEntries(parseMeminfo(meminfo));
    snapshot.vmstat = vmstat === undefined ? undefined : Object.fromEntries(vmstat.trim().split('\n').map((l) => l.split(/\s+/)).map(([k, v]) => [k, Number(v)]));
    snapshot.slab_top_caches = slabinfo === undefined ? undefined : topSlabCaches(slabinfo);
  }
  snapshot.unreadable = unreadable;
  writeFileSync(join(dir, 'host.json'), `${JSON.stringify(snapshot, null, 2)}\n`);
  return snapshot;
}
