/** Every collector the agent knows; the registry maps each to its implementation. */
export const COLLECTOR_NAMES = [
  'kernel_tables',
  'kernel_pools',
  'memory',
  'cpu',
  'disk_queue',
  'pressure',
  'host_info',
  'processes',
  'capture',
] as const;

export type CollectorName = (typeof COLLECTOR_NAMES)[number];
