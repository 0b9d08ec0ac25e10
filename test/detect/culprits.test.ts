import { describe, expect, it } from 'vitest';
import { assessSaturation } from '../../agent/detect/saturation.js';
import type { MetricName } from '../../agent/metrics/catalog.js';
import type { Sample, SeriesValue } from '../../agent/metrics/sample.js';
import { processKey, type ProcessRow } from '../../agent/process/table.js';

type Row = [MetricName, Record<string, string>, number];

function row(pid: number, over: Partial<ProcessRow> & { cpu?: number; growth?: number; write?: number } = {}): ProcessRow {
  const { cpu = 0, growth = 0, write = 0, ...rest } = over;
  return {
    pid, ppid: 1, startTime: 1000 + pid, state: 'S', comm: 'node', exe: '/usr/bin/node', cmdline: '', argv0: 'node', uid: 0, gid: 0,
    user: 'root', group: 'root', privateBytes: 10 << 20, workingSetBytes: 20 << 20, virtualBytes: 1 << 30, threads: 7, handles: 20,
    cpuSeconds: 1, displayName: `node app${pid}.js`, criteria: [], processGroup: `node app${pid}.js`,
    rates: { cpu, privateGrowth: growth, ioRead: 0, ioWrite: write, majorFaults: 0 },
    ...rest,
  };
}

function sample(rows: Row[], processes: ProcessRow[] = [], fdLimits = new Map<string, number>(), timestamp = 1_000_000): Sample {
  const families = new Map<MetricName, SeriesValue[]>();
  for (const [name, labels, value] of rows) {
    if (!families.has(name)) families.set(name, []);
    families.get(name)!.push({ labels, value });
  }
  return { timestamp, families, collectors: [], facts: { processes: { rows: processes, timestamp, fdLimits } } };
}

describe('findings name their culprits', () => {
  it('all CPUs busy is a utilization finding of its own, naming the top CPU users (not idle ones)', () => {
    const procs = [row(1, { cpu: 0.98 }), row(2, { cpu: 0.97 }), row(3, { cpu: 0.001 }), row(4)];
    const [c, ...rest] = assessSaturation(sample([['contention_cpus', {}, 2], ['contention_cpu_utilization_ratio', {}, 0.99]], procs));
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ subject: 'cpu utilization', kind: 'utilization', severity: 'warning' });
    expect(c!.culprits!.map((p) => [p.pid, p.name, p.figure])).toEqual([[1, 'node app1.js', '98% of a CPU'], [2, 'node app2.js', '97% of a CPU']]);
    expect(assessSaturation(sample([['contention_cpu_utilization_ratio', {}, 0.95]], procs))).toEqual([]);
  });

  it('a process at its descriptor limit is critical, at 91% a warning, at 90% nothing; one finding per group', () => {
    const at = row(10, { handles: 5000 });
    const near = row(11, { handles: 910 });
    const edge = row(12, { handles: 900 });
    const sameGroup = row(13, { handles: 950, processGroup: at.processGroup });
    const limits = new Map([[processKey(at), 5000], [processKey(near), 1000], [processKey(edge), 1000], [processKey(sameGroup), 1000]]);
    const found = assessSaturation(sample([], [at, near, edge, sameGroup], limits));
    expect(found.map((c) => [c.subject, c.severity])).toEqual([
      ['open files of node app10.js [10] and 1 more in node app10.js', 'critical'],
      ['open files of node app11.js [11]', 'warning'],
    ]);
    expect(found[0]!.culprits!.map((p) => [p.pid, p.figure])).toEqual([[10, '5,000 of 5,000 open'], [13, '950 of 1,000 open']]);
  });

  it('a cgroup near memory.max names its largest and fastest-growing processes; a process outside it is not named', () => {
    const leaker = row(20, { cgroup: '/system.slice/api.service', privateBytes: 50 << 20, growth: 2 << 20 });
    const big = row(21, { cgroup: '/system.slice/api.service/worker', privateBytes: 60 << 20 });
    const outside = row(22, { cgroup: '/system.slice/other.service', privateBytes: 900 << 20, growth: 9 << 20 });
    const found = assessSaturation(
      sample(
        [
          ['contention_cgroup_memory_bytes', { cgroup: '/system.slice/api.service' }, 950],
          ['contention_cgroup_memory_limit_bytes', { cgroup: '/system.slice/api.service', limit: 'max' }, 1000],
          ['contention_cgroup_memory_bytes', { cgroup: '/system.slice/other.service' }, 900],
          ['contention_cgroup_memory_limit_bytes', { cgroup: '/system.slice/other.service', limit: 'max' }, 1000],
        ],
        [leaker, big, outside],
      ),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ subject: 'cgroup /system.slice/api.service memory', severity: 'warning' });
    expect(found[0]!.culprits!.map((p) => p.pid)).toEqual([20, 21]);
    expect(found[0]!.culprits![0]!.figure).toBe('50.0 MiB private, +2.0 MiB/s');
  });

  it('memory.high is judged from the limit on, pids.max past 90%', () => {
    const found = assessSaturation(
      sample([
        ['contention_cgroup_memory_bytes', { cgroup: '/a' }, 1000],
        ['contention_cgroup_memory_limit_bytes', { cgroup: '/a', limit: 'high' }, 1000],
        ['contention_cgroup_memory_bytes', { cgroup: '/b' }, 999],
        ['contention_cgroup_memory_limit_bytes', { cgroup: '/b', limit: 'high' }, 1000],
        ['contention_cgroup_pids', { cgroup: '/c' }, 99],
        ['contention_cgroup_pids_limit', { cgroup: '/c' }, 100],
      ]),
    );
    expect(found.map((c) => [c.subject, c.severity])).toEqual([
      ['cgroup /c tasks', 'critical'],
      ['cgroup /a memory (memory.high)', 'warning'],
    ]);
  });

  it('a full filesystem and inode table are findings naming the writers, or saying why none is named', () => {
    const fs = { mountpoint: '/var', fstype: 'ext4', device: '/dev/sda2' };
    const rows: Row[] = [
      ['contention_filesystem_size_bytes', fs, 1000],
      ['contention_filesystem_avail_bytes', fs, 40],
      ['contention_filesystem_files', fs, 1000],
      ['contention_filesystem_files_free', fs, 99],
    ];
    const writer = row(30, { write: 5 << 20 });
    const found = assessSaturation(sample(rows, [writer, row(31)]));
    expect(found.map((c) => [c.subject, c.severity])).toEqual([['filesystem /var space', 'critical'], ['filesystem /var inodes', 'warning']]);
    expect(found[0]!.culprits!.map((p) => [p.pid, p.figure])).toEqual([[30, 'writes 5.0 MiB/s']]);
    const quiet = assessSaturation(sample(rows, [row(31)]));
    expect(quiet[0]!.culprits).toBeUndefined();
    expect(quiet[0]!.culpritNote).toMatch(/du -xsh/);
  });

  it('OOM kills between two samples are critical, and the file-handle table names the top holders', () => {
    const before = sample([['contention_oom_kills_total', {}, 3], ['contention_cgroup_oom_kills_total', { cgroup: '/x' }, 1]]);
    const after = sample([
      ['contention_oom_kills_total', {}, 4],
      ['contention_cgroup_oom_kills_total', { cgroup: '/x' }, 2],
      ['contention_kernel_table_free_entries', { table: 'file_handles' }, 10],
      ['contention_kernel_table_size_entries', { table: 'file_handles' }, 1000],
    ], [row(40, { handles: 900 }), row(41, { handles: 50 })]);
    const found = assessSaturation(after, before);
    expect(found.map((c) => c.subject).sort()).toEqual(['cgroup /x oom kills', 'kernel table file_handles', 'oom kills']);
    expect(found.find((c) => c.subject === 'kernel table file_handles')!.culprits!.map((p) => p.pid)).toEqual([40, 41]);
    expect(assessSaturation(after, after).map((c) => c.subject)).toEqual(['kernel table file_handles']);
  });
});
