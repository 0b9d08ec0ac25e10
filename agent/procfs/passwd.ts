/** Maps ids to names from /etc/passwd or /etc/group text (name:x:id:...). Later duplicates do not override earlier ones, as libc reads them. */
export function parseIdNames(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(':');
    const id = Number(parts[2]);
    if (parts[0] && Number.isInteger(id) && !names.has(id)) names.set(id, parts[0]);
  }
  return names;
}
