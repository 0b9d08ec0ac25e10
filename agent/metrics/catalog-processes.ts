import type { FamilyDef } from './catalog.js';

const group = (what: string, unit: string) => ({
  type: 'gauge' as const,
  labels: ['group'] as const,
  help: `${what} summed over the processes of a group, in ${unit}.`,
});
const top = (what: string) => ({
  type: 'gauge' as const,
  labels: ['group', 'name', 'pid'] as const,
  help: `${what} of a process in the top set (the top K by CPU, private bytes, growth, handles, threads and I/O, and criteria processes; name is its display name).`,
});

export const processCatalog = {
  contention_process_group_private_bytes: group('Private bytes (Linux: resident anonymous plus swapped memory)', 'bytes'),
  contention_process_group_working_set_bytes: group('Working set (resident memory)', 'bytes'),
  contention_process_group_virtual_bytes: group('Virtual size', 'bytes'),
  contention_process_group_handles: group('Open handles (Linux: file descriptors)', 'handles'),
  contention_process_group_threads: group('Threads', 'threads'),
  contention_process_group_processes: { type: 'gauge', labels: ['group'], help: 'Processes in a group.' },
  contention_process_group_cpu_seconds_total: {
    type: 'counter', labels: ['group'],
    help: 'CPU time used by the processes of a group while in it, in seconds; members that exit keep their share.',
  },
  contention_process_private_bytes: top('Private bytes'),
  contention_process_handles: top('Open handles'),
  contention_process_threads: top('Threads'),
  contention_process_working_set_bytes: top('Working set (resident memory) in bytes'),
  contention_process_cpu_seconds_per_second: top('CPU seconds per second since the previous sample (1 is one CPU busy)'),
  contention_process_private_growth_bytes_per_second: top('Private bytes gained per second since the previous sample'),
  contention_process_major_page_faults_per_second: top('Major page faults (needing a disk read) per second'),
  contention_process_open_files_limit: top('Soft limit on open file descriptors (RLIMIT_NOFILE; Windows: the 16,777,216 handle limit), read for processes holding 64 or more'),
  contention_process_group_worst_fd_ratio: {
    type: 'gauge', labels: ['group'],
    help: 'Highest share of its open-descriptor limit that any process of the group holds, 0 to 1 (processes holding 64 or more).',
  },
  contention_process_read_errors_total: {
    type: 'counter', labels: ['reason'],
    help: 'Processes skipped while reading the process table, by reason (vanished, permission, zombie, malformed).',
  },
} as const satisfies Record<string, FamilyDef>;

/**
 * Storage I/O of a process: Linux only. Windows' Read/WriteTransferCount also count network and device
 * I/O, so they are not the same figure and are not exported under these names.
 */
export const processIoCatalog = {
  contention_process_io_read_bytes_per_second: top('Bytes read from storage per second (Linux read_bytes; absent where unreadable)'),
  contention_process_io_write_bytes_per_second: top('Bytes written to storage per second (Linux write_bytes; absent where unreadable)'),
} as const satisfies Record<string, FamilyDef>;
