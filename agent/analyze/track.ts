/**
 * One series of an offline log, whatever its format: the exact header it had in the file, what it
 * means in the agent's own vocabulary (metric and labels), and its readings.
 */
export interface Track {
  /** The column header (PerfMon counter path) or series name exactly as in the input. */
  readonly counter: string;
  /** The instance the input names (process instance, disk, pool), or "" for single counters. */
  readonly instance: string;
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Unix ms, ascending. */
  readonly times: ArrayLike<number>;
  /** NaN where the log had no reading. */
  readonly values: ArrayLike<number>;
  /**
   * Unix ms at which a new life of the subject began, from evidence in the log: the process's
   * Elapsed Time or the host's System Up Time going back, a gap in the rows (the host was down).
   */
  readonly lifeStarts?: readonly number[];
  readonly lifeKind?: 'restart' | 'reboot';
}
