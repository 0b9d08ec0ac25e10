/**
 * pidfd_open(2) and pidfd_send_signal(2) through koffi: a descriptor that names one process, so a
 * signal sent through it can never reach a process that reused the pid after the check.
 */
export interface Pidfd {
  /** A descriptor for the process, or a negative errno. */
  open(pid: number): number;
  /** 0, or a negative errno. */
  signal(fd: number, signal: number): number;
  close(fd: number): void;
}

// pidfd_open and pidfd_send_signal sit in the generic syscall table, which x86_64 follows for them
// and arm64 uses outright: the same numbers on both.
const SYSCALLS: Partial<Record<NodeJS.Architecture, { open: number; signal: number }>> = {
  x64: { open: 434, signal: 424 },
  arm64: { open: 434, signal: 424 },
};

let loading: Promise<Pidfd | undefined> | undefined;

/** The pidfd calls, or undefined where the architecture, libc or kernel (before 5.3) lacks them. */
export function loadPidfd(): Promise<Pidfd | undefined> {
  loading ??= (async () => {
    const numbers = SYSCALLS[process.arch];
    if (process.platform !== 'linux' || !numbers) return undefined;
    try {
      const { default: koffi } = await import('koffi');
      const libc = koffi.load('libc.so.6');
      const syscall = libc.func('long syscall(long number, long a, long b, long c, long d)') as (n: number, a: number, b: number, c: number, d: number) => number;
      const close = libc.func('int close(int fd)') as (fd: number) => number;
      const call = (n: number, a: number, b: number): number => {
        const r = syscall(n, a, b, 0, 0);
        return r < 0 ? -koffi.errno() : r;
      };
      const pidfd: Pidfd = {
        open: (pid) => call(numbers.open, pid, 0),
        signal: (fd, signal) => call(numbers.signal, fd, signal),
        close: (fd) => void close(fd),
      };
      // ENOSYS on kernels before 5.3: fall back to the recheck alone.
      const self = pidfd.open(process.pid);
      if (self < 0) return undefined;
      pidfd.close(self);
      return pidfd;
    } catch {
      return undefined;
    }
  })();
  return loading;
}
