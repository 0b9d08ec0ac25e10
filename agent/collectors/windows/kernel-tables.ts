import { performancePart } from './performance-part.js';
import { windowsHostCollector } from './host-collector.js';

/** Free System PTEs: the Windows kernel table whose exhaustion hangs a host. Windows reports no total. */
export const windowsKernelTablesCollector = windowsHostCollector({
  name: 'kernel_tables',
  description: 'Free system page table entries (SystemPerformanceInformation.FreeSystemPtes)',
  metrics: ['contention_kernel_table_free_entries'],
  native: performancePart,
});
