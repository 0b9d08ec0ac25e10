import type { Config } from '../config/schema.js';
import type { Sink } from '../metrics/sample.js';
import type { QueueWatch } from '../sampler/queue-watch.js';
import type { CollectorName } from './names.js';

/**
 * One source of readings. It reads, writes what it read to the sink, and throws when it cannot read;
 * it throws `unsupported(...)` when what it reads does not exist on this host at all.
 */
export interface Collector {
  update(sink: Sink): void | Promise<void>;
  /** Releases what the collector holds open (a PDH query, native buffers); called when its runtime retires. */
  stop?(): void;
}

export interface CollectorContext {
  readonly config: Config;
  readonly procfs: string;
  readonly sysfs: string;
  readonly queueWatch: QueueWatch;
}

export interface CollectorSpec {
  readonly name: CollectorName;
  readonly description: string;
  readonly defaultEnabled: boolean;
  create(ctx: CollectorContext): Collector;
}

const UNSUPPORTED = Symbol('unsupported');

/**
 * The error a collector throws when its source does not exist on this host (no PSI before Linux
 * 4.20, no diskstats in a container), as node_exporter's ErrNoData: not a failure, said once.
 */
export function unsupported(reason: string): Error {
  return Object.assign(new Error(reason), { [UNSUPPORTED]: true });
}

export const isUnsupported = (err: unknown): boolean => typeof err === 'object' && err !== null && UNSUPPORTED in err;

/** Whether a failed read means the file is not there at all (rather than unreadable or malformed). */
export const isAbsent = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EOPNOTSUPP';
};
