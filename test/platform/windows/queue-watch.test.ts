import { describe, expect, it } from 'vitest';
import { HOST_COUNTERS } from '../../../agent/platform/windows/counters.js';
import { QUEUE_COUNTERS, raisePeaks } from '../../../agent/platform/windows/queue-watch.js';

const host = { physicalBytes: 16 * 2 ** 30, cpus: 4 };
// The live poller reads the CPU queue from ready threads; PerfMon's counter still maps to the same peak.
const cpu = HOST_COUNTERS.find((c) => c.counter === 'Processor Queue Length')!;
const disk = QUEUE_COUNTERS.find((c) => c.counter === 'Current Disk Queue Length')!;

describe('the Windows queue poller', () => {
  it('polls only the disk queue counter through PDH (the CPU queue comes from ready threads)', () => {
    expect(QUEUE_COUNTERS.map((c) => `${c.object}\\${c.counter}`)).toEqual(['PhysicalDisk\\Current Disk Queue Length']);
  });

  it('keeps the highest queue seen per CPU and per disk between samples', () => {
    const peaks = { cpu: undefined as number | undefined, disks: new Map<string, number>() };
    const poll = (cpuQueue: number, c: number, d: number) =>
      raisePeaks(peaks, [
        { counter: cpu, items: [{ instance: '', status: 0, value: cpuQueue }] },
        { counter: disk, items: [{ instance: '0 C:', status: 0, value: c }, { instance: '1 D:', status: 0, value: d }, { instance: '_Total', status: 0, value: c + d }] },
      ], host);
    poll(3, 1, 0);
    poll(11, 0, 7);
    poll(2, 4, 1);
    expect(peaks.cpu).toBe(11);
    expect(Object.fromEntries(peaks.disks)).toEqual({ '0 C:': 4, '1 D:': 7 });
  });

  it('adds nothing from values PDH marks unusable', () => {
    const peaks = { cpu: undefined as number | undefined, disks: new Map<string, number>() };
    raisePeaks(peaks, [{ counter: cpu, items: [{ instance: '', status: 0xc0000bba, value: 99 }] }], host);
    expect(peaks.cpu).toBeUndefined();
  });
});
