import { decimalAt } from './decimal-bytes.js';

export interface PidStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  /** Kernel flags (PF_*). */
  readonly flags: number;
  /** CPU time in clock ticks. */
  readonly utime: number;
  readonly stime: number;
  readonly numThreads: number;
  /** Start time in clock ticks after boot. */
  readonly startTicks: number;
  readonly vsize: number;
}

/** What the process table takes from stat: the parsed fields and the resident set in pages. */
export interface PidStatRead extends PidStat {
  /** Field 24: resident pages (anonymous + file + shmem), the same counter as VmRSS. */
  readonly rssPages: number;
  /** Fields 10 and 12: page faults served without and with a disk read. */
  readonly minorFaults: number;
  readonly majorFaults: number;
}

const PF_KTHREAD = 0x00200000;
const SPACE = 0x20;
const OPEN = 0x28;
const CLOSE = 0x29;

/**
 * Parses /proc/PID/stat. The command name sits in parentheses and may itself hold spaces and ")",
 * so the fields are counted from the last ")".
 */
export function parsePidStat(text: string): PidStat {
  const bytes = Buffer.from(text, 'latin1');
  const { rssPages, minorFaults, majorFaults, ...stat } = parsePidStatBytes(bytes, bytes.length);
  void rssPages, minorFaults, majorFaults;
  return stat;
}

/**
 * The same, straight from the bytes the kernel wrote: the process table reads this file for every
 * process on every sample, and not building a string per field is most of its cost.
 */
export function parsePidStatBytes(buf: Buffer, length: number): PidStatRead {
  let open = -1;
  for (let i = 0; i < length; i++) {
    if (buf[i] === OPEN) {
      open = i;
      break;
    }
  }
  let close = -1;
  for (let i = length - 1; i > open; i--) {
    if (buf[i] === CLOSE) {
      close = i;
      break;
    }
  }
  if (open === -1 || close === -1) throw new Error('stat: no (comm)');
  // Field n (1-based, as in proc(5)) starts after the (n - 3)th space following the ")".
  const starts = fieldStarts;
  let count = 0;
  const first = close + 2;
  if (first < length) starts[count++] = first;
  for (let i = first; i < length && count < starts.length; i++) if (buf[i] === SPACE) starts[count++] = i + 1;
  // f[0] is field 3 (state); field n is f[n - 3].
  if (count < 22) throw new Error(`stat: ${count + 2} fields, expected at least 24`);
  // Every field read is unsigned in the kernel: a sign or a missing digit is a malformed row, not a value.
  const field = (k: number): number => {
    const v = decimalAt(buf, starts[k]!, length);
    if (!(v >= 0)) throw new Error(`stat: field ${k + 3} is not an unsigned number`);
    return v;
  };
  const pid = decimalAt(buf, 0, open);
  if (!(pid >= 0)) throw new Error('stat: the pid is not an unsigned number');
  return {
    pid,
    comm: buf.toString('latin1', open + 1, close),
    state: String.fromCharCode(buf[starts[0]!]!),
    ppid: field(1),
    flags: field(6),
    minorFaults: field(7),
    majorFaults: field(9),
    utime: field(11),
    stime: field(12),
    numThreads: field(17),
    startTicks: field(19),
    vsize: field(20),
    rssPages: field(21),
  };
}

// Only fields 3 to 24 are ever needed; one array serves every call.
const fieldStarts = new Int32Array(22);

export function isKernelThread(stat: PidStat): boolean {
  return (stat.flags & PF_KTHREAD) !== 0 || stat.ppid === 2 || stat.pid === 2;
}
