import type { Config } from '../config/schema.js';
import type { CollectorSpec } from './collector.js';
import { cpuCollector } from './cpu.js';
import { diskQueueCollector } from './disk_queue.js';
import { hostInfoCollector } from './host_info.js';
import { kernelPoolsCollector } from './kernel_pools.js';
import { kernelTablesCollector } from './kernel_tables.js';
import { memoryCollector } from './memory.js';
import type { CollectorName } from './names.js';
import { pressureCollector } from './pressure.js';
import { processesCollector } from './processes.js';

export const collectorRegistry: Readonly<Record<CollectorName, CollectorSpec>> = {
  kernel_tables: kernelTablesCollector,
  kernel_pools: kernelPoolsCollector,
  memory: memoryCollector,
  cpu: cpuCollector,
  disk_queue: diskQueueCollector,
  pressure: pressureCollector,
  host_info: hostInfoCollector,
  processes: processesCollector,
};

/** The collectors to run: each one's default, overridden by the config and then by command-line flags. */
export function enabledCollectors(config: Config): CollectorSpec[] {
  return Object.values(collectorRegistry).filter((spec) => config.collectors[spec.name] ?? spec.defaultEnabled);
}
