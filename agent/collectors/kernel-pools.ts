import { join } from 'node:path';
import { parseMeminfo } from '../procfs/meminfo.js';
import { readProcFile } from '../procfs/read.js';
import type { CollectorSpec } from './collector.js';

/** Linux kernel memory that, like Windows pools, belongs to no process and is freed only by the kernel. */
export const LINUX_POOLS: ReadonlyArray<{ pool: string; field: string }> = [
  { pool: 'slab_unreclaimable', field: 'SUnreclaim' },
  { pool: 'slab_reclaimable', field: 'SReclaimable' },
  { pool: 'kernel_stack', field: 'KernelStack' },
  { pool: 'page_tables', field: 'PageTables' },
  { pool: 'vmalloc', field: 'VmallocUsed' },
];

export const kernelPoolsCollector: CollectorSpec = {
  name: 'kernel_pools',
  description: 'Kernel memory pools (slab, kernel stacks, page tables, vmalloc) and their limits',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      const meminfo = parseMeminfo(readProcFile(join(procfs, 'meminfo')));
      let found = 0;
      for (const { pool, field } of LINUX_POOLS) {
        const value = meminfo.get(field);
        if (value === undefined) continue;
        sink.set('contention_kernel_pool_bytes', { pool }, value);
        found++;
      }
      if (found === 0) throw new Error('meminfo has none of the kernel pool fields');
      // Only vmalloc has a limit the kernel states: the size of its address-space window. Slab,
      // stacks and page tables are bounded only by physical memory.
      const vmallocTotal = meminfo.get('VmallocTotal');
      if (vmallocTotal !== undefined && vmallocTotal > 0) {
        sink.set('contention_kernel_pool_limit_bytes', { pool: 'vmalloc', source: 'reading' }, vmallocTotal);
      }
    },
  }),
};
