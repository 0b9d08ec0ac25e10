import { describe, expect, it } from 'vitest';
import { allRequiredReady, type Check } from '../../agent/capture/verdict.js';
import { dumpNeedBytes, judgePagefile, judgeWindows, parsePagingFiles, type WindowsCaptureFacts } from '../../agent/capture/windows-checks.js';
import { decodePerformanceInfo, decodeTokenPrivileges, expandEnvironment } from '../../agent/platform/windows/capture-facts.js';
import { decodeRegValue, REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_QWORD, REG_SZ } from '../../agent/platform/windows/registry.js';

const GiB = 2 ** 30;
const MB = 2 ** 20;
const verdicts = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.kind, c.verdict]));
const byKind = (checks: Check[], kind: string) => checks.find((c) => c.kind === kind)!;

/** A Windows Server 2022 install as it comes: automatic memory dump, a system-managed pagefile, no WER LocalDumps, no keyboard crash. */
const fresh: WindowsCaptureFacts = {
  crashControl: { CrashDumpEnabled: 7, DumpFile: 'C:\\Windows\\MEMORY.DMP', AutoReboot: 1, Overwrite: 1, LogEvent: 1 } as Record<string, number | string>,
  i8042prt: {},
  kbdhid: {},
  memoryManagement: { PagingFiles: ['?:\\pagefile.sys'] },
  localDumps: undefined,
  systemDrive: 'C:',
  physicalBytes: 16 * GiB,
  kernelBytes: 900 * MB,
  dumpFileDir: 'C:\\Windows',
  dumpFileDirFree: 40 * GiB,
  werFolder: 'C:\\Windows\\system32\\config\\systemprofile\\AppData\\Local\\CrashDumps',
  miniDumpWriteDump: true,
  debugPrivilege: 'enabled',
  evidenceDir: 'C:\\ProgramData\\contention-agent\\evidence',
  evidenceFree: 40 * GiB,
  maxProcessBytes: 4 * GiB,
  minFreeBytes: 2 * GiB,
};

/** The same host prepared for an investigation: complete dump, a pagefile of RAM + 50 MB, both keyboards, NMI, full WER dumps. */
const prepared: WindowsCaptureFacts = {
  ...fresh,
  crashControl: { CrashDumpEnabled: 1, DumpFile: 'D:\\MEMORY.DMP', NMICrashDump: 1 },
  i8042prt: { CrashOnCtrlScroll: 1 },
  kbdhid: { CrashOnCtrlScroll: 1 },
  memoryManagement: { PagingFiles: [`C:\\pagefile.sys ${16 * 1024 + 50} ${16 * 1024 + 50}`] },
  localDumps: { DumpFolder: 'D:\\CrashDumps', DumpType: 2, DumpCount: 5 },
  dumpFileDir: 'D:\\',
  dumpFileDirFree: 200 * GiB,
  werFolder: 'D:\\CrashDumps',
  werFolderExists: true,
  werFolderWritable: true,
  werFolderFree: 200 * GiB,
};

describe('doctor on Windows registry values', () => {
  it('a host prepared for an investigation is ready on every check', () => {
    const checks = judgeWindows(prepared);
    expect(verdicts(checks)).toEqual({
      process_crash_dump: 'ready', process_crash_dump_space: 'ready', kernel_dump: 'ready', pagefile: 'ready', kernel_dump_space: 'ready',
      manual_crash: 'ready', process_dump: 'ready', evidence_space: 'ready', nmi_crash_dump: 'ready',
    });
    expect(allRequiredReady(checks)).toBe(true);
    expect(byKind(checks, 'pagefile').reason).toContain('complete memory dump');
  });

  it('a fresh install: the automatic dump is fine, but no process leaves a dump and no keyboard can crash the host', () => {
    const checks = judgeWindows(fresh);
    expect(verdicts(checks)).toEqual({
      process_crash_dump: 'not_ready', process_crash_dump_space: 'unknown', kernel_dump: 'ready', pagefile: 'ready', kernel_dump_space: 'ready',
      manual_crash: 'not_ready', process_dump: 'ready', evidence_space: 'ready', nmi_crash_dump: 'not_ready',
    });
    expect(byKind(checks, 'process_crash_dump').fix).toBe(
      'reg add "HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps" /v DumpType /t REG_DWORD /d 2 /f && reg add "HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps" /v DumpFolder /t REG_EXPAND_SZ /d "%ProgramData%\\CrashDumps" /f',
    );
    expect(byKind(checks, 'manual_crash').fix).toContain('Services\\i8042prt\\Parameters" /v CrashOnCtrlScroll /t REG_DWORD /d 1 /f && reg add "HKLM\\SYSTEM\\CurrentControlSet\\Services\\kbdhid\\Parameters"');
    expect(byKind(checks, 'nmi_crash_dump')).toMatchObject({ required: false, fix: expect.stringContaining('/v NMICrashDump /t REG_DWORD /d 1') });
  });

  it('dump types: none and small are not ready, complete needs RAM + 50 MB of pagefile and of free space', () => {
    expect(byKind(judgeWindows({ ...fresh, crashControl: { CrashDumpEnabled: 0 } }), 'kernel_dump')).toMatchObject({ verdict: 'not_ready', fix: expect.stringContaining('/v CrashDumpEnabled /t REG_DWORD /d 2') });
    expect(byKind(judgeWindows({ ...fresh, crashControl: { CrashDumpEnabled: 3 } }), 'kernel_dump').reason).toContain('!poolused');
    expect(dumpNeedBytes('complete', 16 * GiB, undefined)).toBe(16 * GiB + 50 * MB);
    const small = { ...prepared, memoryManagement: { PagingFiles: ['C:\\pagefile.sys 4096 8192'] } };
    expect(judgePagefile(small)).toMatchObject({ verdict: 'not_ready', fix: expect.stringContaining(`/v PagingFiles /t REG_MULTI_SZ /d "C:\\pagefile.sys ${16 * 1024 + 50} ${16 * 1024 + 50}"`) });
    expect(judgePagefile({ ...prepared, memoryManagement: { PagingFiles: ['D:\\pagefile.sys 32768 32768'] } }).reason).toContain('no pagefile on the boot volume C:');
    expect(judgePagefile({ ...prepared, memoryManagement: { PagingFiles: ['C:\\pagefile.sys 0 0'] } }).verdict).toBe('unknown');
    expect(judgePagefile({ ...small, crashControl: { CrashDumpEnabled: 1, DedicatedDumpFile: 'E:\\dedicated.sys', DumpFileSize: 0 } }).verdict).toBe('ready');
    expect(byKind(judgeWindows({ ...prepared, dumpFileDirFree: 10 * GiB }), 'kernel_dump_space')).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('16.0 GiB') });
  });

  it('WER: a minidump, a missing or unwritable folder are not ready; a custom type with full memory is', () => {
    const wer = (localDumps: Record<string, number | string>, extra: Partial<WindowsCaptureFacts> = {}) => byKind(judgeWindows({ ...prepared, localDumps, ...extra }), 'process_crash_dump');
    expect(wer({})).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('DumpType=1 (the default)') });
    expect(wer({ DumpType: 0, CustomDumpFlags: 0x1806 }).verdict).toBe('ready');
    expect(wer({ DumpType: 0, CustomDumpFlags: 0x4 }).verdict).toBe('not_ready');
    expect(wer({ DumpType: 2 }, { werFolderExists: false })).toMatchObject({ verdict: 'not_ready', fix: 'mkdir "D:\\CrashDumps"' });
    expect(wer({ DumpType: 2 }, { werFolderWritable: false }).fix).toContain('icacls');
  });

  it('only one keyboard covered is still a way to crash the host, and says which one is not', () => {
    const c = byKind(judgeWindows({ ...prepared, kbdhid: {} }), 'manual_crash');
    expect(c).toMatchObject({ verdict: 'ready', reason: expect.stringContaining('PS/2 (i8042prt) keyboards only') });
  });

  it('the agent\'s privileges: without SeDebugPrivilege it dumps only its own account\'s processes; held but disabled, it enables it', () => {
    expect(byKind(judgeWindows({ ...prepared, debugPrivilege: 'disabled' }), 'process_dump')).toMatchObject({ verdict: 'ready', reason: expect.stringContaining('until it enables it for a dump') });
    expect(byKind(judgeWindows({ ...prepared, debugPrivilege: 'absent' }), 'process_dump').fix).toContain('SeDebugPrivilege');
    expect(byKind(judgeWindows({ ...prepared, miniDumpWriteDump: false }), 'process_dump').verdict).toBe('not_ready');
  });

  it('parses PagingFiles as Windows writes them', () => {
    expect(parsePagingFiles(['C:\\pagefile.sys 2048 4096', '?:\\pagefile.sys', 'D:\\pagefile.sys 0 0', ''])).toEqual([
      { path: 'C:\\pagefile.sys', initialMb: 2048, maximumMb: 4096, systemManaged: false },
      { path: '?:\\pagefile.sys', initialMb: 0, maximumMb: 0, systemManaged: true },
      { path: 'D:\\pagefile.sys', initialMb: 0, maximumMb: 0, systemManaged: true },
    ]);
  });
});

describe('Windows capture decoders', () => {
  const utf16 = (s: string) => new Uint8Array(Buffer.from(s, 'utf16le'));

  it('decodes registry values by type: DWORD, QWORD, strings with their terminator, multi-strings', () => {
    const dword = Buffer.alloc(4);
    dword.writeUInt32LE(7);
    expect(decodeRegValue(REG_DWORD, dword)).toBe(7);
    const qword = Buffer.alloc(8);
    qword.writeBigUInt64LE(17_179_869_184n);
    expect(decodeRegValue(REG_QWORD, qword)).toBe(17_179_869_184);
    expect(decodeRegValue(REG_SZ, utf16('C:\\Windows\\MEMORY.DMP\0'))).toBe('C:\\Windows\\MEMORY.DMP');
    expect(decodeRegValue(REG_EXPAND_SZ, utf16('%SystemRoot%\\MEMORY.DMP\0'))).toBe('%SystemRoot%\\MEMORY.DMP');
    expect(decodeRegValue(REG_MULTI_SZ, utf16('C:\\pagefile.sys 0 0\0D:\\pagefile.sys 1024 2048\0\0'))).toEqual(['C:\\pagefile.sys 0 0', 'D:\\pagefile.sys 1024 2048']);
    expect(decodeRegValue(3, new Uint8Array([1, 2]))).toBeUndefined();
  });

  it('decodes PERFORMANCE_INFORMATION (64-bit) into physical and kernel bytes', () => {
    const b = Buffer.alloc(104);
    b.writeUInt32LE(104, 0);
    const set = (i: number, v: number) => b.writeBigUInt64LE(BigInt(v), 8 + i * 8);
    set(3, 4_194_304); // PhysicalTotal pages
    set(6, 230_400); // KernelTotal pages
    set(9, 4096); // PageSize
    expect(decodePerformanceInfo(b)).toEqual({ physicalBytes: 16 * GiB, kernelBytes: 900 * MB });
  });

  it('decodes TOKEN_PRIVILEGES entries (LUID low, high, attributes)', () => {
    const b = Buffer.alloc(4 + 2 * 12);
    b.writeUInt32LE(2, 0);
    b.writeUInt32LE(19, 4); // SeShutdownPrivilege
    b.writeUInt32LE(0, 12);
    b.writeUInt32LE(20, 16); // SeDebugPrivilege
    b.writeUInt32LE(3, 24); // enabled by default | enabled
    expect(decodeTokenPrivileges(b)).toEqual([{ low: 19, high: 0, attributes: 0 }, { low: 20, high: 0, attributes: 3 }]);
  });

  it('expands %VARIABLES% case-insensitively and leaves unknown ones', () => {
    expect(expandEnvironment('%SystemRoot%\\MEMORY.DMP', { SYSTEMROOT: 'C:\\Windows' })).toBe('C:\\Windows\\MEMORY.DMP');
    expect(expandEnvironment('%NOPE%\\x', {})).toBe('%NOPE%\\x');
  });
});
