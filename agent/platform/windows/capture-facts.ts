/**
 * What doctor reads on Windows: the crash dump, pagefile, keyboard and WER values in the registry,
 * memory sizes from GetPerformanceInfo, the agent's SeDebugPrivilege, and free space where dumps land.
 * The judgements are in capture/windows-checks.ts; this is the thin edge.
 */
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { dirname, win32 } from 'node:path';
import type { WindowsCaptureFacts } from '../../capture/windows-checks.js';
import { loadDbgHelp, loadWin32, type Out, type Pointer, type Win32Api } from './ffi.js';
import { readRegistryValues } from './registry.js';

const CONTROL = 'SYSTEM\\CurrentControlSet\\Control';
const TOKEN_QUERY = 0x0008;
const TOKEN_ADJUST_PRIVILEGES = 0x0020;
const TOKEN_PRIVILEGES_CLASS = 3;
const SE_PRIVILEGE_ENABLED = 0x2;
const PERFORMANCE_INFORMATION_SIZE = 104;

/** GetPerformanceInfo's PERFORMANCE_INFORMATION (64-bit layout): physical memory and the kernel's, in bytes. */
export function decodePerformanceInfo(buffer: Uint8Array): { physicalBytes: number; kernelBytes: number } {
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const sizeT = (index: number): number => Number(view.readBigUInt64LE(8 + index * 8));
  const page = sizeT(9);
  return { physicalBytes: sizeT(3) * page, kernelBytes: sizeT(6) * page };
}

/** TOKEN_PRIVILEGES: a count, then LUID_AND_ATTRIBUTES entries of 12 bytes (LUID low, LUID high, attributes). */
export function decodeTokenPrivileges(buffer: Uint8Array): Array<{ low: number; high: number; attributes: number }> {
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const count = view.readUInt32LE(0);
  const out: Array<{ low: number; high: number; attributes: number }> = [];
  for (let i = 0; i < count && 4 + (i + 1) * 12 <= view.length; i++) {
    const at = 4 + i * 12;
    out.push({ low: view.readUInt32LE(at), high: view.readInt32LE(at + 4), attributes: view.readUInt32LE(at + 8) });
  }
  return out;
}

/** `%SystemRoot%\MEMORY.DMP` with the agent's environment (names are case-insensitive on Windows). */
export function expandEnvironment(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const lower = new Map(Object.entries(env).map(([k, v]) => [k.toLowerCase(), v]));
  return text.replace(/%([^%]+)%/g, (whole, name: string) => lower.get(name.toLowerCase()) ?? whole);
}

/**
 * Enables SeDebugPrivilege in the agent's token when it holds it (an elevated administrator holds it
 * disabled), as a debugger does before opening another account's process. True when it is enabled now.
 */
export function enableDebugPrivilege(api: Win32Api): boolean {
  const luid = new Uint8Array(8);
  if (!api.LookupPrivilegeValueW(null, 'SeDebugPrivilege', luid)) return false;
  const token: Out<Pointer | null> = [null];
  if (!api.OpenProcessToken(api.GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, token) || !token[0]) return false;
  try {
    const state = Buffer.alloc(16);
    state.writeUInt32LE(1, 0);
    Buffer.from(luid).copy(state, 4);
    state.writeUInt32LE(SE_PRIVILEGE_ENABLED, 12);
    // Succeeds without assigning a privilege the token lacks (ERROR_NOT_ALL_ASSIGNED): read it back.
    api.AdjustTokenPrivileges(token[0], false, state, state.length, null, null);
  } finally {
    api.CloseHandle(token[0]);
  }
  return debugPrivilege(api) === 'enabled';
}

function debugPrivilege(api: Win32Api): WindowsCaptureFacts['debugPrivilege'] {
  const luid = new Uint8Array(8);
  if (!api.LookupPrivilegeValueW(null, 'SeDebugPrivilege', luid)) return undefined;
  const want = Buffer.from(luid);
  const token: Out<Pointer | null> = [null];
  if (!api.OpenProcessToken(api.GetCurrentProcess(), TOKEN_QUERY, token) || !token[0]) return undefined;
  try {
    const buffer = new Uint8Array(4096);
    const returned: Out<number> = [0];
    if (!api.GetTokenInformation(token[0], TOKEN_PRIVILEGES_CLASS, buffer, buffer.length, returned)) return undefined;
    const held = decodeTokenPrivileges(buffer).find((p) => p.low === want.readUInt32LE(0) && p.high === want.readInt32LE(4));
    if (!held) return 'absent';
    return (held.attributes & SE_PRIVILEGE_ENABLED) !== 0 ? 'enabled' : 'disabled';
  } finally {
    api.CloseHandle(token[0]);
  }
}

function free(dir: string): number | undefined {
  let d = dir;
  while (!existsSync(d)) {
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
  try {
    const s = statfsSync(d);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    // Windows ACLs are not what access() reports: create something to be sure.
    rmSync(mkdtempSync(win32.join(dir, 'contention-agent-')), { recursive: true, force: true });
    return true;
  } catch {
    return false;
  }
}

export interface WindowsFactsOptions {
  readonly evidenceDir: string;
  readonly maxProcessBytes: number;
  readonly minFreeBytes: number;
}

export async function readWindowsCaptureFacts(opts: WindowsFactsOptions): Promise<WindowsCaptureFacts> {
  const api = await loadWin32();
  const crashControl = readRegistryValues(api, `${CONTROL}\\CrashControl`, [
    'CrashDumpEnabled', 'FilterPages', 'DumpFile', 'DedicatedDumpFile', 'DumpFileSize', 'NMICrashDump',
  ]);
  const systemRoot = process.env.SystemRoot ?? 'C:\\Windows';
  const systemDrive = /^[a-zA-Z]:/.exec(systemRoot)?.[0] ?? 'C:';
  const dumpFile = expandEnvironment(typeof crashControl?.DumpFile === 'string' ? crashControl.DumpFile : '%SystemRoot%\\MEMORY.DMP');
  const localDumps = readRegistryValues(api, 'SOFTWARE\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps', ['DumpFolder', 'DumpType', 'DumpCount', 'CustomDumpFlags']);
  const werFolder = expandEnvironment(typeof localDumps?.DumpFolder === 'string' ? localDumps.DumpFolder : '%LOCALAPPDATA%\\CrashDumps');
  const perf = new Uint8Array(PERFORMANCE_INFORMATION_SIZE);
  const memory = api.K32GetPerformanceInfo(perf, perf.length) ? decodePerformanceInfo(perf) : undefined;
  const werExists = localDumps ? existsSync(werFolder) : undefined;
  let miniDumpWriteDump = true;
  try {
    await loadDbgHelp();
  } catch {
    miniDumpWriteDump = false;
  }
  return {
    crashControl,
    i8042prt: readRegistryValues(api, 'SYSTEM\\CurrentControlSet\\Services\\i8042prt\\Parameters', ['CrashOnCtrlScroll']),
    kbdhid: readRegistryValues(api, 'SYSTEM\\CurrentControlSet\\Services\\kbdhid\\Parameters', ['CrashOnCtrlScroll']),
    memoryManagement: readRegistryValues(api, `${CONTROL}\\Session Manager\\Memory Management`, ['PagingFiles']),
    localDumps,
    systemDrive,
    physicalBytes: memory?.physicalBytes,
    kernelBytes: memory?.kernelBytes,
    dumpFileDir: win32.dirname(dumpFile),
    dumpFileDirFree: free(win32.dirname(dumpFile)),
    werFolder,
    werFolderExists: werExists,
    werFolderWritable: werExists ? writable(werFolder) : undefined,
    werFolderFree: localDumps ? free(werFolder) : undefined,
    miniDumpWriteDump,
    debugPrivilege: debugPrivilege(api),
    evidenceDir: opts.evidenceDir,
    evidenceFree: free(opts.evidenceDir),
    maxProcessBytes: opts.maxProcessBytes,
    minFreeBytes: opts.minFreeBytes,
  };
}
