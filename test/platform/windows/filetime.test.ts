import { describe, expect, it } from 'vitest';
import { FILETIME_UNIX_EPOCH, filetimeToUnixMs, joinFiletime } from '../../../agent/platform/windows/filetime.js';
import { filetime } from './spi-buffer.js';

describe('FILETIME to Unix ms', () => {
  it('counts 100 ns intervals from 1601: the Unix epoch is 11,644,473,600 s later', () => {
    expect(FILETIME_UNIX_EPOCH).toBe(11_644_473_600n * 10_000_000n);
    expect(filetimeToUnixMs(FILETIME_UNIX_EPOCH + 10_000n)).toBe(1);
  });

  it('gives a process start time to the millisecond, truncating the 100 ns remainder', () => {
    const start = Date.UTC(2026, 10, 20, 3, 14, 7, 512);
    expect(filetimeToUnixMs(filetime(start))).toBe(start);
    expect(filetimeToUnixMs(filetime(start) + 9_999n)).toBe(start);
  });

  it('has no Unix time at or before 1970, as corrupt rows report', () => {
    expect(filetimeToUnixMs(FILETIME_UNIX_EPOCH)).toBeUndefined();
    expect(filetimeToUnixMs(0n)).toBeUndefined();
    expect(filetimeToUnixMs(-1n)).toBeUndefined();
  });

  it('joins the two unsigned halves of a FILETIME struct, the low half above 2^31 included', () => {
    // 2026-11-20T03:16:14.512Z as GetProcessTimes writes it.
    const value = filetime(Date.UTC(2026, 10, 20, 3, 16, 14, 512));
    const low = Number(value & 0xffff_ffffn);
    const high = Number(value >> 32n);
    expect(low).toBeGreaterThan(2 ** 31); // koffi hands it over unsigned; a signed reading would be negative
    expect(joinFiletime(low, high)).toBe(value);
    expect(joinFiletime(low | 0, high)).toBe(value); // and a signed one is read the same
  });
});
