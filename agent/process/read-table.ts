import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clockTicksPerSecond } from '../procfs/clock-ticks.js';
import { isKernelThread, parsePidStat } from '../procfs/pid-stat.js';
import { parsePidStatus } from '../procfs/pid-status.js';
import { readProcFile } from '../procfs/read.js';
import type { ProcessIdentity } from './criteria.js';
import type { ProcessRow } from './table.js';

export type ReadErrorReason = 'vanished' | 'permission' | 'zombie' | 'malformed';

/** A row before grouping: what /proc said of one process. */
export type RawProcess = Omit<ProcessRow, 'criteria' | 'processGroup' | 'user' | 'group'>;

type Identity = Omit<ProcessIdentity, 'user' | 'group'> & { uid: number; gid: number };

export interface TableReader {
  /** Reads every process; yields to the event loop between batches so scrapes are not held up. */
  read(): Promise<{ rows: RawProcess[]; errors: Map<ReadErrorReason, number> }>;
}

const BATCH = 128;

/**
 * Reads /proc/PID/{stat,status} for every process each time, the fd count with one stat() of
 * /proc/PID/fd (Linux 6.2+ reports the count as the directory size; older kernels fall back to
 * listing it), and what does not change in a process's life (exe, cmdline) once per process.
 */
export function createTableReader(procfs: string, bootTimeSeconds: () => number): TableReader {
  const hz = clockTicksPerSecond();
  let identities = new Map<string, Identity>();
  let fdSizeIsCount: boolean | undefined;

  const countFds = (pid: number): number => {
    const dir = join(procfs, String(pid), 'fd');
    if (fdSizeIsCount !== false) {
      const size = statSync(dir).size;
      if (fdSizeIsCount === undefined) {
        // Decide once: a kernel that reports the count gives a size equal to the listing's length.
        fdSizeIsCount = size > 0 && size === readdirSync(dir).length;
        if (!fdSizeIsCount) return readdirSync(dir).length;
      }
      if (fdSizeIsCount) return size;
    }
    return readdirSync(dir).length;
  };

  const identityOf = (pid: number, key: string, comm: string, uid: number, gid: number): Identity => {
    const known = identities.get(key);
    if (known && known.uid === uid && known.gid === gid) return known;
    let exe = '';
    try {
      exe = readlinkSync(join(procfs, String(pid), 'exe'));
    } catch (err) {
      // Without privileges another user's exe link cannot be read; the row stays, exe empty.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !known) throw err;
    }
    const args = readProcFile(join(procfs, String(pid), 'cmdline')).split('\0');
    if (args[args.length - 1] === '') args.pop();
    const identity: Identity = { comm, exe, cmdline: args.join(' '), argv0: args[0] ?? '', uid, gid };
    identities.set(key, identity);
    return identity;
  };

  return {
    async read() {
      const rows: RawProcess[] = [];
      const errors = new Map<ReadErrorReason, number>();
      const fail = (reason: ReadErrorReason): void => void errors.set(reason, (errors.get(reason) ?? 0) + 1);
      const seen = new Map<string, Identity>();
      const boot = bootTimeSeconds();
      const pids = readdirSync(procfs).filter((name) => /^\d+$/.test(name)).map(Number);
      for (let i = 0; i < pids.length; i++) {
        if (i > 0 && i % BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
        const pid = pids[i]!;
        try {
          const stat = parsePidStat(readProcFile(join(procfs, String(pid), 'stat')));
          if (isKernelThread(stat)) continue;
          if (stat.state === 'Z' || stat.state === 'X') {
            fail('zombie');
            continue;
          }
          const status = parsePidStatus(readProcFile(join(procfs, String(pid), 'status')));
          if (status.vmSize === undefined || status.vmRss === undefined) {
            fail('zombie'); // exiting: its memory is already gone
            continue;
          }
          const startTime = Math.round((boot + stat.startTicks / hz) * 1000);
          const key = `${pid}:${startTime}`;
          const identity = identityOf(pid, key, stat.comm, status.uid, status.gid);
          seen.set(key, identity);
          const handles = countFds(pid);
          rows.push({
            ...identity,
            pid,
            ppid: stat.ppid,
            startTime,
            state: stat.state,
            privateBytes: (status.rssAnon ?? 0) + (status.vmSwap ?? 0),
            workingSetBytes: status.vmRss,
            virtualBytes: status.vmSize,
            threads: status.threads,
            cpuSeconds: (stat.utime + stat.stime) / hz,
            handles,
          });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          fail(code === 'ENOENT' || code === 'ESRCH' ? 'vanished' : code === 'EACCES' || code === 'EPERM' ? 'permission' : 'malformed');
        }
      }
      identities = seen; // forget processes that are gone
      return { rows, errors };
    },
  };
}
