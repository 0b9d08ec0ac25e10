import { performancePart } from './performance-part.js';
import { windowsHostCollector } from './host-collector.js';

/** Paged and nonpaged pool, and their limits as estimates (64-bit Windows does not tell user mode the maximums). */
export const windowsKernelPoolsCollector = windowsHostCollector({
  name: 'kernel_pools',
  description: 'Paged and nonpaged pool bytes, and estimated pool limits',
  metrics: ['contention_kernel_pool_bytes', 'contention_kernel_pool_limit_bytes'],
  native: performancePart,
});
