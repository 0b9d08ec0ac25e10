import type { LabelsOf, MetricName } from '../../metrics/catalog.js';

/**
 * The one mapping from Windows performance counters to the agent's metrics. The live Windows
 * collector adds these paths to its PDH query and `analyze` reads the same names from PerfMon
 * logs, so a name in a log and a series from the agent mean the same thing.
 *
 * Paths are the English ones (PdhAddEnglishCounterW): a localized log (`\Speicher\...`) is not
 * recognised, which is better than guessing.
 */

/** `\\HOST\Object(Parent/Instance#Index)\Counter`, split. Empty strings where a part is absent. */
export interface CounterPath {
  readonly host: string;
  readonly object: string;
  /** The instance as written, index and parent included (`svchost#12`, `0 C:`, `_Total`, `*`). */
  readonly instance: string;
  readonly counter: string;
}

/**
 * Splits a counter path. The instance runs from the first `(` after the object to the last `)`
 * before the counter, so names PDH leaves with brackets inside (`Intel[R] ...`) stay whole.
 */
export function parseCounterPath(path: string): CounterPath | undefined {
  const m = /^(?:\\\\([^\\]+))?\\([^\\(]+?)(?:\((.*)\))?\\([^\\]+)$/.exec(path.trim());
  if (!m) return undefined;
  return { host: m[1] ?? '', object: m[2]!.trim(), instance: m[3] ?? '', counter: m[4]!.trim() };
}

/** A process as PDH names it: `name#index` in `Process`, `name:pid` in `Process V2`. */
export interface ProcessInstance {
  /** The image name without `.exe`, as PDH and the agent's `name` label show it. */
  readonly name: string;
  /** Known only from Process V2 instances (or from the native process list). */
  readonly pid?: number;
  /**
   * PDH's number among same-named processes (`svchost#12` is 12, plain `svchost` is 0). It is not
   * an identity: when one exits, the others are renumbered.
   */
  readonly index?: number;
}

/** What a process instance name says, or undefined for the aggregates (`_Total`, `Idle`) and wildcards. */
export function parseProcessInstance(object: string, instance: string): ProcessInstance | undefined {
  if (instance === '' || instance === '*' || instance.includes('*')) return undefined;
  const kind = object.toLowerCase();
  if (kind === 'process v2') {
    const m = /^(.+):(\d+)$/.exec(instance);
    if (!m) return undefined;
    const name = m[1]!;
    const pid = Number(m[2]);
    if (isAggregate(name) || pid === 0) return undefined;
    return { name, pid };
  }
  if (kind === 'process') {
    const m = /^(.*?)(?:#(\d+))?$/.exec(instance)!;
    const name = m[1]!;
    if (name === '' || isAggregate(name)) return undefined;
    return { name, index: m[2] === undefined ? 0 : Number(m[2]) };
  }
  return undefined;
}

// `Idle` (pid 0) is the CPU's idle time, not a process; `_Total` sums every instance.
const isAggregate = (name: string): boolean => name === '_Total' || name === 'Idle';

type Family<M extends MetricName> = { readonly metric: M; readonly labels: LabelsOf<M> };
type HostFamily = { [M in MetricName]: Family<M> }[MetricName];

/** One system counter the agent reads. */
export interface HostCounter {
  readonly object: string;
  readonly counter: string;
  /**
   * Which instances count: none (a single-instance object such as Memory), only the `_Total`
   * aggregate, or each instance except `_Total` (labelled by `label`).
   */
  readonly instances: 'none' | 'total' | 'each';
  readonly family: HostFamily;
  /** The catalogue label that carries the instance name, for `each`. */
  readonly label?: string;
  /** Multiplier from the counter's unit to the metric's (percent to ratio, MB to bytes). */
  readonly scale: number;
  /** Whether the agent adds this counter to its own PDH query (others are recognised in logs, or read from the kernel). */
  readonly live: boolean;
}

const host = <M extends MetricName>(
  object: string,
  counter: string,
  metric: M,
  labels: LabelsOf<M>,
  opts: { instances?: HostCounter['instances']; label?: string; scale?: number; live?: boolean } = {},
): HostCounter => ({
  object,
  counter,
  instances: opts.instances ?? 'none',
  family: { metric, labels } as HostFamily,
  ...(opts.label === undefined ? {} : { label: opts.label }),
  scale: opts.scale ?? 1,
  live: opts.live ?? true,
});

export const HOST_COUNTERS: readonly HostCounter[] = [
  // The live agent reads the Memory object's figures and the processor queue from kernel calls
  // (SystemPerformanceInformation, the ready threads of SystemProcessInformation), not through PDH:
  // these paths are for PerfMon logs and for the Windows workflow's cross-check.
  host('Memory', 'Free System Page Table Entries', 'contention_kernel_table_free_entries', { table: 'system_ptes' }, { live: false }),
  host('Memory', 'Pool Paged Bytes', 'contention_kernel_pool_bytes', { pool: 'paged' }, { live: false }),
  host('Memory', 'Pool Nonpaged Bytes', 'contention_kernel_pool_bytes', { pool: 'nonpaged' }, { live: false }),
  host('Memory', 'Committed Bytes', 'contention_memory_commit_bytes', {}, { live: false }),
  host('Memory', 'Commit Limit', 'contention_memory_commit_limit_bytes', {}, { live: false }),
  host('Memory', 'Available Bytes', 'contention_memory_available_bytes', {}, { live: false }),
  // Older logs often carry only the coarser forms.
  host('Memory', 'Available KBytes', 'contention_memory_available_bytes', {}, { scale: 1024, live: false }),
  host('Memory', 'Available MBytes', 'contention_memory_available_bytes', {}, { scale: 1024 * 1024, live: false }),
  host('System', 'Processor Queue Length', 'contention_cpu_queue_length', {}, { live: false }),
  host('Processor', '% Processor Time', 'contention_cpu_utilization_ratio', {}, { instances: 'total', scale: 0.01 }),
  host('Processor Information', '% Processor Time', 'contention_cpu_utilization_ratio', {}, { instances: 'total', scale: 0.01, live: false }),
  host('PhysicalDisk', 'Current Disk Queue Length', 'contention_disk_queue_length', { device: '' }, { instances: 'each', label: 'device' }),
];

/** Numeric fields of a process-table row that a PDH process counter also reports. */
export type ProcessField = 'privateBytes' | 'workingSetBytes' | 'virtualBytes' | 'handles' | 'threads';

/**
 * Per-process counters and the process-table field each one is. The agent reads processes from the
 * native process list, not from these; they are here for PerfMon logs. Where the agent exports a
 * per-process family (top K), `metric` is it; working set and virtual size are exported per group
 * only, and `metric` names the per-process series analyze reports them under.
 */
export const PROCESS_COUNTERS: Readonly<Record<string, { field: ProcessField; metric: ProcessMetric }>> = {
  'private bytes': { field: 'privateBytes', metric: 'contention_process_private_bytes' },
  'handle count': { field: 'handles', metric: 'contention_process_handles' },
  'thread count': { field: 'threads', metric: 'contention_process_threads' },
  'working set': { field: 'workingSetBytes', metric: 'contention_process_working_set_bytes' },
  'virtual bytes': { field: 'virtualBytes', metric: 'contention_process_virtual_bytes' },
};

export type ProcessMetric =
  | Extract<MetricName, 'contention_process_private_bytes' | 'contention_process_handles' | 'contention_process_threads'>
  | 'contention_process_working_set_bytes'
  | 'contention_process_virtual_bytes';

/** What one counter means to the agent. */
export type CounterMeaning =
  | {
      readonly kind: 'host';
      readonly metric: MetricName;
      readonly labels: Readonly<Record<string, string>>;
      /** Multiply the counter's value by this to get the metric's unit. */
      readonly scale: number;
    }
  | {
      readonly kind: 'process';
      readonly metric: ProcessMetric;
      /** `name` always; `pid` from Process V2, else `instance` (the PDH instance, index and all). */
      readonly labels: Readonly<Record<string, string>>;
      readonly scale: number;
      readonly field: ProcessField;
      readonly process: ProcessInstance;
    };

const hostIndex = new Map(HOST_COUNTERS.map((c) => [key(c.object, c.counter), c]));

function key(object: string, counter: string): string {
  return `${object.toLowerCase()}\\${counter.toLowerCase()}`;
}

/**
 * The agent's metric and labels for a counter path (with or without a host), or undefined when the
 * agent has no such metric, the instance is an aggregate the metric does not take (`_Total` of a
 * disk, one CPU of Processor), or the path is a wildcard.
 */
export function counterMeaning(path: string | CounterPath): CounterMeaning | undefined {
  const p = typeof path === 'string' ? parseCounterPath(path) : path;
  if (!p) return undefined;
  const object = p.object.toLowerCase();
  if (object === 'process' || object === 'process v2') {
    const counter = PROCESS_COUNTERS[p.counter.toLowerCase()];
    const process = parseProcessInstance(p.object, p.instance);
    if (!counter || !process) return undefined;
    const labels: Record<string, string> =
      process.pid === undefined ? { name: process.name, instance: p.instance } : { name: process.name, pid: String(process.pid) };
    return { kind: 'process', metric: counter.metric, labels, scale: 1, field: counter.field, process };
  }
  const c = hostIndex.get(key(p.object, p.counter));
  if (!c) return undefined;
  const labels = hostLabels(c, p.instance);
  return labels && { kind: 'host', metric: c.family.metric, labels, scale: c.scale };
}

/** The labels a system counter's instance gets, or undefined when that instance is not one the metric takes. */
export function hostLabels(c: HostCounter, instance: string): Readonly<Record<string, string>> | undefined {
  const fixed = c.family.labels as Readonly<Record<string, string>>;
  switch (c.instances) {
    case 'none':
      return instance === '' ? fixed : undefined;
    case 'total':
      return instance === '_Total' ? fixed : undefined;
    case 'each':
      if (instance === '' || instance === '_Total' || instance.includes('*')) return undefined;
      return { ...fixed, [c.label!]: instance };
  }
}

/** The English path the agent adds to its PDH query for a system counter (a wildcard for `each`). */
export function queryPath(c: HostCounter): string {
  const instance = c.instances === 'none' ? '' : c.instances === 'total' ? '(_Total)' : '(*)';
  return `\\${c.object}${instance}\\${c.counter}`;
}

/** The system counters the live collector reads. */
export const LIVE_HOST_COUNTERS: readonly HostCounter[] = HOST_COUNTERS.filter((c) => c.live);
