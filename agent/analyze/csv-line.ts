/**
 * Splits one CSV record into cells (RFC 4180 quoting: a quoted cell may hold commas and doubled
 * quotes). Returns undefined when a quote is left open, which a PerfMon log never does.
 */
export function splitCsvLine(line: string): string[] | undefined {
  const cells: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line.charCodeAt(i) === 34 /* " */) {
      let cell = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) return undefined;
        cell += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 34) {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      cells.push(cell);
    } else {
      const comma = line.indexOf(',', i);
      cells.push(line.slice(i, comma === -1 ? n : comma));
      i = comma === -1 ? n : comma;
    }
    if (i >= n) break;
    if (line.charCodeAt(i) !== 44 /* , */) return undefined;
    i++;
    if (i === n) {
      cells.push('');
      break;
    }
  }
  return cells;
}
