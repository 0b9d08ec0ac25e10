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
  /** All CPUs busy: utilisation, a finding apart from saturation (the queue). */
  cpuUtilizationWarning: 0.95,
  /** A process's open descriptors against its RLIMIT_NOFILE soft limit (Windows: handles against 2^24). */
  processFdWarning: 0.9,
  processFdCritical: 0.98,
  /** A cgroup's memory against memory.max, and its tasks against pids.max. */
  cgroupMemoryWarning: 0.9,
  cgroupMemoryCritical: 0.98,
  /** At or above memory.high the kernel throttles the cgroup's allocations. */
  cgroupMemoryHighWarning: 1,
  cgroupPidsWarning: 0.9,
  cgroupPidsCritical: 0.98,
  /** Space and inodes an unprivileged writer still has on a filesystem, as a share of its size. */
  filesystemAvailWarning: 0.1,
  filesystemAvailCritical: 0.05,
  filesystemFilesFreeWarning: 0.1,
  filesystemFilesFreeCritical: 0.05,
} as const;
