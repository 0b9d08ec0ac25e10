import { describe, expect, it } from 'vitest';
import { parseFileNr, parseInteger } from '../../agent/procfs/filenr.js';
import { fixture } from './fixture.js';

describe('parseFileNr', () => {
  it('reads allocated, unused and max', () => {
    expect(parseFileNr('1408\t0\t9223372036854775807\n')).toEqual({ allocated: 1408, unused: 0, max: 9223372036854775807 });
    const live = parseFileNr(fixture('file-nr.txt'));
    expect(live.max).toBeGreaterThan(live.allocated);
  });
  it('refuses a malformed line', () => {
    expect(() => parseFileNr('12 x')).toThrow(/expected three numbers/);
  });
  it('parseInteger names what it read', () => {
    expect(parseInteger('4194304\n', 'pid_max')).toBe(4194304);
    expect(() => parseInteger('max\n', 'pids.max')).toThrow(/pids.max: expected an integer/);
  });
});
