import { pdhCollector } from './pdh-collector.js';

export const windowsMemoryCollector = pdhCollector({
  name: 'memory',
  description: 'Commit charge against the commit limit, available and physical memory',
  metrics: [
    'contention_memory_commit_bytes',
    'contention_memory_commit_limit_bytes',
    'contention_memory_available_bytes',
    'contention_memory_physical_bytes',
    'contention_memory_commit_limit_enforced',
  ],
});
