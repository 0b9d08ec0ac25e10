import { join } from 'node:path';
import { parseInteger } from '../procfs/filenr.js';
import { readProcFile } from '../procfs/read.js';
import type { CollectorSpec } from './collector.js';

/**
 * The connection-tracking table: when nf_conntrack_count reaches nf_conntrack_max the kernel drops
 * new connections ("nf_conntrack: table full, dropping packet"). Only where the module is loaded; two
 * small reads. Exported as the kernel table "conntrack".
 */
export const conntrackCollector: CollectorSpec = {
  name: 'conntrack',
  description: 'Connection-tracking entries against nf_conntrack_max, where netfilter conntrack is loaded',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      let count: number;
      let max: number;
      try {
        count = parseInteger(readProcFile(join(procfs, 'sys/net/netfilter/nf_conntrack_count')), 'nf_conntrack_count');
        max = parseInteger(readProcFile(join(procfs, 'sys/net/netfilter/nf_conntrack_max')), 'nf_conntrack_max');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // not loaded: nothing to track, nothing to fill
        throw err;
      }
      sink.set('contention_kernel_table_size_entries', { table: 'conntrack' }, max);
      sink.set('contention_kernel_table_free_entries', { table: 'conntrack' }, Math.max(0, max - count));
    },
  }),
};
