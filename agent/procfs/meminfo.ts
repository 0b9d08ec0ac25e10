/** /proc/meminfo as a map from field name to bytes (fields without a unit, such as HugePages_Total, stay counts). */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:\s]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (m) fields.set(m[1]!, Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return fields;
}
