import { getPriority } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinuxProcessControl } from '../../agent/platform/linux/process-control.js';
import { loadPidfd } from '../../agent/platform/linux/pidfd.js';
import { createTableReader } from '../../agent/process/read-table.js';
import { parseStat } from '../../agent/procfs/stat.js';
import { readProcFile } from '../../agent/procfs/read.js';
import { killAllChildren, SCRIPTS, startChild, type Child } from '../helpers/children.js';

afterAll(killAllChildren);

/** The child as the process table reads it: the identity a decision is made on. */
async function targetOf(child: Child) {
  const reader = createTableReader('/proc', () => parseStat(readProcFile('/proc/stat')).bootTime);
  const row = (await reader.read()).rows.find((r) => r.pid === child.pid)!;
  return { pid: row.pid, startTime: row.startTime, exe: row.exe };
}

const alive = (c: Child): boolean => c.proc.exitCode === null && c.proc.signalCode === null;
/** The signal that ended the child, once node has reaped it. */
const endedBy = (c: Child): Promise<NodeJS.Signals | null> =>
  c.proc.exitCode !== null || c.proc.signalCode !== null ? Promise.resolve(c.proc.signalCode) : new Promise((resolve) => c.proc.once('exit', (_code, signal) => resolve(signal)));

describe('Linux process control', () => {
  it('has pidfd_open on this kernel and architecture', async () => {
    expect(['x64', 'arm64']).toContain(process.arch);
    expect(await loadPidfd()).toBeDefined();
    expect(await (await createLinuxProcessControl()).usesPidfd()).toBe(true);
    expect(await (await createLinuxProcessControl('/proc', { pidfd: false })).usesPidfd()).toBe(false);
  });

  for (const pidfd of [true, false]) {
    describe(pidfd ? 'through a pidfd' : 'by the recheck alone', () => {
      it('refuses a pid whose start time is not the decision\'s (pid reuse) and leaves it running', async () => {
        const control = await createLinuxProcessControl('/proc', { pidfd });
        const child = await startChild(SCRIPTS.idle());
        const target = await targetOf(child);
        expect(await control.terminate({ ...target, startTime: target.startTime - 10 }, 500)).toBe('mismatch');
        expect(control.setPriority({ ...target, startTime: target.startTime + 10 }, 5)).toBe('mismatch');
        expect(control.priority({ ...target, startTime: target.startTime + 10 })).toBeUndefined();
        await new Promise((r) => setTimeout(r, 300));
        expect(alive(child)).toBe(true);
        expect(getPriority(child.pid)).toBe(0);
        child.kill();
      });

      it('refuses a pid whose executable is not the decision\'s', async () => {
        const control = await createLinuxProcessControl('/proc', { pidfd });
        const child = await startChild(SCRIPTS.idle());
        const target = await targetOf(child);
        expect(await control.terminate({ ...target, exe: '/usr/sbin/sshd' }, 500)).toBe('mismatch');
        expect(alive(child)).toBe(true);
        child.kill();
      });

      it('stops the right process with SIGTERM, and a gone one is gone', async () => {
        const control = await createLinuxProcessControl('/proc', { pidfd });
        const child = await startChild(SCRIPTS.idle());
        const target = await targetOf(child);
        expect(await control.terminate(target, 5000)).toBe('stopped');
        expect(await endedBy(child)).toBe('SIGTERM');
        expect(await control.terminate(target, 500)).toBe('gone');
      });

      it('kills a process that ignores SIGTERM after the grace', async () => {
        const control = await createLinuxProcessControl('/proc', { pidfd });
        const child = await startChild(SCRIPTS.stubborn());
        const target = await targetOf(child);
        const started = Date.now();
        expect(await control.terminate(target, 700)).toBe('killed');
        expect(Date.now() - started).toBeGreaterThanOrEqual(700);
        expect(await endedBy(child)).toBe('SIGKILL');
      });
    });
  }

  it('sets the nice value of every thread and reads it back', async () => {
    const control = await createLinuxProcessControl();
    const child = await startChild(SCRIPTS.threads(3));
    const target = await targetOf(child);
    expect(control.priority(target)).toBe(0);
    expect(control.setPriority(target, 7)).toBe('set');
    const { readdirSync } = await import('node:fs');
    const tids = readdirSync(`/proc/${child.pid}/task`).map(Number);
    expect(tids.length).toBeGreaterThan(3);
    expect(tids.map((tid) => getPriority(tid))).toEqual(tids.map(() => 7));
    expect(control.setPriority(target, 0)).toBe('set');
    expect(getPriority(child.pid)).toBe(0);
    child.kill();
  });
});
