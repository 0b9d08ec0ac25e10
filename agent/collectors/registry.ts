import type { Config } from '../config/schema.js';
import type { CollectorSpec } from './collector.js';
import { cgroupsCollector } from './cgroups.js';
import { conntrackCollector } from './conntrack.js';
import { captureCollector, windowsCaptureCollector } from './capture.js';
import { cpuCollector } from './cpu.js';
import { ephemeralPortsCollector } from './ephemeral-ports.js';
import { filesystemsCollector } from './filesystems.js';
import { oomKillsCollector } from './oom-kills.js';
import { diskQueueCollector } from './disk-queue.js';
import { hostInfoCollector } from './host-info.js';
import { kernelPoolsCollector } from './kernel-pools.js';
import { kernelTablesCollector } from './kernel-tables.js';
import { memoryCollector } from './memory.js';
import type { CollectorName } from './names.js';
import { pressureCollector } from './pressure.js';
import { processesCollector } from './processes.js';
import { windowsCpuCollector } from './windows/cpu.js';
import { windowsDiskQueueCollector } from './windows/disk-queue.js';
import { windowsKernelPoolsCollector } from './windows/kernel-pools.js';
import { windowsKernelTablesCollector } from './windows/kernel-tables.js';
import { windowsMemoryCollector } from './windows/memory.js';
import { windowsProcessesCollector } from './windows/processes.js';

export type CollectorRegistry = Readonly<Partial<Record<CollectorName, CollectorSpec>>>;

export const linuxCollectors: CollectorRegistry = {
  kernel_tables: kernelTablesCollector,
  kernel_pools: kernelPoolsCollector,
  memory: memoryCollector,
  cpu: cpuCollector,
  disk_queue: diskQueueCollector,
  pressure: pressureCollector,
  host_info: hostInfoCollector,
  processes: processesCollector,
  cgroups: cgroupsCollector,
  filesystems: filesystemsCollector,
  oom_kills: oomKillsCollector,
  conntrack: conntrackCollector,
  ephemeral_ports: ephemeralPortsCollector,
  capture: captureCollector,
};

/** The same names and metrics from PDH and the native process list. Pressure stall has no Windows counterpart: absent, not failing. */
export const windowsCollectors: CollectorRegistry = {
  kernel_tables: windowsKernelTablesCollector,
  kernel_pools: windowsKernelPoolsCollector,
  memory: windowsMemoryCollector,
  cpu: windowsCpuCollector,
  disk_queue: windowsDiskQueueCollector,
  host_info: hostInfoCollector,
  processes: windowsProcessesCollector,
  capture: windowsCaptureCollector,
};

/** The collectors to run from a registry (the platform's): each one's default, overridden by the config and then by command-line flags. */
export function enabledCollectors(config: Config, registry: CollectorRegistry): CollectorSpec[] {
  return Object.values(registry).filter((spec) => config.collectors[spec.name] ?? spec.defaultEnabled);
}
