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
  'cgroups',
  'filesystems',
  'oom_kills',
  'conntrack',
  'ephemeral_ports',
  'capture',
] as const;

export type CollectorName = (typeof COLLECTOR_NAMES)[number];

/** Collectors with no Windows counterpart yet: absent there, not failing. */
export const LINUX_ONLY_COLLECTORS: readonly CollectorName[] = ['pressure', 'cgroups', 'filesystems', 'oom_kills', 'conntrack', 'ephemeral_ports'];
