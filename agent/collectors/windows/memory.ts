import { performancePart } from './performance-part.js';
import { windowsHostCollector } from './host-collector.js';

export const windowsMemoryCollector = windowsHostCollector({
  name: 'memory',
  description: 'Commit charge against the commit limit, available and physical memory',
  metrics: [
    'contention_memory_commit_bytes',
    'contention_memory_commit_limit_bytes',
    'contention_memory_available_bytes',
    'contention_memory_physical_bytes',
    'contention_memory_commit_limit_enforced',
  ],
  native: performancePart,
});
