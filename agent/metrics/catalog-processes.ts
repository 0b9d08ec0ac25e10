import type { FamilyDef } from './catalog.js';

const group = (what: string, unit: string) => ({
  type: 'gauge' as const,
  labels: ['group'] as const,
  help: `${what} summed over the processes of a group, in ${unit}.`,
});
const top = (what: string) => ({
  type: 'gauge' as const,
  labels: ['group', 'name', 'pid'] as const,
  help: `${what} of a process among the top K by this measure (not every process: cardinality stays bounded).`,
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
  contention_process_read_errors_total: {
    type: 'counter', labels: ['reason'],
    help: 'Processes skipped while reading the process table, by reason (vanished, permission, zombie, malformed).',
  },
} as const satisfies Record<string, FamilyDef>;
