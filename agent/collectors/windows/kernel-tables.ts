import { pdhCollector } from './pdh-collector.js';

/** Free System PTEs: the Windows kernel table whose exhaustion hangs a host. Windows reports no total. */
export const windowsKernelTablesCollector = pdhCollector({
  name: 'kernel_tables',
  description: 'Free System Page Table Entries (Memory\\Free System Page Table Entries)',
  metrics: ['contention_kernel_table_free_entries'],
});
