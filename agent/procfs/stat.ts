export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuMode = (typeof CPU_MODES)[number];
export type CpuTicks = Record<CpuMode, number>;

export interface KernelStat {
  /** Ticks (USER_HZ) per mode summed over all CPUs. guest time is already inside user and nice. */
  readonly total: CpuTicks;
  /** Number of per-CPU lines: the CPUs online. */
  readonly cpus: number;
  /** Tasks in the runnable state, including those running on a CPU (and the reader itself). */
  readonly procsRunning: number;
  readonly procsBlocked: number;
  readonly bootTime: number;
}

/** Parses /proc/stat. Older kernels lack steal (and iowait before 2.6); missing modes read as 0. */
export function parseStat(text: string): KernelStat {
  let total: CpuTicks | undefined;
  let cpus = 0;
  let procsRunning: number | undefined;
  let procsBlocked: number | undefined;
  let bootTime = 0;
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const key = parts[0];
    if (key === 'cpu') {
      total = Object.fromEntries(CPU_MODES.map((mode, i) => [mode, parts[i + 1] === undefined ? 0 : unsigned(parts[i + 1], `cpu ${mode}`)])) as CpuTicks;
    } else if (key !== undefined && /^cpu\d+$/.test(key)) {
      cpus++;
    } else if (key === 'procs_running') {
      procsRunning = unsigned(parts[1], key);
    } else if (key === 'procs_blocked') {
      procsBlocked = unsigned(parts[1], key);
    } else if (key === 'btime') {
      bootTime = unsigned(parts[1], key);
    }
  }
  if (!total || cpus === 0) throw new Error('/proc/stat has no cpu lines');
  if (procsRunning === undefined || procsBlocked === undefined) throw new Error('/proc/stat has no procs_running/procs_blocked');
  return { total, cpus, procsRunning, procsBlocked, bootTime };
}

/** A count the kernel writes as decimal digits; anything else is a malformed row, never NaN. */
function unsigned(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new Error(`/proc/stat: ${what} is not an unsigned number`);
  return Number(text);
}

/** Runnable tasks beyond the CPUs that can run them: the Linux reading of "processor queue length". */
export function cpuQueueLength(procsRunning: number, cpus: number): number {
  return Math.max(0, procsRunning - cpus);
}
