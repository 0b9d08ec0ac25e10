/**
 * The soft RLIMIT_NOFILE of a process from /proc/PID/limits ("Max open files  1024  524288  files"):
 * the limit open() hits with EMFILE. Infinity for "unlimited"; undefined when the line is missing.
 */
export function parseOpenFilesSoftLimit(text: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('Max open files')) continue;
    const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Infinity;
    const n = Number(soft);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`limits: bad open files limit "${line}"`);
    return n;
  }
  return undefined;
}
