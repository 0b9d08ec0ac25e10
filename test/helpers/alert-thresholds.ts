import { THRESHOLDS } from '../../agent/detect/thresholds.js';

/** Each shipped alert with a fixed threshold, and the agent's number it must equal (rules, dashboards, snapshot agree). */
export const ALERT_THRESHOLDS: Readonly<Record<string, number>> = {
  FreeSystemPTEsLow: THRESHOLDS.systemPtesMinFree,
  KernelTableLow: THRESHOLDS.kernelTableFreeWarning,
  KernelTableExhausted: THRESHOLDS.kernelTableFreeCritical,
  KernelPoolNearLimit: THRESHOLDS.poolUsedWarning,
  KernelPoolExhausted: THRESHOLDS.poolUsedCritical,
  CommitNearLimit: THRESHOLDS.commitUsedWarning,
  CommitExhausted: THRESHOLDS.commitUsedCritical,
  AvailableMemoryLow: THRESHOLDS.availableMemoryWarning,
  AvailableMemoryCritical: THRESHOLDS.availableMemoryCritical,
  CPUQueueSaturated: THRESHOLDS.cpuQueuePerCpu,
  DiskQueueSaturated: THRESHOLDS.diskQueue,
  MemoryPressureStall: THRESHOLDS.pressureSomeWarning,
  MemoryPressureFullStall: THRESHOLDS.pressureFullWarning,
  MemoryPressureFullCritical: THRESHOLDS.pressureFullCritical,
  IOPressureStall: THRESHOLDS.pressureSomeWarning,
  IOPressureFullStall: THRESHOLDS.pressureFullWarning,
  CPUPressureStall: THRESHOLDS.cpuPressureSomeWarning,
  CPUAllBusy: THRESHOLDS.cpuUtilizationWarning,
  ProcessNearFdLimit: THRESHOLDS.processFdWarning,
  ProcessFdLimitExhausted: THRESHOLDS.processFdCritical,
  CgroupMemoryNearLimit: THRESHOLDS.cgroupMemoryWarning,
  CgroupMemoryExhausted: THRESHOLDS.cgroupMemoryCritical,
  CgroupPidsNearLimit: THRESHOLDS.cgroupPidsWarning,
  FilesystemSpaceLow: THRESHOLDS.filesystemAvailWarning,
  FilesystemSpaceExhausted: THRESHOLDS.filesystemAvailCritical,
  FilesystemInodesLow: THRESHOLDS.filesystemFilesFreeWarning,
  FilesystemInodesExhausted: THRESHOLDS.filesystemFilesFreeCritical,
};

/** The number a rule expression compares against (the last `< N` or `> N` not inside a call). */
export function ruleThreshold(expr: string): number {
  return Number(/[<>]=?\s*([\d.]+)(?!\s*\))/.exec(expr)?.[1]);
}
