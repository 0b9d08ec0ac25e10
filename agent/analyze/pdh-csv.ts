import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { splitCsvLine } from './csv-line.js';
import { InputError } from './input-error.js';

/** One column of a log: its exact header and its values over time (NaN where the log had none). */
export interface LogColumn {
  readonly header: string;
  readonly values: Float64Array;
}

export interface PdhLog {
  readonly timeZone: string;
  /** Minutes to add to the log's local times to get UTC (Windows' bias: 480 for Pacific Standard Time). */
  readonly biasMinutes: number;
  /** Unix ms of each row, in file order. */
  readonly times: Float64Array;
  readonly columns: readonly LogColumn[];
  /** Rows that could not be read and were skipped: how many, and the first few with their line and why. */
  readonly skipped: { readonly count: number; readonly examples: readonly string[] };
  /** Set when the last line was cut off (what a hung or crashed host leaves): the line and what was wrong. */
  readonly truncated?: string;
}

/** The most skipped rows described one by one; the rest are only counted. */
const SKIP_EXAMPLES = 5;

const HEADER = /^\(PDH-CSV 4\.0\) \((.*)\)\((-?\d+)\)$/;
const TIMESTAMP = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

export function parsePdhHeader(cells: readonly string[]): { timeZone: string; biasMinutes: number; counters: string[] } | undefined {
  const m = HEADER.exec(cells[0] ?? '');
  if (!m) return undefined;
  return { timeZone: m[1]!, biasMinutes: Number(m[2]), counters: cells.slice(1) };
}

/** A PerfMon timestamp (local time, MM/DD/YYYY HH:MM:SS.mmm) as Unix ms, using the header's bias. */
export function parsePdhTimestamp(text: string, biasMinutes: number): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [month, day, year, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) + biasMinutes * 60_000;
}

/** A PerfMon value: a number, NaN for the blank " " PerfMon writes when it had no reading, undefined when unreadable. */
export function parsePdhValue(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return NaN;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Streams a PDH-CSV file into columns. A header that is not PerfMon's throws InputError naming the
 * line; a bad row in the middle is skipped and counted; a bad last line is taken for a log cut off
 * mid-write and the log is read up to the row before it.
 */
export async function readPdhCsv(file: string): Promise<PdhLog> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let header: ReturnType<typeof parsePdhHeader>;
  let buffers: Array<Float64Array<ArrayBuffer>> = [];
  let times: Float64Array<ArrayBuffer> = new Float64Array(1024);
  let rows = 0;
  let lineNo = 0;
  let skipped = 0;
  const examples: string[] = [];
  // A bad row is only known to be in the middle once a line follows it.
  let pendingBad: string | undefined;
  const skip = (why: string): void => {
    skipped++;
    if (examples.length < SKIP_EXAMPLES) examples.push(why);
  };
  for await (const raw of lines) {
    lineNo++;
    const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    if (pendingBad !== undefined) {
      skip(pendingBad);
      pendingBad = undefined;
    }
    const cells = splitCsvLine(line);
    if (!header) {
      if (!cells) throw new InputError(file, lineNo, 'not CSV: a quoted cell is not closed');
      header = parsePdhHeader(cells);
      if (!header) {
        throw new InputError(file, lineNo, `not a PerfMon log: the first cell should read "(PDH-CSV 4.0) (<time zone>)(<bias>)", found ${JSON.stringify(cells[0]?.slice(0, 60) ?? '')}`);
      }
      if (header.counters.length === 0) throw new InputError(file, lineNo, 'the header names no counters');
      buffers = header.counters.map(() => new Float64Array(1024));
      continue;
    }
    const problem = rowProblem(cells, header);
    if (problem) {
      pendingBad = `line ${lineNo}: ${problem}`;
      continue;
    }
    const time = parsePdhTimestamp(cells![0]!, header.biasMinutes)!;
    if (rows > 0 && time < times[rows - 1]!) {
      skip(`line ${lineNo}: its time ${cells![0]} is before the row above it`);
      continue;
    }
    if (rows === times.length) {
      times = grow(times);
      buffers = buffers.map(grow);
    }
    times[rows] = time;
    for (let c = 0; c < header.counters.length; c++) buffers[c]![rows] = parsePdhValue(cells![c + 1]!)!;
    rows++;
  }
  if (!header) throw new InputError(file, undefined, 'empty file: no header, no rows');
  if (rows === 0) {
    throw new InputError(file, undefined, pendingBad ?? examples[0] ? `no readable row (${pendingBad ?? examples[0]})` : 'the log has a header but no rows');
  }
  return {
    timeZone: header.timeZone,
    biasMinutes: header.biasMinutes,
    times: times.slice(0, rows),
    columns: header.counters.map((h, c) => ({ header: h, values: buffers[c]!.slice(0, rows) })),
    skipped: { count: skipped, examples },
    ...(pendingBad === undefined ? {} : { truncated: pendingBad }),
  };
}

/** What is wrong with a data row, or undefined when it reads. */
function rowProblem(cells: string[] | undefined, header: NonNullable<ReturnType<typeof parsePdhHeader>>): string | undefined {
  if (!cells) return 'not CSV: a quoted cell is not closed';
  if (cells.length !== header.counters.length + 1) return `ragged row: ${cells.length} cells where the header has ${header.counters.length + 1}`;
  if (parsePdhTimestamp(cells[0]!, header.biasMinutes) === undefined) return `unreadable timestamp ${JSON.stringify(cells[0])} (expected MM/DD/YYYY HH:MM:SS.mmm)`;
  for (let c = 0; c < header.counters.length; c++) {
    if (parsePdhValue(cells[c + 1]!) === undefined) return `unparsable number ${JSON.stringify(cells[c + 1])} in column ${c + 2} (${header.counters[c]})`;
  }
  return undefined;
}

function grow(array: Float64Array): Float64Array<ArrayBuffer> {
  const bigger = new Float64Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
