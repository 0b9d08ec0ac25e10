export interface PressureLine {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  /** Total stall time in microseconds since boot. */
  readonly totalMicros: number;
}

export interface Pressure {
  readonly some?: PressureLine;
  readonly full?: PressureLine;
}

/** Parses /proc/pressure/{cpu,memory,io}. Kernels before 5.13 have no "full" line for cpu. */
export function parsePressure(text: string): Pressure {
  const result: { some?: PressureLine; full?: PressureLine } = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full)\s+avg10=([\d.]+)\s+avg60=([\d.]+)\s+avg300=([\d.]+)\s+total=(\d+)/.exec(line.trim());
    if (m) {
      result[m[1] as 'some' | 'full'] = {
        avg10: Number(m[2]), avg60: Number(m[3]), avg300: Number(m[4]), totalMicros: Number(m[5]),
      };
    }
  }
  if (!result.some && !result.full) throw new Error(`pressure: no some/full lines in ${JSON.stringify(text.slice(0, 80))}`);
  return result;
}
