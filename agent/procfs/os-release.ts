/**
 * Parses os-release(5) text: `KEY=value` lines, the value bare or in single or double quotes, where a
 * backslash escapes `"`, `\`, `$` and `` ` `` inside double quotes. Comments, blank lines and lines that
 * are not an assignment are skipped.
 */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (line.startsWith('#') || eq <= 0 || !/^[A-Z0-9_]+$/i.test(line.slice(0, eq))) continue;
    fields.set(line.slice(0, eq), unquote(line.slice(eq + 1)));
  }
  return fields;
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
    const inner = value.slice(1, -1);
    return q === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
  }
  return value;
}

/** The distribution as the host_info label shows it: NAME and VERSION_ID ("Debian GNU/Linux 12"), else PRETTY_NAME. */
export function distroName(fields: Map<string, string>): string {
  const name = fields.get('NAME');
  if (name) return [name, fields.get('VERSION_ID')].filter(Boolean).join(' ');
  return fields.get('PRETTY_NAME') ?? '';
}
