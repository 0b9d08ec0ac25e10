import { describe, expect, it } from 'vitest';
import { assessSaturation } from '../../agent/detect/saturation.js';
import type { MetricName } from '../../agent/metrics/catalog.js';
import type { Sample, SeriesValue } from '../../agent/metrics/sample.js';

type Row = [MetricName, Record<string, string>, number];

function sample(rows: Row[], timestamp = 1_000_000): Sample {
  const families = new Map<MetricName, SeriesValue[]>();
  for (const [name, labels, value] of rows) {
    if (!families.has(name)) families.set(name, []);
    families.get(name)!.push({ labels, value });
  }
  return { timestamp, families, collectors: [], facts: {} };
}

const healthy: Row[] = [
  ['contention_kernel_table_free_entries', { table: 'file_handles' }, 900_000],
  ['contention_kernel_table_size_entries', { table: 'file_handles' }, 1_000_000],
  ['contention_memory_commit_bytes', {}, 4e9],
  ['contention_memory_commit_limit_bytes', {}, 8e9],
  ['contention_memory_commit_limit_enforced', {}, 1],
  ['contention_memory_available_bytes', {}, 6e9],
  ['contention_memory_physical_bytes', {}, 8e9],
  ['contention_cpus', {}, 4],
  ['contention_cpu_queue_length', {}, 2],
  ['contention_cpu_queue_length_peak', {}, 8],
  ['contention_disk_queue_length', { device: 'sda' }, 1],
  ['contention_disk_queue_length_peak', { device: 'sda' }, 2],
];

describe('assessSaturation', () => {
  it('finds nothing on a busy but healthy host (values at their thresholds are not past them)', () => {
    expect(assessSaturation(sample(healthy))).toEqual([]);
  });

  it('flags Free System PTEs below 10,000 as critical exhaustion, and 10,000 itself as fine', () => {
    const low = assessSaturation(sample([['contention_kernel_table_free_entries', { table: 'system_ptes' }, 9_999]]));
    expect(low).toHaveLength(1);
    expect(low[0]).toMatchObject({ subject: 'kernel table system_ptes', kind: 'exhaustion', severity: 'critical' });
    expect(assessSaturation(sample([['contention_kernel_table_free_entries', { table: 'system_ptes' }, 10_000]]))).toEqual([]);
  });

  it('grades a kernel table by its free share: warning under 10%, critical under 2%', () => {
    const at = (free: number) =>
      assessSaturation(sample([
        ['contention_kernel_table_free_entries', { table: 'pids' }, free],
        ['contention_kernel_table_size_entries', { table: 'pids' }, 1000],
      ]));
    expect(at(100)).toEqual([]);
    expect(at(99)[0]!.severity).toBe('warning');
    expect(at(19)[0]!.severity).toBe('critical');
  });

  it('judges commit only where the limit is enforced', () => {
    const rows = (enforced: number): Row[] => [
      ['contention_memory_commit_bytes', {}, 9.9e9],
      ['contention_memory_commit_limit_bytes', {}, 1e10],
      ['contention_memory_commit_limit_enforced', {}, enforced],
    ];
    expect(assessSaturation(sample(rows(1)))[0]).toMatchObject({ subject: 'memory commit', severity: 'critical' });
    expect(assessSaturation(sample(rows(0)))).toEqual([]);
  });

  it('sees a CPU queue burst through its peak, and orders critical before warning', () => {
    const found = assessSaturation(sample([
      ...healthy.filter(([name]) => name !== 'contention_cpu_queue_length_peak'),
      ['contention_cpu_queue_length_peak', {}, 12],
      ['contention_kernel_table_free_entries', { table: 'system_ptes' }, 5000],
    ]));
    expect(found.map((c) => c.subject)).toEqual(['kernel table system_ptes', 'cpu queue']);
  });

  it('judges pressure stall as a share of time between two samples', () => {
    const before = sample([['contention_pressure_stalled_seconds_total', { resource: 'memory', scope: 'full' }, 100]], 0);
    const after = (stalled: number) =>
      sample([['contention_pressure_stalled_seconds_total', { resource: 'memory', scope: 'full' }, stalled]], 10_000);
    expect(assessSaturation(after(100.4), before)).toEqual([]);
    expect(assessSaturation(after(101), before)[0]).toMatchObject({ subject: 'memory pressure (full)', severity: 'warning' });
    expect(assessSaturation(after(103), before)[0]!.severity).toBe('critical');
  });

  it('marks a pool limit that is only an estimate', () => {
    const found = assessSaturation(sample([
      ['contention_kernel_pool_bytes', { pool: 'nonpaged' }, 95],
      ['contention_kernel_pool_limit_bytes', { pool: 'nonpaged', source: 'estimate' }, 100],
    ]));
    expect(found[0]).toMatchObject({ subject: 'kernel pool nonpaged', severity: 'critical' });
    expect(found[0]!.value).toMatch(/estimated limit/);
  });
});
