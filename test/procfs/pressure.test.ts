import { describe, expect, it } from 'vitest';
import { parsePressure } from '../../agent/procfs/pressure.js';
import { fixture } from './fixture.js';

describe('parsePressure', () => {
  it('reads some and full lines with totals in microseconds', () => {
    const p = parsePressure(fixture('pressure-io.txt'));
    expect(p.some!.totalMicros).toBeGreaterThanOrEqual(p.full!.totalMicros);
  });

  it('accepts a kernel without a cpu full line (before 5.13)', () => {
    const p = parsePressure(fixture('pressure-cpu-5.4.txt'));
    expect(p.full).toBeUndefined();
    expect(p.some).toEqual({ avg10: 1.53, avg60: 0.87, avg300: 0.41, totalMicros: 93124588 });
  });

  it('refuses text with neither line', () => {
    expect(() => parsePressure('')).toThrow(/no some\/full lines/);
  });
});
