import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessRates } from '../../agent/process/rates.js';
import { createTableReader, type RawProcess, type TableReadOptions } from '../../agent/process/read-table.js';
import { parseStat } from '../../agent/procfs/stat.js';
import { readProcFile } from '../../agent/procfs/read.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';

afterAll(killAllChildren);

const bootTime = () => parseStat(readProcFile('/proc/stat')).bootTime;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process that never runs: `sleep`, killed at the end. */
function sleeper() {
  const proc = spawn('sleep', ['120'], { stdio: 'ignore' });
  afterAll(() => void proc.kill('SIGKILL'));
  return proc.pid!;
}

/** Reads `n` times, a little apart; the row of `pid` at each. */
async function rowsOf(reader: ReturnType<typeof createTableReader>, pid: number, n: number, opts?: TableReadOptions) {
  const out: Array<{ row: RawProcess | undefined; carried: number }> = [];
  for (let i = 0; i < n; i++) {
    const { rows, carried } = await reader.read(opts);
    out.push({ row: rows.find((r) => r.pid === pid), carried });
    await pause(30);
  }
  return out;
}

describe('the process table reader on quiet processes', () => {
  it('carries a quiet process\'s row over and reads it again every quietEvery samples, spread by pid', async () => {
    const pid = sleeper();
    const reader = createTableReader('/proc', bootTime, 4);
    const [first, second, ...quiet] = await rowsOf(reader, pid, 6);
    expect(first!.row && second!.row).toBeTruthy();
    // Read on the first two samples (new, then found unchanged: quiet); from then on the very same
    // row, with the time it was read, whether carried over or read again to the same figures.
    expect(second!.row).not.toBe(first!.row);
    for (const s of quiet) expect(s.row).toBe(second!.row);
    // Most of this machine is idle too: most rows are carried on most samples.
    expect(quiet.at(-1)!.carried).toBeGreaterThan(0);
    // Stopped, its state changes without it running: the first sample that reads it again is the one
    // whose turn it is (sample number and pid alike modulo 4), and that reading gives a new row.
    process.kill(pid, 'SIGSTOP');
    await pause(100);
    const after = await rowsOf(reader, pid, 8);
    const seenAt = 6 + after.findIndex((s) => s.row!.state === 'T');
    const turn = [6, 7, 8, 9].find((n) => n % 4 === pid % 4);
    expect(seenAt).toBe(turn);
    expect(after[seenAt - 6]!.row).not.toBe(second!.row);
    expect(after[seenAt - 6]!.row!.readAt).toBeGreaterThan(second!.row!.readAt!);
    for (const s of after.slice(0, seenAt - 6)) expect(s.row).toBe(second!.row);
  });

  it('reads a process named in `always` on every sample, quiet or not', async () => {
    const pid = sleeper();
    const reader = createTableReader('/proc', bootTime, 4);
    await rowsOf(reader, pid, 3, { always: new Set([pid]) });
    process.kill(pid, 'SIGSTOP');
    await pause(100);
    const [next] = await rowsOf(reader, pid, 1, { always: new Set([pid]) });
    expect(next!.row!.state).toBe('T');
  });

  it('reads every process every sample when quietEvery is 1', async () => {
    const pid = sleeper();
    const reader = createTableReader('/proc', bootTime, 1);
    const seen = await rowsOf(reader, pid, 5);
    expect(seen.every((s) => s.carried === 0)).toBe(true);
    process.kill(pid, 'SIGSTOP');
    await pause(100);
    const [next] = await rowsOf(reader, pid, 1);
    expect(next!.row!.state).toBe('T');
  });

  it('counts again the descriptors of a process named in `always` on every reading, however little it ran', async () => {
    // Idle after start; on SIGUSR1 it opens 20 descriptors, in well under a clock tick of CPU.
    const proc = spawn('python3', ['-c', 'import os, signal, time\nfds = []\nsignal.signal(signal.SIGUSR1, lambda *a: fds.extend(os.open("/dev/null", os.O_RDONLY) for _ in range(20)))\nprint("ready", flush=True)\nwhile True: time.sleep(60)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    afterAll(() => void proc.kill('SIGKILL'));
    await new Promise((resolve) => proc.stdout!.once('data', resolve));
    const pid = proc.pid!;
    const reader = createTableReader('/proc', bootTime, 4);
    const always = { always: new Set([pid]) };
    const quiet = await rowsOf(reader, pid, 3, always);
    const before = quiet.at(-1)!.row!.handles;
    process.kill(pid, 'SIGUSR1');
    await pause(200);
    const [next] = await rowsOf(reader, pid, 1, always);
    expect(next!.row!.handles).toBe(before + 20);
  });

  it('sees a quiet process that wakes and leaks within quietEvery samples, then reads it every sample while it changes', async () => {
    const child = await startChild(SCRIPTS.leak(1, 20));
    process.kill(child.pid, 'SIGSTOP');
    const reader = createTableReader('/proc', bootTime, 5);
    const before = await rowsOf(reader, child.pid, 8);
    // Stopped, it changes nothing: carried over on most samples.
    expect(new Set(before.map((s) => s.row)).size).toBeLessThan(5);
    const stoppedAt = before.at(-1)!.row!.privateBytes;
    process.kill(child.pid, 'SIGCONT');
    await pause(300);
    const woke = await rowsOf(reader, child.pid, 10);
    const firstGrowth = woke.findIndex((s) => s.row!.privateBytes > stoppedAt);
    expect(firstGrowth).toBeGreaterThanOrEqual(0);
    expect(firstGrowth).toBeLessThan(5);
    // From then on, leaking, it is never quiet: a fresh row every sample.
    const rest = woke.slice(firstGrowth);
    expect(new Set(rest.map((s) => s.row)).size).toBe(rest.length);
    child.kill();
  });

  it('gives a carried row the rates of its reading, and the next reading rates over the whole time since', () => {
    const rates = createProcessRates();
    const row = (cpuSeconds: number, readAt: number) => ({ pid: 7, startTime: 0, cpuSeconds, privateBytes: 100, readAt }) as unknown as Parameters<typeof rates>[0][number];
    rates([row(10, 10_000)], 10_000);
    const read = row(11, 20_000);
    const [atRead] = rates([read], 20_000);
    expect(atRead!.cpu).toBeCloseTo(0.1);
    // Carried over for two samples: the same rates, not zero.
    expect(rates([read], 25_000)[0]).toBe(atRead);
    expect(rates([read], 30_000)[0]).toBe(atRead);
    // Read again at 40 s, 2 CPU seconds later: 0.1 CPU over the 20 s since its reading, not 2 over the last 10 s.
    expect(rates([row(13, 40_000)], 40_000)[0]!.cpu).toBeCloseTo(0.1);
  });

  it('spans the rates of a row from the last reading that found its figures unchanged', () => {
    const rates = createProcessRates();
    const row = (cpuSeconds: number, readAt: number, previousReadAt?: number) => ({ pid: 7, startTime: 0, cpuSeconds, privateBytes: 100, readAt, previousReadAt }) as unknown as Parameters<typeof rates>[0][number];
    rates([row(10, 10_000)], 10_000);
    const quiet = row(10, 20_000);
    expect(rates([quiet], 20_000)[0]!.cpu).toBe(0);
    // Read again at 30 s and 40 s to the same figures (the same row), then at 50 s one CPU second
    // later: one second over the 10 s since 40 s, not over the 30 s since the row was read.
    expect(rates([quiet], 30_000)[0]!.cpu).toBe(0);
    expect(rates([quiet], 40_000)[0]!.cpu).toBe(0);
    expect(rates([row(11, 50_000, 40_000)], 50_000)[0]!.cpu).toBeCloseTo(0.1);
  });
});
