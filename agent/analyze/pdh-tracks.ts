import type { LogColumn, PdhLog } from './pdh-csv.js';
import type { Track } from './track.js';

export interface CounterPath {
  readonly host: string;
  readonly object: string;
  readonly instance: string;
  readonly counter: string;
}

/** Splits `\\HOST\Object(Instance)\Counter` (host and instance optional); undefined when it is not a counter path. */
export function parseCounterPath(path: string): CounterPath | undefined {
  const m = /^(?:\\\\([^\\]+))?\\([^\\(]+?)(?:\((.*)\))?\\([^\\]+)$/.exec(path);
  if (!m) return undefined;
  return { host: m[1] ?? '', object: m[2]!, instance: m[3] ?? '', counter: m[4]! };
}

type Meaning = { metric: string; labels: Record<string, string>; scale?: number } | undefined;

/**
 * What a PerfMon counter means in the agent's vocabulary. Instances `name#1` (PDH's numbering of
 * same-named processes) and Process V2's `name:pid` both keep their full instance as the subject:
 * the log's columns are judged one by one, so one leaking w3wp among several is told apart.
 */
export function meaningOf(path: CounterPath): Meaning {
  const { object, instance, counter } = path;
  const o = object.toLowerCase();
  const c = counter.toLowerCase();
  if (o === 'memory') {
    switch (c) {
      case 'free system page table entries': return { metric: 'contention_kernel_table_free_entries', labels: { table: 'system_ptes' } };
      case 'pool paged bytes': return { metric: 'contention_kernel_pool_bytes', labels: { pool: 'paged' } };
      case 'pool nonpaged bytes': return { metric: 'contention_kernel_pool_bytes', labels: { pool: 'nonpaged' } };
      case 'committed bytes': return { metric: 'contention_memory_commit_bytes', labels: {} };
      case 'commit limit': return { metric: 'contention_memory_commit_limit_bytes', labels: {} };
      case 'available bytes': return { metric: 'contention_memory_available_bytes', labels: {} };
      case 'available mbytes': return { metric: 'contention_memory_available_bytes', labels: {}, scale: 2 ** 20 };
    }
    return undefined;
  }
  if (o === 'system' && c === 'processor queue length') return { metric: 'contention_cpu_queue_length', labels: {} };
  if (o === 'processor' && c === '% processor time') return { metric: 'contention_cpu_utilization_ratio', labels: { cpu: instance }, scale: 0.01 };
  if (o === 'physicaldisk' && c === 'current disk queue length' && instance !== '_Total') {
    return { metric: 'contention_disk_queue_length', labels: { device: instance } };
  }
  if ((o === 'process' || o === 'process v2') && instance !== '_Total' && instance !== 'Idle') {
    const [name, pid] = o === 'process v2' ? splitV2(instance) : [instance, ''];
    const labels: Record<string, string> = pid ? { name, pid } : { name, instance };
    switch (c) {
      case 'private bytes': return { metric: 'contention_process_private_bytes', labels };
      case 'handle count': return { metric: 'contention_process_handles', labels };
      case 'thread count': return { metric: 'contention_process_threads', labels };
      case 'working set': return { metric: 'contention_process_working_set_bytes', labels };
      case 'virtual bytes': return { metric: 'contention_process_virtual_bytes', labels };
    }
  }
  return undefined;
}

function splitV2(instance: string): [string, string] {
  const colon = instance.lastIndexOf(':');
  return colon === -1 ? [instance, ''] : [instance.slice(0, colon), instance.slice(colon + 1)];
}

/** The log's columns as tracks; columns with no meaning for the agent are listed as ignored. */
export function pdhTracks(log: PdhLog): { tracks: Track[]; ignored: string[] } {
  const tracks: Track[] = [];
  const ignored: string[] = [];
  for (const column of log.columns) {
    const path = parseCounterPath(column.header);
    const meaning = path && meaningOf(path);
    if (!path || !meaning) {
      ignored.push(column.header);
      continue;
    }
    tracks.push({
      counter: column.header,
      instance: path.instance,
      metric: meaning.metric,
      labels: meaning.labels,
      times: log.times,
      values: meaning.scale ? scaled(column, meaning.scale) : column.values,
    });
  }
  return { tracks, ignored };
}

function scaled(column: LogColumn, factor: number): Float64Array {
  return column.values.map((v) => v * factor);
}
