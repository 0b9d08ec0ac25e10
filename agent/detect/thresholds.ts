/**
 * The thresholds the agent judges by. The alert rules in rules/ and the dashboards use the same
 * numbers; a test reads the rule files and fails when they drift apart.
 */
export const THRESHOLDS = {
  /** The field rule: a Windows host with fewer free system PTEs is close to hanging. */
  systemPtesMinFree: 10_000,
  /** Free share of any other finite kernel table. */
  kernelTableFreeWarning: 0.1,
  kernelTableFreeCritical: 0.02,
  /** Kernel pool use against its limit. */
  poolUsedWarning: 0.8,
  poolUsedCritical: 0.9,
  /** Commit charge against the commit limit, where the OS enforces it. */
  commitUsedWarning: 0.9,
  commitUsedCritical: 0.98,
  /** Available physical memory as a share of all of it. */
  availableMemoryWarning: 0.1,
  availableMemoryCritical: 0.05,
  /** Runnable threads waiting per CPU. */
  cpuQueuePerCpu: 2,
  /** In-flight I/Os on one disk. */
  diskQueue: 2,
  /** Share of wall time that some task stalled (some) or all tasks stalled (full). */
  pressureSomeWarning: 0.2,
  pressureFullWarning: 0.05,
  pressureFullCritical: 0.2,
  /** CPU pressure: share of time runnable tasks waited for a CPU. */
  cpuPressureSomeWarning: 0.5,
} as const;
