import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { clockTicksPerSecond } from '../../procfs/clock-ticks.js';
import { parsePidStat } from '../../procfs/pid-stat.js';
import { readProcFile } from '../../procfs/read.js';
import { parseStat } from '../../procfs/stat.js';
import type { ProcessControl, Target, TerminateOutcome } from '../../policy/process-control.js';
import { loadPidfd, type Pidfd } from './pidfd.js';

const SIGTERM = 15;
const SIGKILL = 9;
const POLL_MS = 50;
/** How long a SIGKILLed process may take to disappear before the stop is called failed. */
const KILL_WAIT_MS = 5000;

type Identity = 'same' | 'mismatch' | 'gone';

/** A command line as the process table joins it, so the two compare equal when nothing changed. */
const cmdlineOf = (path: string): string => {
  const args = readProcFile(path).split('\0');
  if (args[args.length - 1] === '') args.pop();
  return args.join(' ');
};

/**
 * Linux's process actions. Every action re-reads the process's start time and exe from /proc and
 * compares them with the decision's; signals go through a pidfd opened before that check where the
 * kernel has pidfd_open (5.3+), so the check and the signal are about the same process.
 */
export async function createLinuxProcessControl(procfs = '/proc', opts: { pidfd?: boolean } = {}): Promise<ProcessControl & { usesPidfd(): Promise<boolean> }> {
  // Loaded at the first stop: an agent that never stops anything never loads the FFI.
  const pidfdOf = (): Promise<Pidfd | undefined> => (opts.pidfd === false ? Promise.resolve(undefined) : loadPidfd());
  const hz = clockTicksPerSecond();
  let bootTime: number | undefined;

  const identity = (t: Target): Identity => {
    try {
      const stat = parsePidStat(readProcFile(join(procfs, String(t.pid), 'stat')));
      if (stat.state === 'Z' || stat.state === 'X') return 'gone';
      bootTime ??= parseStat(readProcFile(join(procfs, 'stat'))).bootTime;
      const start = Math.round((bootTime + stat.startTicks / hz) * 1000);
      if (start !== t.startTime) return 'mismatch';
      if (t.exe !== '') {
        let exe = '';
        try {
          exe = readlinkSync(join(procfs, String(t.pid), 'exe'));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
          throw err;
        }
        if (exe !== t.exe) return 'mismatch';
      }
      if (t.cmdline !== undefined && cmdlineOf(join(procfs, String(t.pid), 'cmdline')) !== t.cmdline) return 'mismatch';
      return 'same';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return 'gone';
      throw err;
    }
  };

  const waitGone = async (t: Target, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (identity(t) !== 'same') return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  const terminateWith = async (t: Target, graceMs: number, send: (signal: number) => boolean): Promise<TerminateOutcome> => {
    const first = identity(t);
    if (first !== 'same') return first;
    if (!send(SIGTERM)) return identity(t) === 'same' ? 'failed' : 'gone';
    if (await waitGone(t, graceMs)) return 'stopped';
    if (!send(SIGKILL)) return identity(t) === 'same' ? 'failed' : 'stopped';
    return (await waitGone(t, KILL_WAIT_MS)) ? 'killed' : 'failed';
  };

  const terminate = async (t: Target, graceMs: number): Promise<TerminateOutcome> => {
    try {
      const pidfd = await pidfdOf();
      if (pidfd) return await terminateByPidfd(pidfd, t, graceMs);
      // Without a pidfd the recheck comes just before each signal; the window left is microseconds.
      return await terminateWith(t, graceMs, (signal) => {
        if (identity(t) !== 'same') return false;
        try {
          process.kill(t.pid, signal);
          return true;
        } catch {
          return false;
        }
      });
    } catch {
      return 'failed';
    }
  };

  const terminateByPidfd = async (p: Pidfd, t: Target, graceMs: number): Promise<TerminateOutcome> => {
    const fd = p.open(t.pid);
    if (fd < 0) return identity(t) === 'same' ? 'failed' : 'gone';
    try {
      return await terminateWith(t, graceMs, (signal) => p.signal(fd, signal) === 0);
    } finally {
      p.close(fd);
    }
  };

  const writeCgroup = (cgroup: string, file: string, value: string): boolean => {
    try {
      writeFileSync(join(cgroup, file), value);
      return true;
    } catch {
      return false;
    }
  };

  return {
    usesPidfd: async () => (await pidfdOf()) !== undefined,
    terminate,
    async trim(t, limitBytes, cgroup) {
      const now = identity(t);
      if (now !== 'same') return now;
      if (cgroup === undefined) return 'failed';
      return writeCgroup(cgroup, 'memory.high', String(Math.round(limitBytes))) ? 'trimmed' : 'failed';
    },
    priority(t) {
      if (identity(t) !== 'same') return undefined;
      try {
        return getPriority(t.pid);
      } catch {
        return undefined;
      }
    },
    setPriority(t, nice) {
      const now = identity(t);
      if (now !== 'same') return now;
      try {
        // Linux keeps a nice value per thread: set it on each, or a busy worker thread keeps its priority.
        setPriority(t.pid, nice);
        for (const tid of readdirSync(join(procfs, String(t.pid), 'task'))) {
          try {
            setPriority(Number(tid), nice);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
          }
        }
        return 'set';
      } catch {
        return identity(t) === 'same' ? 'failed' : 'gone';
      }
    },
    cpuWeight(cgroup) {
      try {
        const value = Number(readFileSync(join(cgroup, 'cpu.weight'), 'utf8').trim());
        return Number.isInteger(value) ? value : undefined;
      } catch {
        return undefined;
      }
    },
    setCpuWeight: (cgroup, weight) => writeCgroup(cgroup, 'cpu.weight', String(weight)),
  };
}
