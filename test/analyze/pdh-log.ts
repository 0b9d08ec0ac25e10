/**
 * Writes PerfMon logs in the real relog layout for tests and the benchmark: a quoted header whose
 * first cell carries the time zone and bias, counter paths per column, a blank first row, quoted
 * values, local MM/DD/YYYY timestamps, CRLF line ends.
 */
export interface Column {
  readonly path: string;
  /** Value at row i (i from 0), or NaN for a blank. */
  readonly value: (i: number) => number;
}

export function pdhCsv(opts: { host?: string; start?: Date; intervalSeconds?: number; rows: number; columns: readonly Column[]; biasMinutes?: number }): string {
  const host = opts.host ?? 'WEB01';
  const bias = opts.biasMinutes ?? 480;
  const interval = opts.intervalSeconds ?? 15;
  const start = opts.start ?? new Date(Date.UTC(2026, 10, 24, 18, 0, 0));
  const lines = [
    [`(PDH-CSV 4.0) (Pacific Standard Time)(${bias})`, ...opts.columns.map((c) => `\\\\${host}${c.path}`)],
  ];
  for (let i = 0; i < opts.rows; i++) {
    const local = new Date(start.getTime() + i * interval * 1000 - bias * 60_000 + 123);
    const stamp = `${pad(local.getUTCMonth() + 1)}/${pad(local.getUTCDate())}/${local.getUTCFullYear()} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${String(local.getUTCMilliseconds()).padStart(3, '0')}`;
    lines.push([stamp, ...opts.columns.map((c) => (i === 0 ? ' ' : format(c.value(i))))]);
  }
  return `${lines.map((cells) => cells.map((c) => `"${c}"`).join(',')).join('\r\n')}\r\n`;
}

const pad = (n: number) => String(n).padStart(2, '0');
const format = (v: number) => (Number.isNaN(v) ? ' ' : Number.isInteger(v) ? String(v) : v.toFixed(6));

/** Deterministic noise in [-1, 1], so generated logs are the same every run. */
export function noise(seed: number): (i: number) => number {
  return (i) => {
    const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
    return (x - Math.floor(x)) * 2 - 1;
  };
}
