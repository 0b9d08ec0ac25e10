export interface Loadavg {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  readonly runnable: number;
  /** Every scheduling entity (thread) on the host; each holds one PID. */
  readonly tasks: number;
}

export function parseLoadavg(text: string): Loadavg {
  const m = /^(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)\/(\d+)\s+\d+/.exec(text.trim());
  if (!m) throw new Error(`/proc/loadavg: unexpected content ${JSON.stringify(text.slice(0, 80))}`);
  return { load1: Number(m[1]), load5: Number(m[2]), load15: Number(m[3]), runnable: Number(m[4]), tasks: Number(m[5]) };
}
