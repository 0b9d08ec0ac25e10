import { join } from 'node:path';
import { parseFileNr, parseInteger } from '../procfs/filenr.js';
import { parseLoadavg } from '../procfs/loadavg.js';
import { readProcFile } from '../procfs/read.js';
import type { CollectorSpec } from './collector.js';

/**
 * Finite kernel tables whose exhaustion hangs or cripples a Linux host, as Free System PTEs does on
 * Windows: open file handles, PIDs and threads. Every thread takes an ID from the PID space, so the
 * PIDs in use are all tasks, not only processes.
 */
export const kernelTablesCollector: CollectorSpec = {
  name: 'kernel_tables',
  description: 'Free and total entries of file handles, pids and threads',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      const files = parseFileNr(readProcFile(join(procfs, 'sys/fs/file-nr')));
      const tasks = parseLoadavg(readProcFile(join(procfs, 'loadavg'))).tasks;
      const pidMax = parseInteger(readProcFile(join(procfs, 'sys/kernel/pid_max')), 'pid_max');
      const threadsMax = parseInteger(readProcFile(join(procfs, 'sys/kernel/threads-max')), 'threads-max');
      const tables = [
        { table: 'file_handles', size: files.max, used: files.allocated - files.unused },
        // PIDs 0 is never allocated, so pid_max IDs exist in all but one.
        { table: 'pids', size: pidMax - 1, used: tasks },
        { table: 'threads', size: threadsMax, used: tasks },
      ];
      for (const { table, size, used } of tables) {
        sink.set('contention_kernel_table_size_entries', { table }, size);
        sink.set('contention_kernel_table_free_entries', { table }, Math.max(0, size - used));
      }
    },
  }),
};
