import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePdhTimestamp, readPdhCsv } from '../../agent/analyze/pdh-csv.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const write = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'ca-pdh-')), 'log.csv');
  writeFileSync(file, text);
  return file;
};
const HEAD = '"(PDH-CSV 4.0) (Coordinated Universal Time)(0)","\\\\H\\Memory\\Committed Bytes"\r\n';

describe('readPdhCsv', () => {
  it('reads a relog capture: columns by exact header, blank first row as NaN, times in UTC from the bias', async () => {
    const log = await readPdhCsv(fixture('relog-small.csv'));
    expect(log.timeZone).toBe('Pacific Standard Time');
    expect(log.columns.map((c) => c.header)).toEqual([
      '\\\\WEB01\\Memory\\Free System Page Table Entries',
      '\\\\WEB01\\Memory\\Pool Nonpaged Bytes',
      '\\\\WEB01\\Process(w3wp)\\Private Bytes',
      '\\\\WEB01\\Process(w3wp#1)\\Private Bytes',
      '\\\\WEB01\\System\\Processor Queue Length',
    ]);
    expect(log.times.length).toBe(4);
    expect(new Date(log.times[1]!).toISOString()).toBe('2026-11-24T18:00:15.125Z');
    expect(Number.isNaN(log.columns[0]!.values[0]!)).toBe(true);
    expect([...log.columns[0]!.values.slice(1)]).toEqual([183422, 183410, 183398]);
  });

  it('parses timestamps with and without milliseconds and refuses impossible ones', () => {
    expect(parsePdhTimestamp('01/02/2026 03:04:05.6', 0)).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 600));
    expect(parsePdhTimestamp('01/02/2026 03:04:05', -60)).toBe(Date.UTC(2026, 0, 2, 2, 4, 5));
    expect(parsePdhTimestamp('13/02/2026 03:04:05', 0)).toBeUndefined();
    expect(parsePdhTimestamp('2026-01-02 03:04:05', 0)).toBeUndefined();
  });

  const bad: Array<[string, string, RegExp]> = [
    ['empty file', '', /log\.csv: empty file/],
    ['not a CSV', '"hello,world\n', /log\.csv:1: not CSV/],
    ['unknown header', '"Time","cpu"\n"1","2"\n', /log\.csv:1: not a PerfMon log/],
    ['only a ragged row', `${HEAD}"01/01/2026 00:00:00.000","1","2"\r\n`, /log\.csv: no readable row \(line 2: ragged row: 3 cells where the header has 2\)/],
    ['only unparsable numbers', `${HEAD}"01/01/2026 00:00:00.000","x"\r\n"01/01/2026 00:00:15.000","12,5x"\r\n`, /log\.csv: no readable row \(line 3: unparsable number "12,5x" in column 2/],
    ['only a bad timestamp', `${HEAD}"yesterday","1"\r\n`, /log\.csv: no readable row \(line 2: unreadable timestamp "yesterday"/],
    ['header only', HEAD, /log\.csv: the log has a header but no rows/],
  ];
  for (const [name, text, error] of bad) {
    it(`refuses ${name} with the line`, async () => {
      await expect(readPdhCsv(write(text))).rejects.toThrow(error);
    });
  }

  it('reads a log cut off mid-line up to its last complete row, and says which line was cut', async () => {
    const rows = [1, 2, 3].map((i) => `"01/01/2026 00:00:${String(i * 15).padStart(2, '0')}.000","${i}00"`).join('\r\n');
    const log = await readPdhCsv(write(`${HEAD}${rows}\r\n"01/01/2026 00:01:00.000","40`));
    expect(Array.from(log.columns[0]!.values)).toEqual([100, 200, 300]);
    expect(log.truncated).toBe('line 5: not CSV: a quoted cell is not closed');
    expect(log.skipped.count).toBe(0);
  });

  it('skips and counts bad rows in the middle, naming the first few', async () => {
    const good = (s: number, v: number) => `"01/01/2026 00:00:${String(s).padStart(2, '0')}.000","${v}"`;
    const text = `${HEAD}${[good(0, 1), '"01/01/2026 00:00:05.000","1","2"', good(10, 2), '"garbage"', good(20, 3), good(15, 9), good(30, 4)].join('\r\n')}\r\n`;
    const log = await readPdhCsv(write(text));
    expect(Array.from(log.columns[0]!.values)).toEqual([1, 2, 3, 4]);
    expect(log.truncated).toBeUndefined();
    expect(log.skipped.count).toBe(3);
    expect(log.skipped.examples).toEqual([
      'line 3: ragged row: 3 cells where the header has 2',
      'line 5: ragged row: 1 cells where the header has 2',
      'line 7: its time 01/01/2026 00:00:15.000 is before the row above it',
    ]);
  });
});
