import { availableParallelism, totalmem } from 'node:os';
import type { HostFacts } from '../../platform/windows/pdh-values.js';

/** What the host says of itself without PDH: Node reads both from GlobalMemoryStatusEx and GetSystemInfo on Windows. */
export function windowsHostFacts(): HostFacts {
  return { physicalBytes: totalmem(), cpus: availableParallelism() };
}
