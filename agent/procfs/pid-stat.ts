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

const PF_KTHREAD = 0x00200000;

/**
 * Parses /proc/PID/stat. The command name sits in parentheses and may itself hold spaces and ")",
 * so the fields are counted from the last ")".
 */
export function parsePidStat(text: string): PidStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open === -1 || close < open) throw new Error('stat: no (comm)');
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field n is f[n - 3].
  if (f.length < 22) throw new Error(`stat: ${f.length + 2} fields, expected at least 24`);
  return {
    pid: Number(text.slice(0, open - 1)),
    comm: text.slice(open + 1, close),
    state: f[0]!,
    ppid: Number(f[1]),
    flags: Number(f[6]),
    utime: Number(f[11]),
    stime: Number(f[12]),
    numThreads: Number(f[17]),
    startTicks: Number(f[19]),
    vsize: Number(f[20]),
  };
}

export function isKernelThread(stat: PidStat): boolean {
  return (stat.flags & PF_KTHREAD) !== 0 || stat.ppid === 2 || stat.pid === 2;
}
