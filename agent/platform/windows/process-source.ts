/**
 * The process table on Windows: the native process list for every process and its measures, the
 * identity reader for user and executable path. Rows take the same shape as on Linux so grouping,
 * top K, detection and policies are the same code.
 */
import type { Named } from '../../process/groups.js';
import type { ReadErrorReason } from '../../process/read-table.js';
import type { ProcessSource } from '../../process/source.js';
import { displayName, splitWindowsCommandLine } from '../../process/display-name.js';
import { windowsHandleLimits } from '../../process/fd-limits.js';
import { loadWin32 } from './ffi.js';
import { createIdentityReader, type ProcessIdentityFields } from './identity-reader.js';
import { processName, type NativeProcess, type SkipReason } from './process-info.js';
import { openProcessList } from './process-list.js';

/** Windows has SIDs, not numeric ids: rows carry -1 there, and criteria match the user by name. */
export const NO_NUMERIC_ID = -1;

/** A native process as a table row. Windows has no numeric user or group ids, nor a primary group that criteria use. */
export function nativeRow(p: NativeProcess, identity: ProcessIdentityFields): Named {
  const comm = processName(p.imageName);
  return {
    pid: p.pid,
    ppid: p.ppid,
    startTime: p.startTime,
    state: p.state,
    comm,
    exe: identity.exe,
    cmdline: identity.cmdline,
    argv0: identity.argv0,
    uid: NO_NUMERIC_ID,
    gid: NO_NUMERIC_ID,
    user: identity.user,
    group: '',
    privateBytes: p.privateBytes,
    workingSetBytes: p.workingSetBytes,
    virtualBytes: p.virtualBytes,
    threads: p.threads,
    handles: p.handles,
    cpuSeconds: p.cpuSeconds,
    // Read/WriteTransferCount also count network and device I/O, not storage alone: not the Linux figure.
    majorFaults: p.hardFaults,
    minorFaults: Math.max(0, p.pageFaults - p.hardFaults),
    displayName: displayName({ comm, exe: identity.exe, argv: splitWindowsCommandLine(identity.cmdline) }),
  };
}

/** The decoder's skip reasons as the table's read errors; Idle and System are the kernel, not errors (as kernel threads on Linux). */
export function readErrors(skipped: ReadonlyMap<SkipReason, number>): Map<ReadErrorReason, number> {
  const errors = new Map<ReadErrorReason, number>();
  for (const [reason, n] of skipped) if (reason !== 'kernel') errors.set(reason, (errors.get(reason) ?? 0) + n);
  return errors;
}

export function createNativeProcessSource(): ProcessSource {
  const ready = Promise.all([openProcessList(), loadWin32()]).then(([list, api]) => ({ list, identities: createIdentityReader(api) }));
  // An open that fails is reported by each read; keep it from being an unhandled rejection meanwhile.
  ready.catch(() => undefined);
  let stopped = false;
  return {
    fdLimits: windowsHandleLimits,
    async read() {
      const { list, identities } = await ready;
      if (stopped) throw new Error('the process source is stopped');
      const { rows, skipped } = list.read();
      const named = rows.map((p) => nativeRow(p, identities.identify(p.pid, p.startTime)));
      return { rows: named, errors: readErrors(skipped), unreadable: identities.endRound() };
    },
    stop() {
      stopped = true;
      void ready.then(({ list, identities }) => {
        list.close();
        identities.close();
      }, () => undefined);
    },
  };
}
