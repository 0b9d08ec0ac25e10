import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

export interface MemoryCgroup {
  /** Its directory, where cgroup.procs and the limit files are. */
  readonly dir: string;
  /** The file holding its usage: memory.current (v2) or memory.usage_in_bytes (v1). */
  readonly usageFile: string;
  /** Its path below the controller's root, as the agent labels it. */
  readonly path: string;
  /** Moves a process into it. */
  join(pid: number): void;
  /** Removes it, waiting for killed members to leave. */
  remove(): void;
}

/**
 * A memory cgroup with a limit, made as root: v2 when the unified root holds the memory controller,
 * else cgroup v1's memory hierarchy (hosts whose controllers are still bound to v1, as this build
 * machine's). Fails with what is missing otherwise.
 */
export function makeMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  if (process.getuid?.() !== 0) throw new Error('making a memory cgroup needs root (run the tests as root)');
  const v2root = '/sys/fs/cgroup';
  const controllers = existsSync(`${v2root}/cgroup.controllers`) ? readFileSync(`${v2root}/cgroup.controllers`, 'utf8') : '';
  let dir: string;
  let usageFile: string;
  if (controllers.split(/\s+/).includes('memory')) {
    dir = join(v2root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'memory.max'), String(limitBytes));
    usageFile = 'memory.current';
  } else {
    const v1root = '/sys/fs/cgroup/memory';
    if (!existsSync(`${v1root}/memory.usage_in_bytes`)) {
      throw new Error('no memory cgroup controller to make a cgroup in (mount cgroup2 with the memory controller, or cgroup v1 memory)');
    }
    dir = join(v1root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    usageFile = 'memory.usage_in_bytes';
  }
  return {
    dir,
    usageFile,
    path: `/${name}`,
    join: (pid) => writeFileSync(join(dir, 'cgroup.procs'), String(pid)),
    remove() {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch {
          spawnSync('sleep', ['0.1']);
        }
      }
    },
  };
}
