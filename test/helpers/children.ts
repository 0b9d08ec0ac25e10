import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Node scripts that behave as the agent must notice; each prints "ready" once set up. */
export const SCRIPTS = {
  /**
   * Allocates and touches `mib` MiB every `ms` milliseconds and never frees it, up to `maxMib` (so a
   * child whose test went wrong cannot take the machine's memory).
   */
  leak: (mib = 1, ms = 50, maxMib = 2048) =>
    `const held = []; setInterval(() => { if (held.length * ${mib} < ${maxMib}) held.push(Buffer.alloc(${mib} * 1024 * 1024, 1)); }, ${ms}); console.log('ready');`,
  /** Opens `n` more file descriptors every `ms` milliseconds, up to `max`, and keeps them (a handle leak). */
  fdLeak: (n = 20, ms = 100, max = 15_000) =>
    `const fs = require('fs'); const fds = []; setInterval(() => { for (let i = 0; i < ${n} && fds.length < ${max}; i++) fds.push(fs.openSync('/dev/null', 'r')); }, ${ms}); console.log('ready');`,
  /** Opens `n` file descriptors and keeps them. */
  fds: (n: number) => `const fs = require('fs'); const fds = []; for (let i = 0; i < ${n}; i++) fds.push(fs.openSync('/dev/null', 'r')); console.log('ready'); setInterval(() => {}, 1e6);`,
  /** Starts `n` worker threads that sleep. */
  threads: (n: number) =>
    `const { Worker } = require('worker_threads'); let up = 0; for (let i = 0; i < ${n}; i++) { const w = new Worker('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)', { eval: true }); w.on('online', () => { if (++up === ${n}) console.log('ready'); }); }`,
  idle: () => `console.log('ready'); setInterval(() => {}, 1e6);`,
  /** Busy on one CPU, in slices, so that its timers (the orphan guard among them) still run. */
  hog: () => `console.log('ready'); (function spin() { const end = Date.now() + 50; while (Date.now() < end); setImmediate(spin); })();`,
  /** Ignores SIGTERM (needs SIGKILL). */
  stubborn: () => `process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1e6);`,
} as const;

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly token: string;
  kill(): void;
}

const running = new Set<ChildProcess>();

/**
 * Starts a node child running `script`, with a unique token in its command line so that criteria
 * in tests match it and nothing else. Resolves once it printed "ready".
 */
export async function startChild(script: string, token = `ca-test-${process.pid}-${Math.random().toString(36).slice(2, 10)}`): Promise<Child> {
  const dir = mkdtempSync(join(tmpdir(), 'ca-child-'));
  const file = join(dir, `${token}.js`);
  writeFileSync(file, orphanGuard(process.pid) + script);
  const proc = spawn(process.execPath, [file, token], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`child exited with ${code} before it was ready`)));
  });
  return { proc, pid: proc.pid!, token, kill: () => void proc.kill('SIGKILL') };
}

/**
 * Ends the child once the test process that started it is gone: a test worker that crashed or was
 * killed must not leave a leaking child behind (one such orphan once grew to 21 GB).
 */
function orphanGuard(parent: number): string {
  return `setInterval(() => { try { process.kill(${parent}, 0); } catch { process.exit(0); } }, 1000).unref();\n`;
}

/** Kills every child started here that still runs. */
export function killAllChildren(): void {
  for (const proc of running) proc.kill('SIGKILL');
}
