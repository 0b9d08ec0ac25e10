import { describe, expect, it } from 'vitest';
import { parseLoadavg } from '../../agent/procfs/loadavg.js';
import { fixture } from './fixture.js';

describe('parseLoadavg', () => {
  it('reads runnable and total tasks', () => {
    expect(parseLoadavg('0.52 0.58 0.59 3/1234 56789\n')).toEqual({ load1: 0.52, load5: 0.58, load15: 0.59, runnable: 3, tasks: 1234 });
    expect(parseLoadavg(fixture('loadavg.txt')).tasks).toBeGreaterThan(10);
  });
  it('refuses other text', () => {
    expect(() => parseLoadavg('hello')).toThrow(/unexpected content/);
  });
});
