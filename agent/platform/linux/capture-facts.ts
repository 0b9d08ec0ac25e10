import { accessSync, constants, existsSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { coreDestination, type LinuxCaptureFacts } from '../../capture/linux-checks.js';

export interface LinuxFactsOptions {
  /** File system root the paths are read under: "/" on a host, a fixture tree in tests. */
  readonly root?: string;
  readonly evidenceDir: string;
  readonly maxProcessBytes: number;
  readonly minFreeBytes: number;
  /** Free bytes at a directory (its nearest existing ancestor); statfs by default. */
  readonly freeBytes?: (dir: string) => number | undefined;
  /** Path of an executable on PATH, or undefined. */
  readonly which?: (name: string) => string | undefined;
}

/** Reads what the Linux capture checks judge. Each file is optional: absent means "the kernel has no such thing". */
export function readLinuxCaptureFacts(opts: LinuxFactsOptions): LinuxCaptureFacts {
  const root = opts.root ?? '/';
  const at = (path: string): string => join(root, path);
  const text = (path: string): string | undefined => {
    try {
      return readFileSync(at(path), 'latin1');
    } catch {
      return undefined;
    }
  };
  const line = (path: string): string | undefined => text(path)?.trim();
  const freeBytes = opts.freeBytes ?? statfsFree;
  const status = text('proc/self/status');
  const corePattern = line('proc/sys/kernel/core_pattern');
  const dest = corePattern === undefined ? undefined : coreDestination(corePattern);
  const coreDir = dest && 'dir' in dest ? dest.dir : undefined;
  const systemd = iniValues(root, 'etc/systemd/system.conf', 'Manager');
  const coredump = iniValues(root, 'etc/systemd/coredump.conf', 'Coredump');
  const capEff = status === undefined ? undefined : /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  const uid = status === undefined ? undefined : /^Uid:\s*(\d+)/m.exec(status)?.[1];
  return {
    corePattern,
    selfCoreLimit: parseLimitsCore(text('proc/self/limits')),
    pid1: line('proc/1/comm'),
    defaultLimitCore: systemd.get('DefaultLimitCORE'),
    coredumpStorage: coredump.get('Storage'),
    coredumpProcessSizeMax: coredump.get('ProcessSizeMax'),
    coreDirFree: coreDir === undefined ? undefined : freeBytes(coreDir),
    cmdline: line('proc/cmdline'),
    kexecCrashLoaded: line('sys/kernel/kexec_crash_loaded'),
    sysrq: line('proc/sys/kernel/sysrq'),
    hungTaskPanic: line('proc/sys/kernel/hung_task_panic'),
    panicOnOops: line('proc/sys/kernel/panic_on_oops'),
    softlockupPanic: line('proc/sys/kernel/softlockup_panic'),
    ptraceScope: line('proc/sys/kernel/yama/ptrace_scope'),
    capEff: capEff === undefined ? undefined : BigInt(`0x${capEff}`),
    uid: uid === undefined ? undefined : Number(uid),
    gcore: (opts.which ?? whichOnPath)('gcore'),
    evidenceDir: opts.evidenceDir,
    evidenceFree: freeBytes(opts.evidenceDir),
    maxProcessBytes: opts.maxProcessBytes,
    minFreeBytes: opts.minFreeBytes,
  };
}

/** "Max core file size  0  unlimited  bytes" from a /proc/PID/limits. */
export function parseLimitsCore(text: string | undefined): { soft: number; hard: number } | undefined {
  const m = text === undefined ? null : /^Max core file size\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  const value = (v: string): number => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}

/**
 * Keys of one section of a systemd config file and its drop-ins, as systemd reads them: the main
 * file, then `NAME.d/*.conf` from /usr/lib, /run and /etc in file-name order (/etc wins a tie);
 * a later assignment overrides an earlier one.
 */
export function iniValues(root: string, mainFile: string, section: string): Map<string, string> {
  const values = new Map<string, string>();
  const read = (path: string): void => {
    let text: string;
    try {
      text = readFileSync(join(root, path), 'utf8');
    } catch {
      return;
    }
    let current = '';
    for (const raw of text.split('\n')) {
      const l = raw.trim();
      if (l === '' || l.startsWith('#') || l.startsWith(';')) continue;
      const header = /^\[(.+)\]$/.exec(l);
      if (header) current = header[1]!;
      else if (current === section) {
        const eq = l.indexOf('=');
        if (eq > 0) {
          const value = l.slice(eq + 1).trim();
          if (value === '') values.delete(l.slice(0, eq).trim());
          else values.set(l.slice(0, eq).trim(), value);
        }
      }
    }
  };
  read(mainFile);
  const name = basename(mainFile);
  const dropIns = new Map<string, string>();
  for (const dir of ['usr/lib/systemd', 'run/systemd', 'etc/systemd']) {
    try {
      for (const f of readdirSync(join(root, dir, `${name}.d`))) if (f.endsWith('.conf')) dropIns.set(f, join(dir, `${name}.d`, f));
    } catch {
      // no drop-in directory
    }
  }
  for (const f of [...dropIns.keys()].sort()) read(dropIns.get(f)!);
  return values;
}

/** Free bytes for an unprivileged writer at a directory or, when it does not exist yet, its nearest existing ancestor. */
export function statfsFree(dir: string): number | undefined {
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

export function whichOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
