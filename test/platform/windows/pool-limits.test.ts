import { describe, expect, it } from 'vitest';
import { estimatePoolLimits } from '../../../agent/platform/windows/pool-limits.js';

const GiB = 1024 ** 3;

describe('estimatePoolLimits', () => {
  it('gives nonpaged pool three quarters of memory and paged pool 128 GiB', () => {
    expect(estimatePoolLimits(16 * GiB)).toEqual({ nonpaged: 12 * GiB, paged: 128 * GiB });
    // What GlobalMemoryStatusEx reports on a "16 GB" VM: a little under, firmware keeps some.
    expect(estimatePoolLimits(17_179_332_608).nonpaged).toBe(12_884_499_456);
  });

  it('caps nonpaged pool at 128 GiB on large hosts', () => {
    expect(estimatePoolLimits(170 * GiB).nonpaged).toBe(127.5 * GiB);
    expect(estimatePoolLimits(512 * GiB)).toEqual({ nonpaged: 128 * GiB, paged: 128 * GiB });
    expect(estimatePoolLimits(4 * 1024 * GiB).nonpaged).toBe(128 * GiB);
  });

  it('stays near the maximum the kernel debugger showed in the field notes', () => {
    // !vm: Physical Memory 522,896 Kb, NonPagedPool Max 380,924 Kb.
    const estimate = estimatePoolLimits(522_896 * 1024).nonpaged / 1024;
    expect(Math.abs(estimate - 380_924) / 380_924).toBeLessThan(0.05);
  });

  it('refuses a physical memory size that cannot be', () => {
    expect(() => estimatePoolLimits(0)).toThrow(RangeError);
    expect(() => estimatePoolLimits(Number.NaN)).toThrow(RangeError);
  });
});
