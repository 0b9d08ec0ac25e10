import { describe, expect, it } from 'vitest';
import { parseMeminfo } from '../../agent/procfs/meminfo.js';
import { fixture } from './fixture.js';

describe('parseMeminfo', () => {
  it('reads a current kernel capture as bytes', () => {
    const m = parseMeminfo(fixture('meminfo.txt'));
    expect(m.get('MemTotal')).toBeGreaterThan(0);
    expect(m.get('MemTotal')! % 1024).toBe(0);
    expect(m.get('MemAvailable')).toBeLessThanOrEqual(m.get('MemTotal')!);
    expect(m.has('SUnreclaim')).toBe(true);
    expect(m.has('Committed_AS')).toBe(true);
  });

  it('keeps unitless fields as counts and converts kB', () => {
    const m = parseMeminfo(fixture('meminfo-3.10-no-available.txt'));
    expect(m.get('HugePages_Total')).toBe(0);
    expect(m.get('SUnreclaim')).toBe(24772 * 1024);
    expect(m.get('VmallocTotal')).toBe(34359738367 * 1024);
    expect(m.has('MemAvailable')).toBe(false);
  });

  it('ignores lines that are not fields', () => {
    expect([...parseMeminfo('garbage\nMemFree: 12 kB\n\n').entries()]).toEqual([['MemFree', 12 * 1024]]);
  });
});
