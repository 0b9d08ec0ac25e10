import { describe, expect, it } from 'vitest';
import { HOST_COUNTERS, type HostCounter } from '../../../agent/platform/windows/counters.js';
import {
  PDH_CSTATUS_INVALID_DATA,
  PDH_CSTATUS_NEW_DATA,
  PDH_CSTATUS_NO_INSTANCE,
  PDH_CSTATUS_VALID_DATA,
  mapHostReadings,
  seriesValue,
  type PdhItem,
  type PdhReading,
} from '../../../agent/platform/windows/pdh-values.js';

const GiB = 1024 ** 3;
const counter = (path: string): HostCounter => {
  const c = HOST_COUNTERS.find((x) => `\\${x.object}${x.instances === 'none' ? '' : x.instances === 'total' ? '(_Total)' : '(*)'}\\${x.counter}` === path);
  if (!c) throw new Error(`no counter ${path}`);
  return c;
};
const one = (path: string, value: number, status = PDH_CSTATUS_VALID_DATA): PdhReading => ({ counter: counter(path), items: [{ instance: '', status, value }] });
const many = (path: string, items: PdhItem[]): PdhReading => ({ counter: counter(path), items });

/** One collection on a 16 GiB Server 2022 VM with two data disks, as PDH formats it (PDH_FMT_DOUBLE). */
const readings: PdhReading[] = [
  one('\\Memory\\Free System Page Table Entries', 33_552_712),
  one('\\Memory\\Pool Paged Bytes', 412_839_936),
  one('\\Memory\\Pool Nonpaged Bytes', 187_301_888),
  one('\\Memory\\Committed Bytes', 9_876_543_488),
  one('\\Memory\\Commit Limit', 19_058_245_632),
  one('\\Memory\\Available Bytes', 6_143_213_568),
  one('\\System\\Processor Queue Length', 3),
  one('\\Processor(_Total)\\% Processor Time', 37.52046, PDH_CSTATUS_NEW_DATA),
  many('\\PhysicalDisk(*)\\Current Disk Queue Length', [
    { instance: '0 C:', status: PDH_CSTATUS_VALID_DATA, value: 2 },
    { instance: '1 D: E:', status: PDH_CSTATUS_VALID_DATA, value: 0 },
    { instance: '2', status: PDH_CSTATUS_VALID_DATA, value: 14 },
    { instance: '_Total', status: PDH_CSTATUS_VALID_DATA, value: 16 },
  ]),
];
const host = { physicalBytes: 17_179_332_608, cpus: 4 };

describe('mapHostReadings', () => {
  const { series, missing } = mapHostReadings(readings, host);
  const v = (metric: Parameters<typeof seriesValue>[1], labels?: Record<string, string>) => seriesValue(series, metric, labels);

  it('maps each counter to its family and labels', () => {
    expect(v('contention_kernel_table_free_entries', { table: 'system_ptes' })).toBe(33_552_712);
    expect(v('contention_kernel_pool_bytes', { pool: 'paged' })).toBe(412_839_936);
    expect(v('contention_kernel_pool_bytes', { pool: 'nonpaged' })).toBe(187_301_888);
    expect(v('contention_memory_commit_bytes')).toBe(9_876_543_488);
    expect(v('contention_memory_commit_limit_bytes')).toBe(19_058_245_632);
    expect(v('contention_memory_available_bytes')).toBe(6_143_213_568);
    expect(v('contention_cpu_queue_length')).toBe(3);
    expect(v('contention_cpu_utilization_ratio')).toBeCloseTo(0.3752046, 9);
    expect(missing).toEqual([]);
  });

  it('labels each disk by its PDH instance and leaves _Total out', () => {
    expect(series.filter((s) => s.metric === 'contention_disk_queue_length').map((s) => [s.labels, s.value])).toEqual([
      [{ device: '0 C:' }, 2],
      [{ device: '1 D: E:' }, 0],
      [{ device: '2' }, 14],
    ]);
  });

  it('adds what the host says of itself: CPUs, memory, commit always enforced', () => {
    expect(v('contention_cpus')).toBe(4);
    expect(v('contention_memory_physical_bytes')).toBe(17_179_332_608);
    expect(v('contention_memory_commit_limit_enforced')).toBe(1);
  });

  it('exports pool limits only as estimates, never as readings', () => {
    const limits = series.filter((s) => s.metric === 'contention_kernel_pool_limit_bytes');
    expect(limits.map((s) => s.labels)).toEqual([
      { pool: 'paged', source: 'estimate' },
      { pool: 'nonpaged', source: 'estimate' },
    ]);
    expect(v('contention_kernel_pool_limit_bytes', { pool: 'paged' })).toBe(128 * GiB);
    expect(v('contention_kernel_pool_limit_bytes', { pool: 'nonpaged' })).toBe(Math.floor(17_179_332_608 * 0.75));
  });

  it('gives every series the labels of its catalogue family', async () => {
    const { catalog } = await import('../../../agent/metrics/catalog.js');
    for (const s of series) expect(Object.keys(s.labels).sort()).toEqual([...catalog[s.metric].labels].sort());
  });

  it('skips a rate counter on its first collection and reports it missing', () => {
    const first = mapHostReadings([one('\\Processor(_Total)\\% Processor Time', 0, PDH_CSTATUS_INVALID_DATA), one('\\System\\Processor Queue Length', 0)], host);
    expect(seriesValue(first.series, 'contention_cpu_utilization_ratio')).toBeUndefined();
    expect(seriesValue(first.series, 'contention_cpu_queue_length')).toBe(0);
    expect(first.missing).toEqual(['\\Processor(_Total)\\% Processor Time']);
  });

  it('drops a disk that vanished mid-collection and values that cannot be', () => {
    const { series: s } = mapHostReadings(
      [many('\\PhysicalDisk(*)\\Current Disk Queue Length', [
        { instance: '0 C:', status: PDH_CSTATUS_VALID_DATA, value: 1 },
        { instance: '3 F:', status: PDH_CSTATUS_NO_INSTANCE, value: 0 },
        { instance: '4', status: PDH_CSTATUS_VALID_DATA, value: Number.NaN },
        { instance: '5', status: PDH_CSTATUS_VALID_DATA, value: -1 },
        { instance: '0 C:', status: PDH_CSTATUS_VALID_DATA, value: 9 },
      ])],
      host,
    );
    expect(s.filter((x) => x.metric === 'contention_disk_queue_length').map((x) => [x.labels.device, x.value])).toEqual([['0 C:', 1]]);
  });

  it('clamps utilization to a ratio', () => {
    const { series: s } = mapHostReadings([one('\\Processor(_Total)\\% Processor Time', 100.4)], host);
    expect(seriesValue(s, 'contention_cpu_utilization_ratio')).toBe(1);
  });

  it('applies the disk exclusion the config gives', () => {
    const { series: s } = mapHostReadings(readings, host, { deviceExclude: /^2$/ });
    expect(s.filter((x) => x.metric === 'contention_disk_queue_length').map((x) => x.labels.device)).toEqual(['0 C:', '1 D: E:']);
  });
});
