import { execFileSync } from 'node:child_process';

let cached: number | undefined;

/** USER_HZ, the unit of /proc CPU times: 100 on every mainstream Linux build, asked of getconf once. */
export function clockTicksPerSecond(): number {
  if (cached === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
      cached = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      cached = 100;
    }
  }
  return cached;
}
