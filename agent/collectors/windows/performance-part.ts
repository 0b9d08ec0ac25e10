import { openPerformanceReader, PERFORMANCE_SOURCE, performanceSeries } from '../../platform/windows/performance-info.js';
import type { NativePart } from './host-collector.js';

/**
 * The Memory object's figures from NtQuerySystemInformation(SystemPerformanceInformation), by
 * default and without PDH: PerfMon computes those counters from this same call, so PDH adds
 * nothing but a dependency on the counter registry (often disabled or corrupt), and could not
 * succeed where the call fails. Each collector that uses it holds its own reader (a 4 KiB buffer).
 */
export const performancePart: NativePart = {
  source: PERFORMANCE_SOURCE,
  open: async () => {
    const reader = await openPerformanceReader();
    return { read: () => performanceSeries(reader.read()) };
  },
};
