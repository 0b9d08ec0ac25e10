/**
 * Every metric family the agent exports: one meaning per name on every OS. docs/metrics.md maps each
 * to its Linux source and Windows counter, and a test keeps the two in step.
 */
export interface FamilyDef {
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly labels: readonly string[];
}

import { captureCatalog } from './catalog-capture.js';
import { deliveryCatalog } from './catalog-delivery.js';
import { detectCatalog } from './catalog-detect.js';
import { policyCatalog } from './catalog-policy.js';
import { processCatalog, processIoCatalog } from './catalog-processes.js';
import { windowsCatalog } from './catalog-windows.js';
import { rulesCatalog } from './catalog-rules.js';
import { remoteWriteCatalog } from './catalog-remote-write.js';

export const catalog = {
  ...processCatalog,
  ...processIoCatalog,
  ...detectCatalog,
  ...deliveryCatalog,
  ...windowsCatalog,
  ...rulesCatalog,
  ...policyCatalog,
  ...remoteWriteCatalog,
  ...captureCatalog,
  // Agent health
  contention_collector_success: {
    type: 'gauge', labels: ['collector'],
    help: 'Whether the collector succeeded in the last sample (1) or failed (0).',
  },
  contention_collector_unsupported: {
    type: 'gauge', labels: ['collector'],
    help: 'Present (1) when what the collector reads does not exist on this host, in place of its success series.',
  },
  contention_collector_duration_seconds: {
    type: 'gauge', labels: ['collector'],
    help: 'How long the collector took in the last sample, in seconds.',
  },
  contention_last_sample_timestamp_seconds: {
    type: 'gauge', labels: [],
    help: 'Unix time at which the served sample was taken; compare with time() for staleness.',
  },
  contention_sample_interval_seconds: {
    type: 'gauge', labels: [],
    help: 'Configured interval between samples, in seconds.',
  },
  contention_sample_values_rejected_total: {
    type: 'counter', labels: ['family'],
    help: 'Values a collector or stage produced that no kernel can (negative sizes or counters, sizes past 2^64, non-finite), dropped instead of exported.',
  },
  contention_log_write_failures_total: {
    type: 'counter', labels: [],
    help: 'Log lines dropped because the log stream refused them (a closed pipe, say); a failed log write is never fatal.',
  },
  contention_host_info: {
    type: 'gauge', labels: ['os', 'kernel', 'hostname', 'arch', 'distro', 'agent_version'],
    help: 'Constant 1; labels describe the host and the agent.',
  },

  // Exhaustible kernel tables
  contention_kernel_table_free_entries: {
    type: 'gauge', labels: ['table'],
    help: 'Free entries in a finite kernel table (system_ptes on Windows; file_handles, pids, threads, conntrack, ephemeral_ports on Linux).',
  },
  contention_kernel_table_size_entries: {
    type: 'gauge', labels: ['table'],
    help: 'Total entries a finite kernel table can hold.',
  },

  // Filesystems
  contention_filesystem_size_bytes: {
    type: 'gauge', labels: ['mountpoint', 'fstype', 'device'],
    help: 'Size of a mounted filesystem, in bytes (real filesystems only: no proc, sysfs, cgroup, read-only or network mounts).',
  },
  contention_filesystem_avail_bytes: {
    type: 'gauge', labels: ['mountpoint', 'fstype', 'device'],
    help: 'Space an unprivileged writer can still use on a filesystem, in bytes (f_bavail: excludes the root reserve).',
  },
  contention_filesystem_files: {
    type: 'gauge', labels: ['mountpoint', 'fstype', 'device'],
    help: 'Inodes a filesystem can hold (absent where the filesystem reports none, as btrfs).',
  },
  contention_filesystem_files_free: {
    type: 'gauge', labels: ['mountpoint', 'fstype', 'device'],
    help: 'Inodes still free on a filesystem.',
  },

  // OOM kills and cgroup limits
  contention_oom_kills_total: {
    type: 'counter', labels: [],
    help: 'Processes killed by the kernel out-of-memory killer since boot (Linux /proc/vmstat oom_kill).',
  },
  contention_cgroup_memory_bytes: {
    type: 'gauge', labels: ['cgroup'],
    help: 'Memory charged to a cgroup, in bytes (v2 memory.current; v1 memory.usage_in_bytes), for cgroups with a limit and systemd services.',
  },
  contention_cgroup_memory_limit_bytes: {
    type: 'gauge', labels: ['cgroup', 'limit'],
    help: 'A cgroup\'s memory limit in bytes: limit="max" (memory.max, v1 memory.limit_in_bytes: OOM kill beyond) or "high" (memory.high: throttled beyond); absent when unlimited.',
  },
  contention_cgroup_oom_kills_total: {
    type: 'counter', labels: ['cgroup'],
    help: 'Processes the OOM killer killed in a cgroup and its children (v2 memory.events oom_kill; v1 memory.oom_control).',
  },
  contention_cgroup_pids: {
    type: 'gauge', labels: ['cgroup'],
    help: 'Tasks (processes and threads) in a cgroup (pids.current).',
  },
  contention_cgroup_pids_limit: {
    type: 'gauge', labels: ['cgroup'],
    help: 'Most tasks a cgroup may hold (pids.max); absent when unlimited.',
  },

  // Kernel memory pools
  contention_kernel_pool_bytes: {
    type: 'gauge', labels: ['pool'],
    help: 'Kernel memory held by a pool (paged, nonpaged on Windows; slab_unreclaimable, slab_reclaimable, kernel_stack, page_tables, vmalloc on Linux).',
  },
  contention_kernel_pool_limit_bytes: {
    type: 'gauge', labels: ['pool', 'source'],
    help: 'Maximum a kernel pool can grow to; source="reading" when the OS reports it, "estimate" when derived.',
  },

  // Memory commit
  contention_memory_commit_bytes: {
    type: 'gauge', labels: [],
    help: 'Virtual memory committed (promised) to all processes and the kernel, in bytes.',
  },
  contention_memory_commit_limit_bytes: {
    type: 'gauge', labels: [],
    help: 'Commit the system can grant before allocations fail, in bytes.',
  },
  contention_memory_commit_limit_enforced: {
    type: 'gauge', labels: [],
    help: '1 when the OS refuses allocations past the commit limit (always on Windows; vm.overcommit_memory=2 on Linux).',
  },
  contention_memory_available_bytes: {
    type: 'gauge', labels: [],
    help: 'Physical memory available to new allocations without swapping, in bytes.',
  },
  contention_memory_physical_bytes: {
    type: 'gauge', labels: [],
    help: 'Physical memory installed and usable by the OS, in bytes.',
  },

  // CPU contention
  contention_cpus: {
    type: 'gauge', labels: [],
    help: 'Logical CPUs online.',
  },
  contention_cpu_queue_length: {
    type: 'gauge', labels: [],
    help: 'Runnable threads waiting for a CPU at the moment of the sample (beyond those running).',
  },
  contention_cpu_queue_length_peak: {
    type: 'gauge', labels: [],
    help: 'Highest cpu queue length seen by the fast queue poller since the previous sample.',
  },
  contention_cpu_blocked_tasks: {
    type: 'gauge', labels: [],
    help: 'Tasks blocked waiting for I/O at the moment of the sample.',
  },
  contention_cpu_utilization_ratio: {
    type: 'gauge', labels: [],
    help: 'Share of all CPU time spent busy (not idle, not I/O wait) since the previous sample, 0 to 1.',
  },
  contention_cpu_seconds_total: {
    type: 'counter', labels: ['mode'],
    help: 'CPU time spent in each mode summed over all CPUs, in seconds.',
  },

  // Disk contention
  contention_disk_queue_length: {
    type: 'gauge', labels: ['device'],
    help: 'I/O requests in flight on a whole disk at the moment of the sample.',
  },
  contention_disk_queue_length_peak: {
    type: 'gauge', labels: ['device'],
    help: 'Highest disk queue length seen by the fast queue poller since the previous sample.',
  },
  contention_disk_queue_weighted_seconds_total: {
    type: 'counter', labels: ['device'],
    help: 'Time-weighted I/O queue: seconds spent by all in-flight requests; its rate is the average queue length.',
  },

  // Pressure stall
  contention_pressure_stalled_seconds_total: {
    type: 'counter', labels: ['resource', 'scope'],
    help: 'Time some (at least one) or full (all non-idle) tasks were stalled waiting for cpu, memory or io, in seconds.',
  },
} as const satisfies Record<string, FamilyDef>;

export type MetricName = keyof typeof catalog;
export type LabelsOf<M extends MetricName> = { readonly [K in (typeof catalog)[M]['labels'][number]]: string };
