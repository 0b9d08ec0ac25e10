import { execFileSync } from 'node:child_process';

const cache = new Map<string, number>();

/**
 * A positive integer system variable as getconf prints it (CLK_TCK, PAGESIZE), asked once per
 * process; `fallback` when getconf is missing or prints something else.
 */
export function getconf(name: string, fallback: number): number {
  let value = cache.get(name);
  if (value === undefined) {
    try {
      const read = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
      value = Number.isInteger(read) && read > 0 ? read : fallback;
    } catch {
      value = fallback;
    }
    cache.set(name, value);
  }
  return value;
}
