/** Where a process sits in the cgroup hierarchies, from /proc/PID/cgroup. */
export interface ProcCgroups {
  /** Path in the unified (v2) hierarchy ("0::/system.slice/nginx.service"), when there is one. */
  readonly unified?: string;
  /** Path per v1 controller ("4:memory:/docker/abc"). */
  readonly v1: ReadonlyMap<string, string>;
}

/** Parses /proc/PID/cgroup: "hierarchy-id:controller-list:path" per line. */
export function parseProcCgroup(text: string): ProcCgroups {
  let unified: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    const controllers = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (line.slice(0, a) === '0' && controllers === '') unified = path;
    else for (const c of controllers.split(',')) if (c !== '') v1.set(c, path);
  }
  return { unified, v1 };
}

/**
 * A cgroup v2 limit file (memory.max, memory.high, pids.max): "max" is no limit (Infinity). cgroup v1's
 * memory.limit_in_bytes says "no limit" with a huge number (PAGE_COUNTER_MAX pages), also Infinity.
 */
export function parseCgroupLimit(text: string): number {
  const t = text.trim();
  if (t === 'max') return Infinity;
  const n = Number(t);
  if (!Number.isFinite(n) || n < 0 || t === '') throw new Error(`cgroup: bad limit "${t}"`);
  return n >= 2 ** 62 ? Infinity : n;
}

/** A flat-keyed cgroup file (memory.events, memory.oom_control, pids.events): "key value" lines. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const n = Number(line.slice(space + 1));
    if (Number.isFinite(n)) out.set(line.slice(0, space), n);
  }
  return out;
}

/**
 * What an operator calls the cgroup: its systemd unit ("nginx.service", "session-3.scope") or its
 * container ("docker:0123456789ab", "containerd:…", "podman:…", or a Kubernetes pod's container) —
 * the deepest such component of the path; undefined for the root or a plain directory.
 */
export function cgroupUnit(path: string): string | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!;
    const container = /^(?:(docker|cri-containerd|crio|libpod|containerd)-)?([0-9a-f]{64})(?:\.scope)?$/.exec(p);
    if (container) {
      const runtime = container[1] ?? (parts[i - 1] === 'docker' ? 'docker' : 'container');
      return `${runtime === 'libpod' ? 'podman' : runtime === 'cri-containerd' ? 'containerd' : runtime}:${container[2]!.slice(0, 12)}`;
    }
    if (/\.(service|scope)$/.test(p) && !/^(init|user@\d+)\.scope$/.test(p)) return p;
    if (/^user@\d+\.service$/.test(p)) return p;
  }
  return undefined;
}
