/**
 * Links from panels to the runbooks in docs/runbooks/. Grafana needs a URL, and where the docs are
 * served differs per site, so links go through the `runbooks` variable (see docs/dashboards.md).
 */
export type RunbookName =
  | 'AgentDown' | 'AgentSamplesStale' | 'AvailableMemoryCritical' | 'AvailableMemoryLow' | 'CPUQueueSaturated'
  | 'CollectorFailing' | 'CommitExhausted' | 'CommitNearLimit' | 'DiskQueueSaturated' | 'FreeSystemPTEsLow'
  | 'IOPressureStall' | 'KernelPoolExhausted' | 'KernelPoolGrowing' | 'KernelPoolNearLimit' | 'KernelTableExhausted'
  | 'KernelTableLow' | 'LeakSuspected' | 'MemoryPressureStall' | 'ProcessGroupLeakExhaustsMemory'
  | 'CPUAllBusy' | 'ProcessFdLimit' | 'CgroupMemoryLimit' | 'CgroupPidsNearLimit' | 'OOMKill' | 'FilesystemSpace' | 'FilesystemInodes';

/** The default of the `runbooks` variable: the folder's path in this repository. */
export const RUNBOOKS_URL = 'docs/runbooks';

/** Alerts that share another alert's runbook (as their runbook_url in rules/contention.yml says). */
export const SHARED_RUNBOOKS: Readonly<Record<string, RunbookName>> = {
  MemoryPressureFullStall: 'MemoryPressureStall',
  MemoryPressureFullCritical: 'MemoryPressureStall',
  IOPressureFullStall: 'IOPressureStall',
  CPUPressureStall: 'CPUQueueSaturated',
  AgentAbsent: 'AgentDown',
  ProcessNearFdLimit: 'ProcessFdLimit',
  ProcessFdLimitExhausted: 'ProcessFdLimit',
  CgroupMemoryNearLimit: 'CgroupMemoryLimit',
  CgroupMemoryExhausted: 'CgroupMemoryLimit',
  CgroupOOMKill: 'OOMKill',
  FilesystemSpaceLow: 'FilesystemSpace',
  FilesystemSpaceExhausted: 'FilesystemSpace',
  FilesystemInodesLow: 'FilesystemInodes',
  FilesystemInodesExhausted: 'FilesystemInodes',
};

export const runbookLink = (name: RunbookName): { title: string; url: string; newTab: boolean } => ({
  title: `Runbook: ${name}`,
  url: `\${runbooks}/${name}.md`,
  newTab: true,
});

/**
 * Adds a `runbook` label naming each alert's runbook to an ALERTS selection, so a table of alerts
 * can link every row to its runbook, shared ones included.
 */
export function withRunbookLabel(alerts: string): string {
  let expr = `label_replace(${alerts}, "runbook", "$1", "alertname", "(.+)")`;
  const byRunbook = new Map<string, string[]>();
  for (const [alert, runbook] of Object.entries(SHARED_RUNBOOKS)) byRunbook.set(runbook, [...(byRunbook.get(runbook) ?? []), alert]);
  for (const [runbook, names] of byRunbook) expr = `label_replace(${expr}, "runbook", "${runbook}", "alertname", "${names.join('|')}")`;
  return expr;
}
