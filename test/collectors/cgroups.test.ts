import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupLayout, readCgroups, CGROUP_MAX } from '../../agent/collectors/cgroups.js';

/** A cgroup tree laid out as the kernel lays it out (the files and formats of cgroup v2 or v1). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'ca-cgroup-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const v2service = (current: number, max: string, extra: Record<string, string> = {}) => ({
  'memory.current': `${current}\n`,
  'memory.max': `${max}\n`,
  'memory.high': 'max\n',
  'memory.events': 'low 0\nhigh 0\nmax 17\noom 2\noom_kill 2\noom_group_kill 0\n',
  'pids.current': '12\n',
  'pids.max': '4915\n',
  ...extra,
});
const under = (dir: string, files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([f, t]) => [`${dir}/${f}`, t]));

describe('the cgroups collector on a v2 tree', () => {
  const root = tree({
    'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    'memory.current': '999\n', // the root: never a subject
    ...under('system.slice', { 'memory.current': '5000\n', 'memory.max': 'max\n', 'pids.current': '40\n', 'pids.max': 'max\n' }),
    ...under('system.slice/api.service', v2service(60_397_977, '67108864')),
    ...under('system.slice/cron.service', { ...v2service(1_000_000, 'max'), 'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n', 'pids.max': 'max\n' }),
    ...under('system.slice/web.service', { ...v2service(100, 'max'), 'memory.high': '1000\n' }),
    ...under('user.slice', { 'memory.current': '7000\n', 'memory.max': 'max\n', 'pids.current': '3\n', 'pids.max': 'max\n' }),
    ...under('kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope', v2service(10, '1000')),
    ...under('a/b/c/d/e', v2service(10, '1000')), // below the depth looked at
  });

  it('finds the cgroup v2 controllers', () => {
    expect(cgroupLayout(root)).toEqual({ version: 2, memoryRoot: root, pidsRoot: root });
  });

  it('reads every cgroup with a limit and every service, worst first; skips slices without limits and the root', () => {
    const got = readCgroups(cgroupLayout(root)!);
    expect(got.map((c) => c.path)).toEqual([
      '/system.slice/api.service',
      '/system.slice/web.service',
      '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope',
      '/system.slice/cron.service',
    ]);
    expect(got[0]).toEqual({ path: '/system.slice/api.service', memoryBytes: 60_397_977, memoryMax: 67_108_864, memoryHigh: undefined, oomKills: 2, pids: 12, pidsMax: 4915 });
    expect(got[1]).toMatchObject({ memoryHigh: 1000, memoryMax: undefined });
    expect(got[3]).toMatchObject({ memoryMax: undefined, oomKills: 0, pidsMax: undefined, pids: 12 });
  });

  it('bounds what it exports', () => {
    const many: Record<string, string> = { 'cgroup.controllers': 'memory pids\n' };
    for (let i = 0; i < CGROUP_MAX + 20; i++) Object.assign(many, under(`system.slice/s${i}.service`, v2service(i, '100000')));
    expect(readCgroups(cgroupLayout(tree(many))!)).toHaveLength(CGROUP_MAX);
  });
});

describe('the cgroups collector on v1 hierarchies', () => {
  it('reads memory.usage_in_bytes against memory.limit_in_bytes, oom_control, and the pids hierarchy', () => {
    const root = tree({
      'unified/cgroup.controllers': 'hugetlb\n', // a hybrid host: the v2 tree holds no memory controller
      'memory/memory.usage_in_bytes': '1\n',
      ...under('memory/batch', { 'memory.usage_in_bytes': '900\n', 'memory.limit_in_bytes': '1000\n', 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 4\n' }),
      ...under('memory/free', { 'memory.usage_in_bytes': '900\n', 'memory.limit_in_bytes': '9223372036854771712\n', 'memory.oom_control': 'oom_kill 0\n' }),
      'pids/cgroup.procs': '1\n',
      ...under('pids/batch', { 'pids.current': '7\n', 'pids.max': '10\n' }),
    });
    const layout = cgroupLayout(root)!;
    expect(layout.version).toBe(1);
    expect(readCgroups(layout)).toEqual([{ path: '/batch', memoryBytes: 900, memoryMax: 1000, oomKills: 4, pids: 7, pidsMax: 10 }]);
  });
});
