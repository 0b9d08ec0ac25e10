import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DumpResult, DumpSize, DumpTarget, ProcessDumper } from '../../capture/dumper.js';
import { clockTicksPerSecond } from '../../procfs/clock-ticks.js';
import { parsePidStat } from '../../procfs/pid-stat.js';
import { parsePidStatus } from '../../procfs/pid-status.js';
import { estimateCoreBytes } from '../../procfs/smaps.js';
import { parseStat } from '../../procfs/stat.js';
import { whichOnPath } from './capture-facts.js';

/**
 * Dumps a running process with gdb's gcore: gdb attaches (the process stops while its memory is
 * copied), writes an ELF core and detaches, and the process carries on. No gdb, no dump: the agent
 * has no dumper of its own.
 */
export function createGcoreDumper(procfs = '/proc', gcore: () => string | undefined = () => whichOnPath('gcore')): ProcessDumper {
  const hz = clockTicksPerSecond();
  const read = (pid: number, file: string): string => readFileSync(join(procfs, String(pid), file), 'latin1');

  const startTimeOf = (pid: number): number | undefined => {
    try {
      const bootTime = parseStat(readFileSync(join(procfs, 'stat'), 'latin1')).bootTime;
      return Math.round((bootTime + parsePidStat(read(pid, 'stat')).startTicks / hz) * 1000);
    } catch {
      return undefined;
    }
  };

  const stateOf = (pid: number): string | undefined => {
    try {
      return parsePidStat(read(pid, 'stat')).state;
    } catch {
      return undefined;
    }
  };

  return {
    extension: 'core',
    async unavailable() {
      return gcore() ? undefined : 'gdb is not installed (apt-get install gdb): the agent dumps a running process with gdb\'s gcore and has no dumper of its own';
    },
    size(target, known): DumpSize | undefined {
      try {
        const status = parsePidStatus(read(target.pid, 'status'));
        let filter = 0x33;
        try {
          filter = parseInt(read(target.pid, 'coredump_filter').trim(), 16);
        } catch {
          // older kernels: the default filter
        }
        return { processBytes: known?.privateBytes ?? (status.rssAnon ?? 0) + (status.vmSwap ?? 0), dumpBytes: estimateCoreBytes(read(target.pid, 'smaps'), filter) };
      } catch {
        return undefined;
      }
    },
    async dump(target: DumpTarget, file: string, timeoutMs: number): Promise<DumpResult> {
      const path = gcore();
      if (!path) return { ok: false, outcome: 'not_possible', reason: 'gdb is not installed' };
      const started = startTimeOf(target.pid);
      if (started === undefined) return { ok: false, outcome: 'gone', reason: `pid ${target.pid} is gone` };
      if (target.startTime !== undefined && started !== target.startTime) return { ok: false, outcome: 'mismatch', reason: `pid ${target.pid} is now another process` };
      const wasStopped = stateOf(target.pid) === 'T';
      // gcore -o PREFIX writes PREFIX.PID; the prefix is unique to this dump.
      const prefix = join(dirname(file), `.gcore-${process.pid}-${Date.now()}`);
      const written = `${prefix}.${target.pid}`;
      const result = await new Promise<{ code: number | null; output: string; timedOut: boolean }>((resolve) => {
        const child = spawn(path, ['-o', prefix, String(target.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        const keep = (c: Buffer) => {
          output = (output + c.toString()).slice(-4000);
        };
        child.stdout.on('data', keep);
        child.stderr.on('data', keep);
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          // gdb detaches from what it attached to when it is asked to quit.
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }, timeoutMs);
        child.once('error', (err) => {
          clearTimeout(timer);
          resolve({ code: null, output: err.message, timedOut });
        });
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve({ code, output, timedOut });
        });
      });
      // A gdb that died attached can leave the process stopped: the process must keep running.
      if (!wasStopped && stateOf(target.pid) === 'T') {
        try {
          process.kill(target.pid, 'SIGCONT');
        } catch {
          // gone meanwhile
        }
      }
      if (result.timedOut || result.code !== 0 || !existsSync(written)) {
        rmSync(written, { force: true });
        const why = result.timedOut ? `gcore took longer than ${Math.round(timeoutMs / 1000)} s` : `gcore exited with ${result.code}: ${lastLine(result.output)}`;
        return { ok: false, outcome: startTimeOf(target.pid) === undefined ? 'gone' : 'failed', reason: why };
      }
      renameSync(written, file);
      return { ok: true, file };
    },
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => !l.startsWith('warning:')).pop() ?? '';
}
