import { formatBytes } from '../text/bytes.js';
import { notReady, ready, unknown, type Check } from './verdict.js';

/**
 * What doctor reads on Linux, as text the kernel and config files hold (undefined when the file is
 * absent or unreadable). A fixture tree yields the same record as a live host: the judgements below
 * never touch the file system.
 */
export interface LinuxCaptureFacts {
  /** kernel.core_pattern. */
  readonly corePattern?: string;
  /** The agent's own RLIMIT_CORE as /proc/self/limits shows it: soft and hard. */
  readonly selfCoreLimit?: { readonly soft: number; readonly hard: number };
  /** /proc/1/comm: whether systemd manages services here. */
  readonly pid1?: string;
  /** DefaultLimitCORE= from systemd's system.conf and its drop-ins, the last one set; undefined when unset. */
  readonly defaultLimitCore?: string;
  /** [Coredump] Storage= and ProcessSizeMax= from systemd-coredump's coredump.conf and drop-ins. */
  readonly coredumpStorage?: string;
  readonly coredumpProcessSizeMax?: string;
  /** Free bytes where process crash dumps land (undefined when that place is not known). */
  readonly coreDirFree?: number;
  /** /proc/cmdline. */
  readonly cmdline?: string;
  /** /sys/kernel/kexec_crash_loaded: absent on kernels without crash dump support. */
  readonly kexecCrashLoaded?: string;
  /** kernel.sysrq: absent without CONFIG_MAGIC_SYSRQ. */
  readonly sysrq?: string;
  readonly hungTaskPanic?: string;
  readonly panicOnOops?: string;
  readonly softlockupPanic?: string;
  /** kernel.yama.ptrace_scope: absent without the Yama LSM (classic ptrace rules apply). */
  readonly ptraceScope?: string;
  /** CapEff of the agent's process, from /proc/self/status. */
  readonly capEff?: bigint;
  readonly uid?: number;
  /** Path of gdb's gcore, undefined when gdb is not installed. */
  readonly gcore?: string;
  /** Where the agent writes evidence, and the free bytes there. */
  readonly evidenceDir: string;
  readonly evidenceFree?: number;
  /** The largest process the agent would dump (capture.max_process_bytes) and what it keeps free (capture.min_free_bytes). */
  readonly maxProcessBytes: number;
  readonly minFreeBytes: number;
}

const CAP_SYS_PTRACE = 19n;
const SYSRQ_ENABLE_DUMP = 0x8;
const SYSCTL_FILE = '/etc/sysctl.d/60-contention-capture.conf';

/** Where kernel.core_pattern sends a crashing process's core. */
export type CoreDestination =
  | { readonly kind: 'systemd-coredump'; readonly dir: string }
  | { readonly kind: 'pipe'; readonly program: string; readonly dir?: string }
  | { readonly kind: 'path'; readonly dir: string }
  | { readonly kind: 'relative'; readonly pattern: string };

/** Known handlers and where they store what they are piped. */
const PIPE_HANDLERS: ReadonlyArray<{ match: RegExp; dir: string }> = [
  { match: /\/apport(\s|$)/, dir: '/var/crash' },
  { match: /\/abrt-hook-ccpp(\s|$)/, dir: '/var/spool/abrt' },
];

export function coreDestination(pattern: string): CoreDestination {
  const p = pattern.trim();
  if (p.startsWith('|')) {
    const program = p.slice(1).trim();
    if (/systemd-coredump(\s|$)/.test(program)) return { kind: 'systemd-coredump', dir: '/var/lib/systemd/coredump' };
    const known = PIPE_HANDLERS.find((h) => h.match.test(program));
    return { kind: 'pipe', program: program.split(/\s+/)[0]!, ...(known ? { dir: known.dir } : {}) };
  }
  if (p.startsWith('/')) return { kind: 'path', dir: p.slice(0, p.lastIndexOf('/')) || '/' };
  return { kind: 'relative', pattern: p };
}

/** A systemd or ulimit core limit: "infinity", "unlimited", "0", "1G", "0:infinity" (soft:hard). Returns the soft limit in bytes. */
export function parseCoreLimit(text: string): number | undefined {
  const soft = text.trim().split(':')[0]!.trim().toLowerCase();
  if (soft === 'infinity' || soft === 'unlimited') return Infinity;
  const m = /^(\d+)\s*([kmgtpe]?)b?$/.exec(soft);
  if (!m) return undefined;
  return Number(m[1]) * 1024 ** ' kmgtpe'.indexOf(m[2] || ' ');
}

/** The soft core limit services get here, and where it comes from. */
function serviceCoreLimit(f: LinuxCaptureFacts): { soft: number; source: 'systemd' | 'systemd-default' | 'ulimit' } | undefined {
  if (f.pid1 === 'systemd') {
    // systemd gives PID 1 an infinite RLIMIT_CORE, which services inherit unless DefaultLimitCORE= says otherwise.
    if (f.defaultLimitCore === undefined) return { soft: Infinity, source: 'systemd-default' };
    const soft = parseCoreLimit(f.defaultLimitCore);
    return soft === undefined ? undefined : { soft, source: 'systemd' };
  }
  return f.selfCoreLimit ? { soft: f.selfCoreLimit.soft, source: 'ulimit' } : undefined;
}

const limitFix = (f: LinuxCaptureFacts): string =>
  f.pid1 === 'systemd'
    ? 'set DefaultLimitCORE=infinity under [Manager] in /etc/systemd/system.conf.d/50-core.conf and run `systemctl daemon-reexec` (or LimitCORE=infinity in one service\'s unit)'
    : 'raise the core limit of the services: `ulimit -c unlimited` in their start scripts, or `* soft core unlimited` in /etc/security/limits.d/50-core.conf';

const persist = (key: string, value: string | number): string => `sysctl -w ${key}=${value}; echo '${key} = ${value}' >> ${SYSCTL_FILE}`;

/** Would a crashing process leave a core, and would it be whole? */
export function judgeProcessCrashDump(f: LinuxCaptureFacts): Check {
  const kind = 'process_crash_dump';
  if (f.corePattern === undefined) return unknown(kind, true, 'kernel.core_pattern is unreadable');
  const dest = coreDestination(f.corePattern);
  const patternFix = `${persist('kernel.core_pattern', '/var/crash/core.%e.%p.%t')} (and mkdir -p /var/crash), or install systemd-coredump`;
  if (dest.kind === 'relative') {
    return notReady(kind, true, `kernel.core_pattern is "${f.corePattern}": cores go to each crashing process's working directory, which for services is often / or read-only, and are lost there`, patternFix);
  }
  if (dest.kind === 'systemd-coredump') {
    if (f.coredumpStorage?.toLowerCase() === 'none') {
      return notReady(kind, true, 'systemd-coredump receives cores but coredump.conf has Storage=none: they are logged and discarded', 'set Storage=external under [Coredump] in /etc/systemd/coredump.conf.d/50-keep.conf');
    }
    if (f.coredumpProcessSizeMax !== undefined && parseCoreLimit(f.coredumpProcessSizeMax) === 0) {
      return notReady(kind, true, 'systemd-coredump has ProcessSizeMax=0: no core is kept', 'set ProcessSizeMax= to at least the largest process (e.g. 32G) under [Coredump] in /etc/systemd/coredump.conf.d/50-keep.conf');
    }
  }
  const limit = serviceCoreLimit(f);
  const where = dest.kind === 'path' ? `to ${dest.dir}` : dest.kind === 'systemd-coredump' ? 'to systemd-coredump' : `to ${dest.program}`;
  if (!limit) return unknown(kind, true, `cores go ${where}, but the core size limit services run with could not be read`);
  const from = limit.source === 'ulimit' ? 'the core limit here (ulimit -c)' : limit.source === 'systemd' ? `DefaultLimitCORE=${f.defaultLimitCore}` : 'systemd\'s default core limit';
  if (limit.soft === 0) return notReady(kind, true, `cores go ${where}, but ${from} is 0: no core is written`, limitFix(f));
  if (limit.soft < f.maxProcessBytes) {
    return notReady(kind, true, `cores go ${where}, but ${from} cuts them at ${formatBytes(limit.soft)}: the core of a large process is truncated`, limitFix(f));
  }
  if (dest.kind === 'pipe' && !dest.dir) return ready(kind, true, `cores are piped to ${dest.program} (${from}: ${limit.soft === Infinity ? 'unlimited' : formatBytes(limit.soft)}); where it keeps them is its own setting`);
  return ready(kind, true, `cores go ${where} (${from}: ${limit.soft === Infinity ? 'unlimited' : formatBytes(limit.soft)})`);
}

export function judgeProcessCrashDumpSpace(f: LinuxCaptureFacts): Check {
  const kind = 'process_crash_dump_space';
  if (f.corePattern === undefined) return unknown(kind, true, 'kernel.core_pattern is unreadable');
  const dest = coreDestination(f.corePattern);
  if (dest.kind === 'relative') return unknown(kind, true, 'cores go to each process\'s working directory: no one place to check', 'give kernel.core_pattern an absolute path (see process_crash_dump)');
  if (!('dir' in dest) || dest.dir === undefined) return unknown(kind, true, `cores are piped to ${(dest as { program: string }).program}, which decides where they go`);
  if (f.coreDirFree === undefined) return unknown(kind, true, `free space at ${dest.dir} could not be read`);
  return spaceVerdict(kind, dest.dir, f.coreDirFree, f.maxProcessBytes, f.minFreeBytes, 'the core');
}

function spaceVerdict(kind: 'process_crash_dump_space' | 'evidence_space', dir: string, free: number, need: number, keep: number, what: string): Check {
  const text = `${formatBytes(free)} free at ${dir}`;
  if (free - need >= keep) return ready(kind, true, `${text}: room for ${what} of a ${formatBytes(need)} process with ${formatBytes(keep)} to spare`);
  return notReady(kind, true, `${text}: a ${formatBytes(need)} process's ${what} would leave less than ${formatBytes(keep)}`, `free at least ${formatBytes(need + keep - free)} on the file system holding ${dir}, or move it to a larger one`);
}

export function judgeKernelDump(f: LinuxCaptureFacts): Check {
  const kind = 'kernel_dump';
  if (f.cmdline === undefined) return unknown(kind, true, '/proc/cmdline is unreadable');
  const reserved = /(^|\s)crashkernel=(\S+)/.exec(f.cmdline)?.[2];
  const reserveFix = 'add crashkernel=384M-:256M to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, install kdump-tools (Debian) or kexec-tools (RHEL) and reboot';
  if (f.kexecCrashLoaded === undefined) {
    return notReady(kind, true, `this kernel has no crash dump support (no /sys/kernel/kexec_crash_loaded)${reserved ? '' : ' and no crashkernel= reservation'}`, `boot a kernel built with CONFIG_KEXEC_CORE and CONFIG_CRASH_DUMP; then ${reserveFix}`);
  }
  if (f.kexecCrashLoaded.trim() === '1') return ready(kind, true, `a crash kernel is loaded${reserved ? ` (crashkernel=${reserved})` : ''}: a panic writes a vmcore`);
  if (!reserved) return notReady(kind, true, 'no memory is reserved for a crash kernel (no crashkernel= on the kernel command line)', reserveFix);
  return notReady(kind, true, `crashkernel=${reserved} is reserved but no crash kernel is loaded`, 'systemctl enable --now kdump-tools (Debian, Ubuntu) or kdump (RHEL, SUSE)');
}

export function judgeManualCrash(f: LinuxCaptureFacts): Check {
  const kind = 'manual_crash';
  if (f.sysrq === undefined) return notReady(kind, true, 'this kernel has no magic SysRq (no /proc/sys/kernel/sysrq): a hung host cannot be crashed into a dump from the console', 'boot a kernel built with CONFIG_MAGIC_SYSRQ');
  const value = Number(f.sysrq.trim());
  if (!Number.isInteger(value)) return unknown(kind, true, `kernel.sysrq is "${f.sysrq.trim()}"`);
  if (value === 1 || (value & SYSRQ_ENABLE_DUMP) !== 0) return ready(kind, true, `kernel.sysrq=${value} allows SysRq-c (crash) from the console and serial break`);
  return notReady(kind, true, `kernel.sysrq=${value} does not allow SysRq-c from the console: a hung host cannot be crashed into a dump except by root writing /proc/sysrq-trigger`, persist('kernel.sysrq', 1));
}

function judgePanic(kind: 'hung_task_panic' | 'panic_on_oops' | 'softlockup_panic', value: string | undefined, what: string, config: string): Check {
  const key = `kernel.${kind}`;
  if (value === undefined) return notReady(kind, false, `this kernel has no ${key} (built without ${config})`, `boot a kernel built with ${config}`);
  const n = Number(value.trim());
  if (n >= 1) return ready(kind, false, `${key}=${n}: ${what} panics the kernel, so a crash kernel captures it`);
  return notReady(kind, false, `${key}=0: ${what} is only logged, and the state that caused it is gone by the time anyone looks`, persist(key, 1));
}

export function judgeProcessDump(f: LinuxCaptureFacts): Check {
  const kind = 'process_dump';
  if (!f.gcore) return notReady(kind, true, 'gdb is not installed: the agent takes a running process\'s core with gdb\'s gcore', 'apt-get install gdb (Debian, Ubuntu) or dnf install gdb (RHEL, Fedora)');
  const scope = f.ptraceScope === undefined ? undefined : Number(f.ptraceScope.trim());
  if (scope === 3) return notReady(kind, true, 'kernel.yama.ptrace_scope=3 forbids attaching to any process until reboot', `echo 'kernel.yama.ptrace_scope = 1' > /etc/sysctl.d/10-ptrace.conf and reboot`);
  const capFix = 'give the agent CAP_SYS_PTRACE: AmbientCapabilities=CAP_SYS_PTRACE (and CAP_SYS_PTRACE in CapabilityBoundingSet=) in its unit, then systemctl restart contention-agent';
  if (f.capEff === undefined) return unknown(kind, true, 'the agent\'s capabilities are unreadable (/proc/self/status)');
  const yama = scope === undefined ? 'no Yama ptrace restrictions' : `kernel.yama.ptrace_scope=${scope}`;
  if ((f.capEff >> CAP_SYS_PTRACE) & 1n) return ready(kind, true, `gcore at ${f.gcore}; the agent has CAP_SYS_PTRACE (${yama}): it can dump any process`);
  if (scope === 0 || scope === undefined) return notReady(kind, true, `the agent lacks CAP_SYS_PTRACE (${yama}): it can dump only processes of its own user (uid ${f.uid ?? '?'})`, capFix);
  return notReady(kind, true, `kernel.yama.ptrace_scope=${scope} and the agent lacks CAP_SYS_PTRACE: it can dump ${scope === 1 ? 'only its own children' : 'nothing'}`, capFix);
}

export function judgeEvidenceSpace(f: Pick<LinuxCaptureFacts, 'evidenceDir' | 'evidenceFree' | 'maxProcessBytes' | 'minFreeBytes'>): Check {
  if (f.evidenceFree === undefined) return unknown('evidence_space', true, `free space at ${f.evidenceDir} could not be read`);
  return spaceVerdict('evidence_space', f.evidenceDir, f.evidenceFree, f.maxProcessBytes, f.minFreeBytes, 'the dump');
}

/** Every Linux check, required ones first. */
export function judgeLinux(f: LinuxCaptureFacts): Check[] {
  return [
    judgeProcessCrashDump(f),
    judgeProcessCrashDumpSpace(f),
    judgeKernelDump(f),
    judgeManualCrash(f),
    judgeProcessDump(f),
    judgeEvidenceSpace(f),
    judgePanic('hung_task_panic', f.hungTaskPanic, 'a task blocked longer than kernel.hung_task_timeout_secs', 'CONFIG_DETECT_HUNG_TASK'),
    judgePanic('panic_on_oops', f.panicOnOops, 'an oops', 'oops support'),
    judgePanic('softlockup_panic', f.softlockupPanic, 'a CPU stuck in kernel code', 'CONFIG_SOFTLOCKUP_DETECTOR'),
  ];
}
