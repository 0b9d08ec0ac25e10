/**
 * Acting on one process safely on Windows: open it once, check through that handle that it is the
 * process the decision was about (its creation time, since pids are reused), and act on the same
 * handle, so nothing can take its place between the check and the act. The decisions are pure and
 * tested anywhere; the calls run only on Windows.
 */
import { filetimeToUnixMs, joinFiletime } from './filetime.js';
import { loadWin32, type FileTime, type Pointer, type Win32Api } from './ffi.js';
import { openFailure } from './identity.js';
import { PROCESS_QUERY_LIMITED_INFORMATION } from './identity-reader.js';

export const PROCESS_TERMINATE = 0x0001;
export const PROCESS_SET_QUOTA = 0x0100;
export const SYNCHRONIZE = 0x0010_0000;
export const WAIT_OBJECT_0 = 0x0;
export const WAIT_TIMEOUT = 0x102;

/** The exit code a stopped process reports, as `taskkill /F` leaves it. */
export const STOP_EXIT_CODE = 1;
/** (SIZE_T)-1 for both bounds: SetProcessWorkingSetSizeEx then empties the working set. */
export const TRIM_SIZE = 0xffff_ffff_ffff_ffffn;
/** How long a stop waits for the process to be gone; TerminateProcess only starts the exit. */
export const STOP_WAIT_MS = 5_000;
const POLL_MS = 25;

export type StopOutcome = 'stopped' | 'mismatch' | 'gone' | 'failed';
export type TrimOutcome = 'trimmed' | 'mismatch' | 'gone' | 'failed';

/** What the held handle says about the process, read before acting. */
export interface HandleFacts {
  /** The handle is signalled: the process has exited (someone else still holds it open). */
  readonly exited: boolean;
  /** GetProcessTimes' creation time, undefined when the call failed. */
  readonly creation: bigint | undefined;
}

/**
 * Whether the opened process is the one decided on. The start time must be equal to the
 * millisecond: the agent's process table and this check convert the same kernel value the same way.
 */
export function verifyIdentity(facts: HandleFacts, expectedStartTimeMs: number): 'same' | 'mismatch' | 'gone' | 'failed' {
  if (facts.exited) return 'gone';
  if (facts.creation === undefined) return 'failed';
  const started = filetimeToUnixMs(facts.creation);
  if (started === undefined) return 'failed';
  return started === expectedStartTimeMs ? 'same' : 'mismatch';
}

/** Targets never acted on, whatever a policy says: Idle, System, and the agent itself. */
export function refusedTarget(pid: number, self = process.pid): boolean {
  return !Number.isInteger(pid) || pid <= 4 || pid === self;
}

/** Stops the process if it is still the one that started at `expectedStartTimeMs`. */
export async function terminateVerified(pid: number, expectedStartTimeMs: number): Promise<StopOutcome> {
  if (refusedTarget(pid)) return 'failed';
  const api = await loadWin32();
  return withVerifiedHandle(api, pid, expectedStartTimeMs, PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, async (handle) => {
    if (!api.TerminateProcess(handle, STOP_EXIT_CODE)) return exited(api, handle) ? 'gone' : 'failed';
    for (let waited = 0; waited < STOP_WAIT_MS; waited += POLL_MS) {
      if (exited(api, handle)) return 'stopped';
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return exited(api, handle) ? 'stopped' : 'failed';
  });
}

/** Empties the working set of the process if it is still the one that started at `expectedStartTimeMs`. */
export async function trimWorkingSet(pid: number, expectedStartTimeMs: number): Promise<TrimOutcome> {
  if (refusedTarget(pid)) return 'failed';
  const api = await loadWin32();
  return withVerifiedHandle(api, pid, expectedStartTimeMs, PROCESS_SET_QUOTA | PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, async (handle) => {
    if (api.SetProcessWorkingSetSizeEx(handle, TRIM_SIZE, TRIM_SIZE, 0)) return 'trimmed';
    return exited(api, handle) ? 'gone' : 'failed';
  });
}

async function withVerifiedHandle<T extends string>(
  api: Win32Api,
  pid: number,
  expectedStartTimeMs: number,
  access: number,
  act: (handle: Pointer) => Promise<T>,
): Promise<T | 'mismatch' | 'gone' | 'failed'> {
  const handle = api.OpenProcess(access, false, pid);
  if (!handle) return openFailure(api.GetLastError()) === 'gone' ? 'gone' : 'failed';
  try {
    const identity = verifyIdentity({ exited: exited(api, handle), creation: creationTime(api, handle) }, expectedStartTimeMs);
    return identity === 'same' ? await act(handle) : identity;
  } finally {
    api.CloseHandle(handle);
  }
}

export function exited(api: Win32Api, handle: Pointer): boolean {
  return api.WaitForSingleObject(handle, 0) === WAIT_OBJECT_0;
}

export function creationTime(api: Win32Api, handle: Pointer): bigint | undefined {
  const blank = (): FileTime => ({ dwLowDateTime: 0, dwHighDateTime: 0 });
  const creation = blank();
  if (!api.GetProcessTimes(handle, creation, blank(), blank(), blank())) return undefined;
  return joinFiletime(creation.dwLowDateTime, creation.dwHighDateTime);
}
