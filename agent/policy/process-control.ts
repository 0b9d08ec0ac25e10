/** The process a decision was made on: the pid alone is reused, so start time and exe come along. */
export interface Target {
  readonly pid: number;
  /** Unix ms, as in the process table. */
  readonly startTime: number;
  /** Executable path as read at decision time; empty when it could not be read. */
  readonly exe: string;
  /**
   * The command line (arguments joined by spaces) the criteria matched at decision time, where the OS
   * exposes it: an exec or a rewritten title (setproctitle, `exec -a`) since then makes it another
   * process for matching, so the action is refused as a mismatch rather than taken on a stale match.
   */
  readonly cmdline?: string;
}

/** `stopped`: ended within the grace; `killed`: needed SIGKILL; `mismatch`: the pid is now another process. */
export type TerminateOutcome = 'stopped' | 'killed' | 'mismatch' | 'gone' | 'failed';
export type TrimOutcome = 'trimmed' | 'mismatch' | 'gone' | 'failed';
export type PriorityOutcome = 'set' | 'mismatch' | 'gone' | 'failed';

/**
 * The OS actions the policy engine takes, each verifying first that the pid is still the process the
 * decision was made on. Linux implements it in platform/linux; a Windows implementation wraps its
 * held-handle terminate and working-set trim.
 */
export interface ProcessControl {
  /** Asks the process to end, waits `graceMs`, then forces it. */
  terminate(target: Target, graceMs: number): Promise<TerminateOutcome>;
  /** Caps the process's resident memory at `limitBytes` (on Linux through the cgroup it runs in). */
  trim(target: Target, limitBytes: number, cgroup: string | undefined): Promise<TrimOutcome>;
  /** The process's scheduling priority (nice), or undefined when it is gone or another process. */
  priority(target: Target): number | undefined;
  setPriority(target: Target, nice: number): PriorityOutcome;
  /** A cgroup's CPU weight (1 to 10000, 100 by default), or undefined when it cannot be read. */
  cpuWeight(cgroup: string): number | undefined;
  setCpuWeight(cgroup: string, weight: number): boolean;
}
