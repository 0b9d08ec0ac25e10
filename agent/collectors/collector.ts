import type { Config } from '../config/schema.js';
import type { Sink } from '../metrics/sample.js';
import type { QueueWatch } from '../sampler/queue-watch.js';
import type { CollectorName } from './names.js';

/** One source of readings. It reads, writes what it read to the sink, and throws when it cannot read. */
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
