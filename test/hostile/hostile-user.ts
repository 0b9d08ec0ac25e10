import { spawn, type ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();

/**
 * Starts a command as the unprivileged user nobody (runuser), optionally with its argv[0] rewritten
 * the way `exec -a` does, and resolves once the kernel shows the process under its final command line.
 */
export async function startAsNobody(argv0: string, command: string, args: readonly string[]): Promise<ChildProcess> {
  const script = `exec -a "$0" ${command} ${args.map((a) => `'${a}'`).join(' ')}`;
  const proc = spawn('runuser', ['-u', 'nobody', '--', 'bash', '-c', script, argv0], { stdio: 'ignore' });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  // runuser forks: the target process is runuser's child; wait until it exists with that title.
  const { readFileSync, readdirSync } = await import('node:fs');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`${argv0}\0`)) return proc;
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no process titled ${argv0} appeared`);
}

export function killNobodies(): void {
  for (const proc of running) proc.kill('SIGKILL');
}
