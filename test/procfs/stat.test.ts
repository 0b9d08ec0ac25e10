import { describe, expect, it } from 'vitest';
import { cpuQueueLength, parseStat } from '../../agent/procfs/stat.js';
import { fixture } from './fixture.js';

describe('parseStat', () => {
  it('reads totals, CPUs and run/blocked tasks from a capture', () => {
    const s = parseStat(fixture('stat.txt'));
    expect(s.cpus).toBe(2);
    expect(s.total).toEqual({ user: 6879, nice: 0, system: 4026, idle: 1299413, iowait: 347, irq: 0, softirq: 62, steal: 72 });
    expect(s.procsRunning).toBeGreaterThanOrEqual(1);
    expect(s.bootTime).toBeGreaterThan(1_600_000_000);
  });

  it('reads a kernel without steal time as steal 0', () => {
    const s = parseStat(fixture('stat-no-steal.txt'));
    expect(s.total.steal).toBe(0);
    expect(s.total.softirq).toBe(0);
    expect(s.procsRunning).toBe(9);
    expect(s.procsBlocked).toBe(2);
  });

  it('refuses text without cpu or procs lines', () => {
    expect(() => parseStat('intr 1 2\n')).toThrow(/no cpu lines/);
    expect(() => parseStat('cpu  1 2 3 4\ncpu0 1 2 3 4\n')).toThrow(/procs_running/);
  });
});

describe('cpuQueueLength', () => {
  it('counts runnable tasks beyond the CPUs, never below zero', () => {
    expect(cpuQueueLength(9, 2)).toBe(7);
    expect(cpuQueueLength(2, 2)).toBe(0);
    expect(cpuQueueLength(1, 8)).toBe(0);
  });
});
