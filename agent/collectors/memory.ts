import { join } from 'node:path';
import { parseInteger } from '../procfs/filenr.js';
import { parseMeminfo } from '../procfs/meminfo.js';
import { readProcFile } from '../procfs/read.js';
import type { CollectorSpec } from './collector.js';

const OVERCOMMIT_NEVER = 2;

export const memoryCollector: CollectorSpec = {
  name: 'memory',
  description: 'Commit charge against the commit limit, available and physical memory',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      const meminfo = parseMeminfo(readProcFile(join(procfs, 'meminfo')));
      const need = (field: string): number => {
        const value = meminfo.get(field);
        if (value === undefined) throw new Error(`meminfo has no ${field}`);
        return value;
      };
      sink.set('contention_memory_commit_bytes', {}, need('Committed_AS'));
      sink.set('contention_memory_commit_limit_bytes', {}, need('CommitLimit'));
      sink.set('contention_memory_available_bytes', {}, need('MemAvailable'));
      sink.set('contention_memory_physical_bytes', {}, need('MemTotal'));
      const mode = parseInteger(readProcFile(join(procfs, 'sys/vm/overcommit_memory')), 'overcommit_memory');
      sink.set('contention_memory_commit_limit_enforced', {}, mode === OVERCOMMIT_NEVER ? 1 : 0);
    },
  }),
};
