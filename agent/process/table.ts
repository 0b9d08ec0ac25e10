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
  /** Bytes read from and written to storage since start (Linux read_bytes/write_bytes); absent where unreadable. */
  readonly ioReadBytes?: number;
  readonly ioWriteBytes?: number;
  /** Page faults since start: major ones needed a disk read. */
  readonly majorFaults?: number;
  readonly minorFaults?: number;
  /** What tells it apart from processes of the same name: script, module, jar, app pool or services. */
  readonly displayName: string;
  /** Its systemd unit or container, from its cgroup (Linux). */
  readonly unit?: string;
  /** Its cgroup path in the hierarchy that holds the memory controller (v2, or v1 memory). */
  readonly cgroup?: string;
  /**
   * Unix ms when its figures were read, where that can be earlier than the sample: a quiet process's
   * row is carried over between its readings (read-table.ts). Absent: read at the sample's time.
   */
  readonly readAt?: number;
  /**
   * Unix ms of the reading before this one, where that reading found the previous row's figures
   * unchanged and carried it on: the rates of this row span the time since then, not since the
   * previous row was read.
   */
  readonly previousReadAt?: number;
  /** Rates since the previous sample (since start for a process first seen). */
  readonly rates: ProcessRates;
  /** Criteria the process matches, in config order; the first is its group. */
  readonly criteria: readonly string[];
  /** Its process group: the first matching criteria, or its name when none matches (`group` is its Unix group). */
  readonly processGroup: string;
}

export interface ProcessRates {
  /** CPU seconds per second: 1 is one CPU busy. */
  readonly cpu: number;
  /** Private bytes gained per second (negative when shrinking). */
  readonly privateGrowth: number;
  readonly ioRead?: number;
  readonly ioWrite?: number;
  readonly majorFaults?: number;
}

export interface ProcessTable {
  readonly rows: readonly ProcessRow[];
  /** The sample's one top set (see topSet): what the top-K series, the page and snapshot show. */
  readonly top?: readonly ProcessRow[];
  /** Open-descriptor soft limits of the processes near enough to be asked, by processKey. */
  readonly fdLimits?: ReadonlyMap<string, number>;
  /** Unix ms when reading started. */
  readonly timestamp: number;
}

/** Identifies a process across samples: the pid alone is reused. */
export const processKey = (p: { pid: number; startTime: number }): string => `${p.pid}:${p.startTime}`;
