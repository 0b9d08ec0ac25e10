import { formatBytes } from '../text/bytes.js';
import { notReady, ready, unknown, type Check } from './verdict.js';

/** A registry value as read: DWORDs and QWORDs as numbers, strings expanded, multi-strings as lists. */
export type RegValue = number | string | readonly string[];

/** Registry values doctor reads on Windows, by value name, for the keys below; a missing name is an absent value. */
export interface WindowsCaptureFacts {
  /** HKLM\SYSTEM\CurrentControlSet\Control\CrashControl; undefined when the key is unreadable. */
  readonly crashControl?: Readonly<Record<string, RegValue>>;
  /** ...\Services\i8042prt\Parameters and ...\Services\kbdhid\Parameters: CrashOnCtrlScroll. */
  readonly i8042prt?: Readonly<Record<string, RegValue>>;
  readonly kbdhid?: Readonly<Record<string, RegValue>>;
  /** ...\Control\Session Manager\Memory Management: PagingFiles. */
  readonly memoryManagement?: Readonly<Record<string, RegValue>>;
  /** HKLM\SOFTWARE\Microsoft\Windows\Windows Error Reporting\LocalDumps; undefined when the key does not exist. */
  readonly localDumps?: Readonly<Record<string, RegValue>>;
  /** The boot volume's drive ("C:"), from SystemRoot. */
  readonly systemDrive: string;
  readonly physicalBytes?: number;
  /** Paged plus nonpaged kernel memory now (GetPerformanceInfo's KernelTotal): what a kernel dump holds at least. */
  readonly kernelBytes?: number;
  /** Free bytes at the kernel dump file's directory, and that directory (DumpFile expanded). */
  readonly dumpFileDir: string;
  readonly dumpFileDirFree?: number;
  /** The WER dump folder (DumpFolder expanded, or WER's default), and what the agent found there. */
  readonly werFolder: string;
  readonly werFolderExists?: boolean;
  readonly werFolderWritable?: boolean;
  readonly werFolderFree?: number;
  /** Whether dbghelp.dll's MiniDumpWriteDump could be bound. */
  readonly miniDumpWriteDump: boolean;
  /** SeDebugPrivilege in the agent's token. */
  readonly debugPrivilege?: 'enabled' | 'disabled' | 'absent';
  readonly evidenceDir: string;
  readonly evidenceFree?: number;
  readonly maxProcessBytes: number;
  readonly minFreeBytes: number;
}

const MB = 2 ** 20;
/** Extra room a memory dump needs past the memory it holds: its header and the pages it maps (the field notes' +50 MB). */
const DUMP_OVERHEAD = 50 * MB;
const CRASH_CONTROL = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\CrashControl';
const MEMORY_MANAGEMENT = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management';
const LOCAL_DUMPS = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps';
/** MiniDumpWithFullMemory in a CustomDumpFlags mask. */
const MINIDUMP_WITH_FULL_MEMORY = 0x2;

const regAdd = (key: string, name: string, type: 'REG_DWORD' | 'REG_EXPAND_SZ' | 'REG_MULTI_SZ', data: string | number): string =>
  `reg add "${key}" /v ${name} /t ${type} /d ${typeof data === 'number' ? data : `"${data}"`} /f`;

const num = (v: RegValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: RegValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

type DumpType = 'none' | 'complete' | 'active' | 'kernel' | 'small' | 'automatic';

/** CrashDumpEnabled (with FilterPages for an active dump) as a dump type. */
export function dumpTypeOf(crashControl: Readonly<Record<string, RegValue>>): DumpType | undefined {
  const enabled = num(crashControl.CrashDumpEnabled);
  if (enabled === 0) return 'none';
  if (enabled === 1) return num(crashControl.FilterPages) === 1 ? 'active' : 'complete';
  if (enabled === 2) return 'kernel';
  if (enabled === 3) return 'small';
  if (enabled === 7) return 'automatic';
  return undefined;
}

const DUMP_NAMES: Record<DumpType, string> = {
  none: 'no memory dump', complete: 'a complete memory dump', active: 'an active memory dump', kernel: 'a kernel memory dump', small: 'a small memory dump (256 KB)', automatic: 'an automatic memory dump (a kernel dump)',
};

/** Bytes the configured kernel dump needs in the pagefile and at its destination. */
export function dumpNeedBytes(type: DumpType, physical: number | undefined, kernel: number | undefined): number | undefined {
  if (type === 'complete') return physical === undefined ? undefined : physical + DUMP_OVERHEAD;
  if (type === 'small') return 256 * 1024 + DUMP_OVERHEAD;
  if (type === 'none') return 0;
  // Kernel, automatic and active dumps hold at least the kernel's memory; how much more cannot be known ahead.
  return kernel === undefined ? undefined : kernel + DUMP_OVERHEAD;
}

export function judgeWindowsKernelDump(f: WindowsCaptureFacts): Check {
  const kind = 'kernel_dump';
  if (!f.crashControl) return unknown(kind, true, `${CRASH_CONTROL} is unreadable`);
  const type = dumpTypeOf(f.crashControl);
  const fix = `${regAdd(CRASH_CONTROL, 'CrashDumpEnabled', 'REG_DWORD', 2)} (kernel dump; 1 for complete) and reboot`;
  if (type === undefined) {
    const raw = f.crashControl.CrashDumpEnabled;
    return raw === undefined ? notReady(kind, true, 'CrashDumpEnabled is not set: Windows writes no memory dump', fix) : unknown(kind, true, `CrashDumpEnabled is ${JSON.stringify(raw)}, not a known dump type`, fix);
  }
  if (type === 'none') return notReady(kind, true, 'CrashDumpEnabled=0: a bug check writes no memory dump', fix);
  if (type === 'small') return notReady(kind, true, 'CrashDumpEnabled=3: a small memory dump has no pool or process memory, so !vm and !poolused cannot explain a leak', fix);
  const dedicated = str(f.crashControl.DedicatedDumpFile);
  return ready(kind, true, `CrashDumpEnabled=${num(f.crashControl.CrashDumpEnabled)}: a bug check writes ${DUMP_NAMES[type]}${dedicated ? ` through the dedicated dump file ${dedicated}` : ''}`);
}

interface PagingFile {
  readonly path: string;
  /** MB; 0 with maximum 0 (or a "?:" path) is system-managed. */
  readonly initialMb: number;
  readonly maximumMb: number;
  readonly systemManaged: boolean;
}

/** PagingFiles entries: "C:\pagefile.sys 2048 4096", "C:\pagefile.sys 0 0" (system-managed) or "?:\pagefile.sys" (automatic). */
export function parsePagingFiles(entries: readonly string[]): PagingFile[] {
  const out: PagingFile[] = [];
  for (const entry of entries) {
    const m = /^\s*(\S.*?)(?:\s+(\d+)\s+(\d+))?\s*$/.exec(entry);
    if (!m || m[1] === '') continue;
    const initialMb = Number(m[2] ?? 0);
    const maximumMb = Number(m[3] ?? 0);
    out.push({ path: m[1]!, initialMb, maximumMb, systemManaged: m[1]!.startsWith('?:') || (initialMb === 0 && maximumMb === 0) });
  }
  return out;
}

export function judgePagefile(f: WindowsCaptureFacts): Check {
  const kind = 'pagefile';
  if (!f.crashControl) return unknown(kind, true, `${CRASH_CONTROL} is unreadable`);
  const type = dumpTypeOf(f.crashControl);
  if (type === undefined || type === 'none') return unknown(kind, true, 'no memory dump is configured (see kernel_dump)');
  const dedicated = str(f.crashControl.DedicatedDumpFile);
  if (dedicated) {
    const size = num(f.crashControl.DumpFileSize);
    return ready(kind, true, `dumps go through the dedicated dump file ${dedicated} (${size ? `${size} MB` : 'sized by Windows'}), not the pagefile`);
  }
  const need = dumpNeedBytes(type, f.physicalBytes, f.kernelBytes);
  if (need === undefined) return unknown(kind, true, 'the memory size could not be read, so the dump size is not known');
  const needMb = Math.ceil(need / MB);
  const fix = `${regAdd(MEMORY_MANAGEMENT, 'PagingFiles', 'REG_MULTI_SZ', `${f.systemDrive}\\pagefile.sys ${needMb} ${needMb}`)} and reboot (or set DedicatedDumpFile under CrashControl)`;
  const raw = f.memoryManagement?.PagingFiles;
  if (raw === undefined && !f.memoryManagement) return unknown(kind, true, `${MEMORY_MANAGEMENT} is unreadable`);
  const files = parsePagingFiles(Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []);
  const boot = files.find((p) => p.path.startsWith('?:') || p.path.toUpperCase().startsWith(f.systemDrive.toUpperCase()));
  if (!boot) return notReady(kind, true, `no pagefile on the boot volume ${f.systemDrive}: ${DUMP_NAMES[type]} is written through it and needs ${formatBytes(need)}`, fix);
  if (boot.systemManaged) {
    if (type === 'automatic' || type === 'kernel' || type === 'active') {
      return ready(kind, true, `the system-managed pagefile on ${f.systemDrive} grows to hold ${DUMP_NAMES[type]} (at least ${formatBytes(need)} now)`);
    }
    return unknown(kind, true, `the pagefile on ${f.systemDrive} is system-managed: whether it holds ${DUMP_NAMES[type]} (${formatBytes(need)}) depends on its size at the crash`, fix);
  }
  const size = boot.initialMb * MB;
  if (size >= need) return ready(kind, true, `the pagefile ${boot.path} starts at ${boot.initialMb} MB: room for ${DUMP_NAMES[type]} (${formatBytes(need)})`);
  return notReady(kind, true, `the pagefile ${boot.path} starts at ${boot.initialMb} MB, less than the ${formatBytes(need)} ${DUMP_NAMES[type]} needs`, fix);
}

export function judgeKernelDumpSpace(f: WindowsCaptureFacts): Check {
  const kind = 'kernel_dump_space';
  if (!f.crashControl) return unknown(kind, true, `${CRASH_CONTROL} is unreadable`);
  const type = dumpTypeOf(f.crashControl);
  if (type === undefined || type === 'none') return unknown(kind, true, 'no memory dump is configured (see kernel_dump)');
  const need = dumpNeedBytes(type, f.physicalBytes, f.kernelBytes);
  if (need === undefined) return unknown(kind, true, 'the memory size could not be read, so the dump size is not known');
  if (f.dumpFileDirFree === undefined) return unknown(kind, true, `free space at ${f.dumpFileDir} could not be read`);
  if (f.dumpFileDirFree >= need) return ready(kind, true, `${formatBytes(f.dumpFileDirFree)} free at ${f.dumpFileDir}: room for ${DUMP_NAMES[type]} (${formatBytes(need)})`);
  return notReady(kind, true, `${formatBytes(f.dumpFileDirFree)} free at ${f.dumpFileDir}, less than the ${formatBytes(need)} ${DUMP_NAMES[type]} needs`, `free ${formatBytes(need - f.dumpFileDirFree)} there, or ${regAdd(CRASH_CONTROL, 'DumpFile', 'REG_EXPAND_SZ', 'D:\\MEMORY.DMP')} to a larger volume`);
}

export function judgeWindowsManualCrash(f: WindowsCaptureFacts): Check {
  const kind = 'manual_crash';
  const key = (service: string) => `HKLM\\SYSTEM\\CurrentControlSet\\Services\\${service}\\Parameters`;
  const ps2 = num(f.i8042prt?.CrashOnCtrlScroll) === 1;
  const usb = num(f.kbdhid?.CrashOnCtrlScroll) === 1;
  const fixFor = (services: string[]) => `${services.map((s) => regAdd(key(s), 'CrashOnCtrlScroll', 'REG_DWORD', 1)).join(' && ')} and reboot`;
  if (ps2 && usb) return ready(kind, true, 'CrashOnCtrlScroll=1 for PS/2 (i8042prt) and USB (kbdhid) keyboards: right Ctrl + Scroll Lock twice crashes a hung host into a dump');
  if (ps2 || usb) {
    return ready(kind, true, `CrashOnCtrlScroll=1 for ${ps2 ? 'PS/2 (i8042prt)' : 'USB (kbdhid)'} keyboards only; a ${ps2 ? 'USB' : 'PS/2'} keyboard cannot crash the host (${fixFor([ps2 ? 'kbdhid' : 'i8042prt'])} covers it)`);
  }
  return notReady(kind, true, 'CrashOnCtrlScroll is not set for PS/2 (i8042prt) or USB (kbdhid) keyboards: a hung host cannot be crashed into a dump from its keyboard', fixFor(['i8042prt', 'kbdhid']));
}

export function judgeNmiCrashDump(f: WindowsCaptureFacts): Check {
  const kind = 'nmi_crash_dump';
  if (!f.crashControl) return unknown(kind, false, `${CRASH_CONTROL} is unreadable`);
  if (num(f.crashControl.NMICrashDump) === 1) return ready(kind, false, 'NMICrashDump=1: an NMI from the hypervisor or BMC crashes the host into a dump');
  return notReady(kind, false, 'NMICrashDump is not 1: an NMI (a virtual machine\'s "send NMI", a BMC button) does not crash the host into a dump', `${regAdd(CRASH_CONTROL, 'NMICrashDump', 'REG_DWORD', 1)} and reboot`);
}

export function judgeLocalDumps(f: WindowsCaptureFacts): Check {
  const kind = 'process_crash_dump';
  const setFull = regAdd(LOCAL_DUMPS, 'DumpType', 'REG_DWORD', 2);
  if (!f.localDumps) {
    return notReady(kind, true, 'Windows Error Reporting\'s LocalDumps key does not exist: a crashing process leaves no dump on this host', `${setFull} && ${regAdd(LOCAL_DUMPS, 'DumpFolder', 'REG_EXPAND_SZ', '%ProgramData%\\CrashDumps')}`);
  }
  const type = num(f.localDumps.DumpType) ?? 1;
  const count = num(f.localDumps.DumpCount) ?? 10;
  const custom = num(f.localDumps.CustomDumpFlags) ?? 0;
  const full = type === 2 || (type === 0 && (custom & MINIDUMP_WITH_FULL_MEMORY) !== 0);
  const where = `${f.werFolder}, ${count} kept`;
  if (!full) {
    const what = type === 1 ? 'DumpType=1 (the default): a minidump has stacks but no heap, so it cannot show what leaked' : `DumpType=${type}${type === 0 ? ` with CustomDumpFlags=0x${custom.toString(16)}` : ''} has no full memory`;
    return notReady(kind, true, `crash dumps go to ${where}, but ${what}`, setFull);
  }
  if (count < 1) return notReady(kind, true, `DumpCount=${count}: no dump is kept`, regAdd(LOCAL_DUMPS, 'DumpCount', 'REG_DWORD', 10));
  if (f.werFolderExists === false) return notReady(kind, true, `crash dumps go to ${f.werFolder}, which does not exist`, `mkdir "${f.werFolder}"`);
  if (f.werFolderWritable === false) return notReady(kind, true, `crash dumps go to ${f.werFolder}, which the agent's account cannot write to`, `icacls "${f.werFolder}" /grant "NT AUTHORITY\\SYSTEM:(OI)(CI)F"`);
  return ready(kind, true, `a crashing process leaves a full dump in ${where}`);
}

export function judgeLocalDumpsSpace(f: WindowsCaptureFacts): Check {
  const kind = 'process_crash_dump_space';
  if (!f.localDumps) return unknown(kind, true, 'no LocalDumps folder is configured (see process_crash_dump)');
  if (f.werFolderFree === undefined) return unknown(kind, true, `free space at ${f.werFolder} could not be read`);
  return space(kind, f.werFolder, f.werFolderFree, f.maxProcessBytes, f.minFreeBytes);
}

function space(kind: 'process_crash_dump_space' | 'evidence_space', dir: string, free: number, need: number, keep: number): Check {
  const text = `${formatBytes(free)} free at ${dir}`;
  if (free - need >= keep) return ready(kind, true, `${text}: room for the dump of a ${formatBytes(need)} process with ${formatBytes(keep)} to spare`);
  return notReady(kind, true, `${text}: the dump of a ${formatBytes(need)} process would leave less than ${formatBytes(keep)}`, `free at least ${formatBytes(need + keep - free)} on the volume holding ${dir}, or move it to a larger one`);
}

export function judgeWindowsProcessDump(f: WindowsCaptureFacts): Check {
  const kind = 'process_dump';
  if (!f.miniDumpWriteDump) return notReady(kind, true, 'dbghelp.dll\'s MiniDumpWriteDump could not be loaded', 'repair dbghelp.dll in %SystemRoot%\\System32 (sfc /scannow)');
  const fix = 'run the agent as its service (LocalSystem holds SeDebugPrivilege enabled), or grant its account "Debug programs" (SeDebugPrivilege) in secpol.msc > User Rights Assignment';
  if (f.debugPrivilege === undefined) return unknown(kind, true, 'the agent\'s token privileges could not be read');
  if (f.debugPrivilege === 'enabled') return ready(kind, true, 'MiniDumpWriteDump is available and the agent holds SeDebugPrivilege enabled: it can dump any process');
  // Held but disabled (an elevated administrator's token): the agent enables it before a dump, as a debugger does.
  if (f.debugPrivilege === 'disabled') return ready(kind, true, 'MiniDumpWriteDump is available and the agent holds SeDebugPrivilege (disabled until it enables it for a dump): it can dump any process');
  return notReady(kind, true, 'SeDebugPrivilege is not held: the agent can dump only processes of its own account', fix);
}

/** Every Windows check, required ones first. */
export function judgeWindows(f: WindowsCaptureFacts): Check[] {
  return [
    judgeLocalDumps(f),
    judgeLocalDumpsSpace(f),
    judgeWindowsKernelDump(f),
    judgePagefile(f),
    judgeKernelDumpSpace(f),
    judgeWindowsManualCrash(f),
    judgeWindowsProcessDump(f),
    f.evidenceFree === undefined ? unknown('evidence_space', true, `free space at ${f.evidenceDir} could not be read`) : space('evidence_space', f.evidenceDir, f.evidenceFree, f.maxProcessBytes, f.minFreeBytes),
    judgeNmiCrashDump(f),
  ];
}
