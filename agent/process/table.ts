import type { ProcessIdentity } from './criteria.js';

/** One process as the agent saw it in one sample. Rows are complete or absent: never partial. */
export interface ProcessRow extends ProcessIdentity {
  readonly pid: number;
  readonly ppid: number;
  /** Unix ms; with the pid, identifies the process across pid reuse. */
  readonly startTime: number;
  readonly state: string;
  /** Resident anonymous plus swapped memory: what Windows calls Private Bytes. */
  readonly privateBytes: number;
  readonly workingSetBytes: number;
  readonly virtualBytes: number;
  readonly threads: number;
  readonly cpuSeconds: number;
  /** Open file descriptors (handles on Windows). */
  readonly handles: number;
  /** Criteria the process matches, in config order; the first is its group. */
  readonly criteria: readonly string[];
  /** Its process group: the first matching criteria, or its name when none matches (`group` is its Unix group). */
  readonly processGroup: string;
}

export interface ProcessTable {
  readonly rows: readonly ProcessRow[];
  /** Unix ms when reading started. */
  readonly timestamp: number;
}

/** Identifies a process across samples: the pid alone is reused. */
export const processKey = (p: { pid: number; startTime: number }): string => `${p.pid}:${p.startTime}`;
