import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { clockTicksPerSecond } from '../procfs/clock-ticks.js';
import { parseMeminfo } from '../procfs/meminfo.js';
import { readPidFile } from '../procfs/pid-files.js';
import { isKernelThread, parsePidStatBytes } from '../procfs/pid-stat.js';
import { parsePidStatmBytes, pageSize } from '../procfs/pid-statm.js';
import { parsePidIo } from '../procfs/pid-io.js';
import { cgroupUnit, parseProcCgroup } from '../procfs/cgroup.js';
import { displayName } from './display-name.js';
import { parsePidStatusBytes } from '../procfs/pid-status.js';
import { readProcFile } from '../procfs/read.js';
import type { ProcessIdentity } from './criteria.js';
import type { ProcessRow } from './table.js';

/** Why a row was skipped; `out_of_range` is a row whose numbers no kernel produces (negative CPU time, 1e26 bytes). */
export type ReadErrorReason = 'vanished' | 'permission' | 'zombie' | 'malformed' | 'out_of_range';

/** A row before grouping: what /proc said of one process. */
export type RawProcess = Omit<ProcessRow, 'criteria' | 'processGroup' | 'user' | 'group' | 'rates'>;

type Identity = Omit<ProcessIdentity, 'user' | 'group'> & {
  uid: number;
  gid: number;
  displayName: string;
  unit?: string;
  cgroup?: string;
  /** Unix ms when exe and cmdline were read. */
  readAt: number;
};

/** The longest an identity (exe, cmdline) is reused without reading it again. */
export const IDENTITY_MAX_AGE_MS = 30_000;

/** What the reader keeps of a process between samples. */
interface Known {
  identity: Identity;
  /** CPU ticks and size when the identity was read: an exec or a title rewrite needs the process to run. */
  identityTicks: number;
  identityVsize: number;
  /** CPU ticks when status was last read: a change of user or group needs the process to run. */
  statusTicks: number;
  /** Tells the process apart from a later one reusing its pid. */
  startTicks: number;
  /** stat's resident pages and size when privateBytes was last read. */
  rssPages: number;
  vsize: number;
  privateBytes: number;
  /** CPU ticks when /proc/PID/io was last read, and what it said. */
  ioTicks: number;
  io?: { readBytes: number; writeBytes: number };
  /** The row of its last reading, and whether that reading found nothing changed since the one before. */
  row: RawProcess;
  quiet: boolean;
  /** When a later reading last found the row's figures unchanged and carried it on. */
  confirmedAt: number | undefined;
  /** The reading that last listed the process: the others are swept out after each reading. */
  seenIn: number;
}

export interface TableReadOptions {
  /** Pids read on every sample even when quiet: criteria processes, the top set, those near a limit. */
  readonly always?: ReadonlySet<number>;
}

export interface TableReading {
  rows: RawProcess[];
  errors: Map<ReadErrorReason, number>;
  /** Rows carried over from an earlier reading of a quiet process, not read this time. */
  carried: number;
}

export interface TableReader {
  /** Reads every process; yields to the event loop between batches so scrapes are not held up. */
  read(opts?: TableReadOptions): Promise<TableReading>;
}

const BATCH = 32;

/** A known process's status is read again every this many samples, to see a change of user or group. */
export const ID_REFRESH_SAMPLES = 12;

/** Whether a /proc entry name is a pid (all digits), without a regular expression per entry. */
function isPidName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Reads /proc/PID/stat for every process each time (CPU, threads, resident set and size), the fd count
 * with one stat() of /proc/PID/fd (Linux 6.2+ reports the count as the directory size; older kernels
 * fall back to listing it), for a quiet process only once it has run since (a clock tick of CPU time or
 * a page fault: opening or closing a descriptor takes a system call), and what does not change in a
 * process's life (exe, cmdline) once per process. Kernel threads are listed but never rows; their
 * stat is read again only in the quiet share below, in case the pid went to a process. The two other
 * files are read only when they can tell something stat cannot:
 *
 * - /proc/PID/statm, for the anonymous resident memory (resident minus shared pages, the counter
 *   status calls RssAnon), when stat shows the resident set or the size changed since it was last
 *   read. An idle process, most of them on a big host, costs no read of it; a process whose
 *   anonymous memory grows also grows its resident set.
 * - /proc/PID/status, the only file with the real uid and gid and with VmSwap, and several times
 *   statm's cost to the kernel: when a process is first seen, again every ID_REFRESH_SAMPLES samples
 *   (so a daemon that changes user after start is seen under its new user, and any drift is
 *   corrected, within that many samples), and for every process on every sample while any swap is in
 *   use on the host. With no swap used, VmSwap is zero everywhere.
 *
 * Most processes on a big host are idle, and an idle process changes nothing /proc shows: its CPU,
 * memory, threads and descriptors move only when it runs (a page reclaimed from it lowers its
 * working set, never its private bytes, which count swap). So a process whose last reading found
 * nothing changed since the one before is *quiet*, and is read again only every `quietEvery`
 * samples (spread by pid, so each sample reads its share) unless `always` names it; in between its
 * last row is carried over, with the time it was read. A new pid is read at once, a vanished one is
 * dropped at once (the /proc listing is taken every sample), and a quiet process that wakes is seen
 * within `quietEvery` samples, after which it is read every sample until it is quiet again.
 */
export function createTableReader(procfs: string, bootTimeSeconds: () => number, quietEvery = 1): TableReader {
  const hz = clockTicksPerSecond();
  const page = pageSize();
  const every = Math.max(1, Math.floor(quietEvery));
  let sampleNo = 0;
  const known = new Map<number, Known>();
  // Kernel threads are listed in /proc but never rows: remembered by pid (with the reading that last
  // listed them) so their stat is read again only in the quiet share, in case the pid was reused.
  const kernelThreads = new Map<number, number>();
  let fdSizeIsCount: boolean | undefined = fdSizeIsCountHere(procfs);

  const countFds = (dir: string): number => {
    if (fdSizeIsCount === true) return statSync(dir).size;
    if (fdSizeIsCount === false) return readdirSync(dir).length;
    // Decide on the first process that has a descriptor: a kernel that reports the count gives a
    // size equal to the listing's length.
    const size = statSync(dir).size;
    const listed = readdirSync(dir).length;
    if (listed > 0) fdSizeIsCount = size === listed;
    return listed;
  };

  /** exe and cmdline, read again only when the process is new or changed its name, user or group. */
  const identityOf = (before: Known | undefined, base: string, comm: string, uid: number, gid: number, ticks: number, vsize: number, now = Date.now()): Identity => {
    const was = before?.identity;
    // An exec keeping the interpreter's name (python3 a.py -> python3 b.py) or a rewritten title
    // changes none of the cheap signals, so the identity is also read again once it is
    // IDENTITY_MAX_AGE_MS old, if the process has run since (neither can happen without running).
    if (was && was.uid === uid && was.gid === gid && was.comm === comm) {
      const ran = before!.identityTicks !== ticks || before!.identityVsize !== vsize;
      if (!ran || now - was.readAt < IDENTITY_MAX_AGE_MS) return was;
    }
    let exe = '';
    try {
      exe = readlinkSync(`${base}exe`);
    } catch (err) {
      // Without privileges another user's exe link cannot be read; the row stays, exe empty.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !was) throw err;
    }
    const args = readProcFile(`${base}cmdline`).split('\0');
    if (args[args.length - 1] === '') args.pop();
    let unit: string | undefined;
    let cgroup: string | undefined;
    try {
      const where = parseProcCgroup(readProcFile(`${base}cgroup`));
      cgroup = where.v1.get('memory') ?? where.unified;
      unit = cgroupUnit(where.unified !== undefined && where.unified !== '/' ? where.unified : where.v1.get('name=systemd') ?? cgroup ?? '');
    } catch {
      // No cgroup file (a recorded procfs, a kernel without cgroups): the row stays, without a unit.
    }
    return { comm, exe, cmdline: args.join(' '), argv0: args[0] ?? '', uid, gid, displayName: displayName({ comm, exe, argv: args }), unit, cgroup, readAt: now };
  };

  /**
   * /proc/PID/io only when the process used CPU since it was last read: issuing I/O takes a system
   * call, so a process that was not scheduled moved nothing, and most of a big host is idle. A process
   * doing I/O in less than a clock tick is caught up at its next tick (the counters are cumulative).
   * Unreadable (another user's process without privileges, or no task I/O accounting): absent, not zero.
   */
  const ioOf = (before: Known | undefined, base: string, ticks: number): Known['io'] => {
    if (before !== undefined && before.ioTicks === ticks) return before.io;
    try {
      return parsePidIo(readProcFile(`${base}io`));
    } catch {
      // Unreadable, or a kernel built without task I/O accounting (no such file): the row stays, without I/O.
      return undefined;
    }
  };

  return {
    async read(opts = {}) {
      const rows: RawProcess[] = [];
      const errors = new Map<ReadErrorReason, number>();
      const fail = (reason: ReadErrorReason): void => void errors.set(reason, (errors.get(reason) ?? 0) + 1);
      // `known` is updated in place and swept of what this reading did not list: a new Map of every
      // process per sample was a large part of the agent's garbage on a big host.
      const reading = sampleNo;
      let listed = 0;
      const boot = bootTimeSeconds();
      const root = procfs.endsWith('/') ? procfs : `${procfs}/`;
      const swapInUse = swapUsed(root);
      const refreshSlot = sampleNo % ID_REFRESH_SAMPLES;
      const quietSlot = sampleNo++ % every;
      const readAt = Date.now();
      const names = readdirSync(procfs);
      let done = 0;
      let carried = 0;
      for (let n = 0; n < names.length; n++) {
        const name = names[n]!;
        if (!isPidName(name)) continue;
        const pid = Number(name);
        if (kernelThreads.has(pid) && pid % every !== quietSlot) {
          kernelThreads.set(pid, reading);
          continue;
        }
        const last = known.get(pid);
        if (last !== undefined && last.quiet && pid % every !== quietSlot && !opts.always?.has(pid)) {
          rows.push(last.row);
          last.seenIn = reading;
          listed++;
          carried++;
          continue;
        }
        if (++done % BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
        const base = `${root}${name}/`;
        try {
          const statFile = readPidFile(`${base}stat`);
          const stat = parsePidStatBytes(statFile.buffer, statFile.length);
          if (isKernelThread(stat)) {
            kernelThreads.set(pid, reading);
            continue;
          }
          kernelThreads.delete(pid);
          if (stat.state === 'Z' || stat.state === 'X') {
            fail('zombie');
            continue;
          }
          const before = last !== undefined && last.startTicks === stat.startTicks ? last : undefined;
          const ticks = stat.utime + stat.stime;
          let identity: Identity;
          let privateBytes: number;
          let workingSetBytes: number;
          let virtualBytes: number;
          let threads: number;
          let statusTicks: number;
          if (before !== undefined && !swapInUse && (pid % ID_REFRESH_SAMPLES !== refreshSlot || before.statusTicks === ticks)) {
            statusTicks = before.statusTicks;
            identity = identityOf(before, base, stat.comm, before.identity.uid, before.identity.gid, ticks, stat.vsize);
            if (stat.rssPages === before.rssPages && stat.vsize === before.vsize) {
              privateBytes = before.privateBytes;
              workingSetBytes = stat.rssPages * page;
              virtualBytes = stat.vsize;
            } else {
              const statmFile = readPidFile(`${base}statm`);
              const statm = parsePidStatmBytes(statmFile.buffer, statmFile.length, page);
              if (statm.size === 0) {
                fail('zombie'); // exiting: its memory is already gone
                continue;
              }
              privateBytes = statm.resident - statm.shared;
              workingSetBytes = statm.resident;
              virtualBytes = statm.size;
            }
            threads = stat.numThreads;
          } else {
            const statusFile = readPidFile(`${base}status`);
            const status = parsePidStatusBytes(statusFile.buffer, statusFile.length);
            if (status.vmSize === undefined || status.vmRss === undefined) {
              fail('zombie'); // exiting: its memory is already gone
              continue;
            }
            statusTicks = ticks;
            identity = identityOf(before, base, stat.comm, status.uid, status.gid, ticks, stat.vsize);
            privateBytes = (status.rssAnon ?? 0) + (status.vmSwap ?? 0);
            workingSetBytes = status.vmRss;
            virtualBytes = status.vmSize;
            threads = status.threads;
          }
          // Opening or closing a descriptor takes a system call, so a quiet process that has run less
          // than a clock tick of CPU in all since its last reading, and taken no page fault, is counted
          // again only once it has (a process opening one descriptor per brief wake-up is seen about
          // every 10 ms of its CPU). What `always` names (the top set, criteria processes, any holding
          // enough descriptors for their limit to matter) is counted on every reading.
          const handles =
            before !== undefined && before.quiet && before.ioTicks === ticks && before.row.minorFaults === stat.minorFaults && !opts.always?.has(pid) ? before.row.handles : countFds(`${base}fd`);
          const io = ioOf(before, base, ticks);
          const cpuSeconds = ticks / hz;
          const was = before?.row;
          if (
            before !== undefined && was !== undefined && before.quiet && was.cpuSeconds === cpuSeconds && before.identity === identity && was.privateBytes === privateBytes &&
            was.workingSetBytes === workingSetBytes && was.virtualBytes === virtualBytes && was.threads === threads && was.handles === handles &&
            before.io === io && was.state === stat.state && was.ppid === stat.ppid && was.majorFaults === stat.majorFaults && was.minorFaults === stat.minorFaults
          ) {
            // Quiet and read again to the same figures: its row is carried on (the same object, so
            // nothing downstream works it again), and the time it was confirmed is kept for the rates
            // of the reading that finds it changed.
            rows.push(was);
            before.statusTicks = statusTicks;
            before.confirmedAt = readAt;
            before.seenIn = reading;
            listed++;
            continue;
          }
          const row: RawProcess = {
            comm: identity.comm,
            exe: identity.exe,
            cmdline: identity.cmdline,
            argv0: identity.argv0,
            uid: identity.uid,
            gid: identity.gid,
            pid,
            ppid: stat.ppid,
            startTime: Math.round((boot + stat.startTicks / hz) * 1000),
            state: stat.state,
            privateBytes,
            workingSetBytes,
            virtualBytes,
            threads,
            cpuSeconds,
            handles,
            ioReadBytes: io?.readBytes,
            ioWriteBytes: io?.writeBytes,
            majorFaults: stat.majorFaults,
            minorFaults: stat.minorFaults,
            displayName: identity.displayName,
            unit: identity.unit,
            cgroup: identity.cgroup,
            readAt,
            previousReadAt: before?.confirmedAt,
          };
          rows.push(row);
          if (before !== undefined) {
            const was = before.row;
            before.quiet = was.cpuSeconds === row.cpuSeconds && before.rssPages === stat.rssPages && before.vsize === stat.vsize && was.threads === threads && was.handles === handles && was.comm === row.comm;
            if (before.identity !== identity) {
              before.identityTicks = ticks;
              before.identityVsize = stat.vsize;
            }
            before.identity = identity;
            before.statusTicks = statusTicks;
            before.rssPages = stat.rssPages;
            before.vsize = stat.vsize;
            before.privateBytes = privateBytes;
            before.ioTicks = ticks;
            before.io = io;
            before.row = row;
            before.confirmedAt = undefined;
            before.seenIn = reading;
          } else {
            known.set(pid, { identity, identityTicks: ticks, identityVsize: stat.vsize, statusTicks, startTicks: stat.startTicks, rssPages: stat.rssPages, vsize: stat.vsize, privateBytes, ioTicks: ticks, io, row, confirmedAt: undefined, quiet: false, seenIn: reading });
          }
          listed++;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          fail(code === 'ENOENT' || code === 'ESRCH' ? 'vanished' : code === 'EACCES' || code === 'EPERM' ? 'permission' : 'malformed');
        }
      }
      // Forget processes that are gone (or became zombies, or could not be read).
      // forEach, not for-of, here and in the other per-process caches: this runs once a sample, often in
      // V8's unoptimized tiers, where for-of allocates an object per entry.
      if (known.size > listed) known.forEach((k, pid) => k.seenIn !== reading && known.delete(pid));
      kernelThreads.forEach((seenIn, pid) => seenIn !== reading && kernelThreads.delete(pid));
      return { rows, errors, carried };
    },
  };
}

/** Whether any swap is in use (or it cannot be told): then every process's VmSwap must be read. */
function swapUsed(root: string): boolean {
  try {
    const meminfo = parseMeminfo(readProcFile(`${root}meminfo`));
    const total = meminfo.get('SwapTotal');
    const free = meminfo.get('SwapFree');
    return total === undefined || free === undefined || total - free > 0;
  } catch {
    return true;
  }
}

/**
 * Whether this kernel reports a /proc/PID/fd directory's size as its count of open descriptors
 * (Linux 6.2 and later), judged on the agent's own process, which always has some open; undefined when
 * `procfs` holds no entry for it (a recorded procfs), and the first process with descriptors decides.
 * Judging on one's own process makes the answer the same whichever user the agent runs as.
 */
function fdSizeIsCountHere(procfs: string): boolean | undefined {
  const dir = `${procfs}/${process.pid}/fd`;
  try {
    const size = statSync(dir).size;
    // The listing itself holds one descriptor open while it reads, and sees it.
    const listed = readdirSync(dir).length;
    return size > 0 && (size === listed || size === listed - 1);
  } catch {
    return undefined;
  }
}
