/**
 * Dumps a running process with dbghelp's MiniDumpWriteDump on a handle held for the whole dump:
 * opened once, checked to be the process decided on (its creation time), dumped through that same
 * handle, so nothing can take its place. The process keeps running; its threads are suspended while
 * the dump is written. Windows only.
 */
import { rmSync } from 'node:fs';
import type { DumpResult, DumpSize, DumpTarget, ProcessDumper } from '../../capture/dumper.js';
import { enableDebugPrivilege } from './capture-facts.js';
import { loadDbgHelp, loadWin32, type Pointer } from './ffi.js';
import { openFailure } from './identity.js';
import { creationTime, exited, refusedTarget, verifyIdentity, SYNCHRONIZE } from './terminate.js';

const PROCESS_QUERY_INFORMATION = 0x0400;
const PROCESS_VM_READ = 0x0010;
const GENERIC_WRITE = 0x4000_0000;
const CREATE_NEW = 1;
const FILE_ATTRIBUTE_NORMAL = 0x80;
const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;

/** MINIDUMP_TYPE flags. */
export const MINIDUMP = {
  Normal: 0x0,
  WithFullMemory: 0x2,
  WithHandleData: 0x4,
  WithUnloadedModules: 0x20,
  WithFullMemoryInfo: 0x800,
  WithThreadInfo: 0x1000,
  IgnoreInaccessibleMemory: 0x20000,
} as const;

/** The dump type: stacks, modules, handles and thread times always; the whole memory when configured. */
export function miniDumpType(withMemory: boolean): number {
  const base = MINIDUMP.WithHandleData | MINIDUMP.WithUnloadedModules | MINIDUMP.WithThreadInfo;
  return withMemory ? base | MINIDUMP.WithFullMemory | MINIDUMP.WithFullMemoryInfo | MINIDUMP.IgnoreInaccessibleMemory : base;
}

/** A dump without memory holds stacks, modules and handles: a few MB at most. */
const SMALL_DUMP_BYTES = 16 * 2 ** 20;

export function createMiniDumper(withMemory: boolean): ProcessDumper {
  return {
    extension: 'dmp',
    async unavailable() {
      try {
        await loadDbgHelp();
        return undefined;
      } catch (err) {
        return `dbghelp.dll's MiniDumpWriteDump cannot be loaded: ${(err as Error).message}`;
      }
    },
    size(_target, known): DumpSize | undefined {
      // The process table already read private bytes; a full-memory dump holds about that plus its images.
      if (!known) return undefined;
      return { processBytes: known.privateBytes, dumpBytes: withMemory ? known.privateBytes + SMALL_DUMP_BYTES : SMALL_DUMP_BYTES };
    },
    async dump(target: DumpTarget, file: string, timeoutMs: number): Promise<DumpResult> {
      if (refusedTarget(target.pid)) return { ok: false, outcome: 'failed', reason: `pid ${target.pid} is never dumped (System, Idle or the agent itself)` };
      const api = await loadWin32();
      let dbghelp;
      try {
        dbghelp = await loadDbgHelp();
      } catch (err) {
        return { ok: false, outcome: 'not_possible', reason: (err as Error).message };
      }
      // Another account's process opens only with SeDebugPrivilege enabled; without it, the agent's own still do.
      enableDebugPrivilege(api);
      const process = api.OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | SYNCHRONIZE, false, target.pid);
      if (!process) {
        const code = api.GetLastError();
        return openFailure(code) === 'gone'
          ? { ok: false, outcome: 'gone', reason: `pid ${target.pid} is gone` }
          : { ok: false, outcome: 'failed', reason: `OpenProcess refused (error ${code}): dumping another account's process needs SeDebugPrivilege` };
      }
      try {
        if (target.startTime !== undefined) {
          const identity = verifyIdentity({ exited: exited(api, process), creation: creationTime(api, process) }, target.startTime);
          if (identity !== 'same') return { ok: false, outcome: identity === 'mismatch' ? 'mismatch' : identity === 'gone' ? 'gone' : 'failed', reason: `pid ${target.pid}: ${identity}` };
        }
        const handle = api.CreateFileW(file, GENERIC_WRITE, 0, null, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, null);
        if (!handle || BigInt(api.koffi.address(handle)) === INVALID_HANDLE_VALUE) return { ok: false, outcome: 'failed', reason: `cannot create ${file} (error ${api.GetLastError()})` };
        let ok: boolean | 'timeout' = false;
        // Asynchronous: the dump runs on koffi's worker thread and the agent's loop keeps sampling. A call
        // that never returns (Wine's dbghelp can stop after the module list) is given up on after the
        // timeout; its handles stay with the stuck call, which cannot be cancelled.
        let timer: NodeJS.Timeout | undefined;
        ok = await Promise.race([
          new Promise<boolean>((resolve, reject) => {
            (dbghelp.MiniDumpWriteDump as unknown as { async: (...args: unknown[]) => void }).async(
              process, target.pid, handle, miniDumpType(withMemory), null, null, null,
              (err: Error | null, result: boolean) => (err ? reject(err) : resolve(result)),
            );
          }),
          new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), timeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
        if (ok === 'timeout') {
          abandoned.add(process);
          const seconds = Math.round(timeoutMs / 1000);
          try {
            rmSync(file, { force: true });
            return { ok: false, outcome: 'failed', reason: `MiniDumpWriteDump did not return within ${seconds} s; the partial dump was removed` };
          } catch {
            // Windows keeps a file open by the stuck call: it cannot go until the call ends.
            return { ok: false, outcome: 'failed', reason: `MiniDumpWriteDump did not return within ${seconds} s; the partial dump ${file} is still held open by the stuck call` };
          }
        }
        api.CloseHandle(handle as Pointer);
        if (!ok) {
          rmSync(file, { force: true });
          return { ok: false, outcome: exited(api, process) ? 'gone' : 'failed', reason: 'MiniDumpWriteDump failed' };
        }
        return { ok: true, file };
      } finally {
        if (!abandoned.has(process)) api.CloseHandle(process);
      }
    },
  };
}

/** Process handles a stuck MiniDumpWriteDump still uses: never closed under it (a few at most, one per timeout). */
const abandoned = new Set<unknown>();
