/** One counter of /proc/vmstat ("oom_kill 3"); undefined when this kernel has no such line (before 4.13 for oom_kill). */
export function vmstatCounter(text: string, name: string): number | undefined {
  let at = text.startsWith(`${name} `) ? 0 : text.indexOf(`\n${name} `);
  if (at < 0) return undefined;
  if (at > 0) at += 1;
  const end = text.indexOf('\n', at);
  const value = Number(text.slice(at + name.length + 1, end < 0 ? undefined : end));
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`vmstat: bad ${name}`);
  return value;
}
