import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCgroupLimit, parseFlatKeyed } from '../procfs/cgroup.js';
import { unsupported, type CollectorSpec } from './collector.js';

/** How deep below the root cgroups are looked for: a Kubernetes container sits at depth 4. */
export const CGROUP_MAX_DEPTH = 4;
/** At most this many cgroups are exported, those nearest a limit first. */
export const CGROUP_MAX = 64;

/** Where the memory and pids controllers are, and in which version. */
export interface CgroupLayout {
  readonly version: 1 | 2;
  /** The directory of the memory controller's root (v2: the unified root). */
  readonly memoryRoot?: string;
  /** The directory of the pids controller's root (v2: the same root). */
  readonly pidsRoot?: string;
}

/** A cgroup with a limit, or a systemd service (whose OOM kills matter even without one). */
export interface CgroupReading {
  /** Its path below the controller's root, "/system.slice/nginx.service". */
  readonly path: string;
  readonly memoryBytes?: number;
  /** memory.max (v1: memory.limit_in_bytes); undefined when unlimited. */
  readonly memoryMax?: number;
  /** memory.high (v2 only): where the kernel starts throttling and reclaiming hard. */
  readonly memoryHigh?: number;
  readonly oomKills?: number;
  readonly pids?: number;
  readonly pidsMax?: number;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
};

/**
 * The controllers' places: cgroup v2 when the unified root lists "memory" in cgroup.controllers;
 * otherwise the v1 hierarchies (a hybrid host keeps its v2 tree without controllers).
 */
export function cgroupLayout(cgroupfs: string): CgroupLayout | undefined {
  const controllers = read(join(cgroupfs, 'cgroup.controllers'));
  if (controllers !== undefined) {
    const list = controllers.trim().split(/\s+/);
    if (list.includes('memory') || list.includes('pids')) {
      return { version: 2, memoryRoot: list.includes('memory') ? cgroupfs : undefined, pidsRoot: list.includes('pids') ? cgroupfs : undefined };
    }
  }
  const memory = read(join(cgroupfs, 'memory', 'memory.usage_in_bytes')) !== undefined ? join(cgroupfs, 'memory') : undefined;
  const pids = read(join(cgroupfs, 'pids', 'cgroup.procs')) !== undefined ? join(cgroupfs, 'pids') : undefined;
  if (memory === undefined && pids === undefined) return undefined;
  return { version: 1, memoryRoot: memory, pidsRoot: pids };
}

const finite = (n: number | undefined): number | undefined => (n === undefined || n === Infinity ? undefined : n);
const limitIn = (dir: string, file: string): number | undefined => {
  const text = read(join(dir, file));
  return text === undefined ? undefined : finite(parseCgroupLimit(text));
};
const numberIn = (dir: string, file: string): number | undefined => {
  const text = read(join(dir, file));
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
};

/** The child cgroups of a directory (its subdirectories), to CGROUP_MAX_DEPTH, paths relative to root. */
function walk(root: string, visit: (path: string, dir: string) => void): void {
  const queue: Array<{ path: string; depth: number }> = [{ path: '', depth: 0 }];
  while (queue.length > 0) {
    const { path, depth } = queue.shift()!;
    const dir = join(root, path);
    if (depth > 0) visit(path, dir);
    if (depth === CGROUP_MAX_DEPTH) continue;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // removed while walking
    }
    for (const e of entries) if (e.isDirectory()) queue.push({ path: `${path}/${e.name}`, depth: depth + 1 });
  }
}

/**
 * Every cgroup to CGROUP_MAX_DEPTH that has a memory or pids limit of its own, or is a systemd
 * service, with what it uses of each. At most CGROUP_MAX, those using most of a limit first.
 */
export function readCgroups(layout: CgroupLayout): CgroupReading[] {
  type Mutable = { -readonly [K in keyof CgroupReading]: CgroupReading[K] };
  const byPath = new Map<string, Mutable>();
  const entry = (path: string): Mutable => {
    let e = byPath.get(path);
    if (e === undefined) {
      e = { path };
      byPath.set(path, e);
    }
    return e;
  };
  const service = (path: string) => path.endsWith('.service');
  if (layout.memoryRoot) {
    walk(layout.memoryRoot, (path, dir) => {
      if (layout.version === 2) {
        const max = limitIn(dir, 'memory.max');
        const high = limitIn(dir, 'memory.high');
        if (max === undefined && high === undefined && !service(path)) return;
        const e = entry(path);
        e.memoryBytes = numberIn(dir, 'memory.current');
        e.memoryMax = max;
        e.memoryHigh = high;
        const events = read(join(dir, 'memory.events'));
        e.oomKills = events === undefined ? undefined : parseFlatKeyed(events).get('oom_kill');
      } else {
        const max = limitIn(dir, 'memory.limit_in_bytes');
        if (max === undefined && !service(path)) return;
        const e = entry(path);
        e.memoryBytes = numberIn(dir, 'memory.usage_in_bytes');
        e.memoryMax = max;
        const control = read(join(dir, 'memory.oom_control'));
        e.oomKills = control === undefined ? undefined : parseFlatKeyed(control).get('oom_kill');
      }
    });
  }
  if (layout.pidsRoot) {
    walk(layout.pidsRoot, (path, dir) => {
      const max = limitIn(dir, 'pids.max');
      if (max === undefined && !byPath.has(path)) return;
      const e = entry(path);
      e.pids = numberIn(dir, 'pids.current');
      e.pidsMax = max;
    });
  }
  const worst = (c: CgroupReading) =>
    Math.max(
      c.memoryMax && c.memoryBytes !== undefined ? c.memoryBytes / c.memoryMax : -1,
      c.memoryHigh && c.memoryBytes !== undefined ? c.memoryBytes / c.memoryHigh : -1,
      c.pidsMax && c.pids !== undefined ? c.pids / c.pidsMax : -1,
    );
  return [...byPath.values()]
    .sort((a, b) => worst(b) - worst(a) || (a.path < b.path ? -1 : 1))
    .slice(0, CGROUP_MAX);
}

/**
 * cgroups near their limits: a service at memory.max is reclaimed, then OOM-killed, while the host
 * has memory to spare; at pids.max its fork() fails. Linux only; cgroup v2, or v1's memory and pids
 * hierarchies where the controllers are still bound there.
 */
export const cgroupsCollector: CollectorSpec = {
  name: 'cgroups',
  description: 'cgroups with a memory or pids limit, and systemd services: memory against memory.max/high, pids against pids.max, OOM kills',
  defaultEnabled: true,
  create: ({ sysfs }) => {
    const root = join(sysfs, 'fs', 'cgroup');
    let layout: CgroupLayout | undefined;
    return {
      update(sink) {
        layout ??= cgroupLayout(root);
        if (!layout) throw unsupported(`no cgroup memory or pids controller under ${root}`);
        for (const c of readCgroups(layout)) {
          const labels = { cgroup: c.path };
          if (c.memoryBytes !== undefined) sink.set('contention_cgroup_memory_bytes', labels, c.memoryBytes);
          if (c.memoryMax !== undefined) sink.set('contention_cgroup_memory_limit_bytes', { ...labels, limit: 'max' }, c.memoryMax);
          if (c.memoryHigh !== undefined) sink.set('contention_cgroup_memory_limit_bytes', { ...labels, limit: 'high' }, c.memoryHigh);
          if (c.oomKills !== undefined) sink.set('contention_cgroup_oom_kills_total', labels, c.oomKills);
          if (c.pids !== undefined) sink.set('contention_cgroup_pids', labels, c.pids);
          if (c.pidsMax !== undefined) sink.set('contention_cgroup_pids_limit', labels, c.pidsMax);
        }
      },
    };
  },
};
