/**
 * What `doctor` says about one thing an investigation needs: whether the host could capture it now,
 * why, and the exact change that would make it ready. The checks are pure judgements over facts the
 * platform readers gather, so each verdict is tested on fixtures of both OSes.
 */
export type Verdict = 'ready' | 'not_ready' | 'unknown';

/** The things checked; the `kind` label of contention_capture_ready. One meaning on every OS. */
export type CheckKind =
  /** A crashing process leaves a dump (Linux core_pattern and core limits; Windows WER LocalDumps). */
  | 'process_crash_dump'
  /** Free space where those dumps land. */
  | 'process_crash_dump_space'
  /** A kernel crash leaves a dump (Linux kdump; Windows CrashControl). */
  | 'kernel_dump'
  /** The pagefile (or dedicated dump file) can hold the configured kernel dump (Windows). */
  | 'pagefile'
  /** Free space at the kernel dump's destination (Windows). */
  | 'kernel_dump_space'
  /** An operator can crash the host on purpose to take a dump of a hang (Linux sysrq; Windows CrashOnCtrlScroll). */
  | 'manual_crash'
  /** An NMI from the hypervisor or BMC crashes the host into a dump (Windows NMICrashDump). */
  | 'nmi_crash_dump'
  /** A task hung in D state panics the kernel, so kdump captures it. */
  | 'hung_task_panic'
  /** An oops panics the kernel, so kdump captures it. */
  | 'panic_on_oops'
  /** A soft lockup panics the kernel, so kdump captures it. */
  | 'softlockup_panic'
  /** The agent itself can take a dump of a running process (gcore and ptrace; MiniDumpWriteDump and its privileges). */
  | 'process_dump'
  /** Free space in the agent's evidence directory for the largest process it would dump. */
  | 'evidence_space';

export interface Check {
  readonly kind: CheckKind;
  readonly verdict: Verdict;
  /** Whether an investigation needs it: the exit code and the alert count only these. */
  readonly required: boolean;
  /** What was found, in a sentence. */
  readonly reason: string;
  /** The exact change that makes it ready (a sysctl, a unit setting, a registry value); absent when ready. */
  readonly fix?: string;
}

export const ready = (kind: CheckKind, required: boolean, reason: string): Check => ({ kind, verdict: 'ready', required, reason });
export const notReady = (kind: CheckKind, required: boolean, reason: string, fix: string): Check => ({ kind, verdict: 'not_ready', required, reason, fix });
export const unknown = (kind: CheckKind, required: boolean, reason: string, fix?: string): Check => ({
  kind, verdict: 'unknown', required, reason, ...(fix ? { fix } : {}),
});

/** Ready for an investigation only when every required check is ready; unknown is not ready. */
export function allRequiredReady(checks: readonly Check[]): boolean {
  return checks.every((c) => !c.required || c.verdict === 'ready');
}

/** The gauge value: 1 ready, 0 not ready or unknown (a host nobody can vouch for cannot be investigated). */
export const readyValue = (c: Check): number => (c.verdict === 'ready' ? 1 : 0);
