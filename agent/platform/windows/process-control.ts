import { getPriority, setPriority } from 'node:os';
import type { PriorityOutcome, ProcessControl, Target, TerminateOutcome, TrimOutcome } from '../../policy/process-control.js';
import { loadWin32, type Win32Api } from './ffi.js';
import { openFailure } from './identity.js';
import { PROCESS_QUERY_LIMITED_INFORMATION } from './identity-reader.js';
import { creationTime, exited, refusedTarget, SYNCHRONIZE, terminateVerified, trimWorkingSet, verifyIdentity } from './terminate.js';

/**
 * The policy engine's process actions on Windows. Stop and trim act on a held handle verified by its
 * creation time (terminate.ts). Windows has no polite "please exit" for a process without a window,
 * so a stop is TerminateProcess at once, as WSRM's "stop the application" was, and the grace does not
 * apply. Priority goes through Node's priority classes after the same creation-time check; there are
 * no cgroups, so CPU weights are never read or set.
 */
export async function createWindowsProcessControl(): Promise<ProcessControl> {
  const api = await loadWin32();
  const identity = (t: Target) => checkIdentity(api, t);
  return {
    async terminate(target: Target): Promise<TerminateOutcome> {
      return terminateVerified(target.pid, target.startTime);
    },
    async trim(target: Target): Promise<TrimOutcome> {
      return trimWorkingSet(target.pid, target.startTime);
    },
    priority(target) {
      if (identity(target) !== 'same') return undefined;
      try {
        return getPriority(target.pid);
      } catch {
        return undefined;
      }
    },
    setPriority(target, nice): PriorityOutcome {
      const now = identity(target);
      if (now !== 'same') return now;
      try {
        setPriority(target.pid, nice);
        return 'set';
      } catch {
        return identity(target) === 'gone' ? 'gone' : 'failed';
      }
    },
    cpuWeight: () => undefined,
    setCpuWeight: () => false,
  };
}

function checkIdentity(api: Win32Api, t: Target): 'same' | 'mismatch' | 'gone' | 'failed' {
  if (refusedTarget(t.pid)) return 'failed';
  const handle = api.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, false, t.pid);
  if (!handle) return openFailure(api.GetLastError()) === 'gone' ? 'gone' : 'failed';
  try {
    return verifyIdentity({ exited: exited(api, handle), creation: creationTime(api, handle) }, t.startTime);
  } finally {
    api.CloseHandle(handle);
  }
}
