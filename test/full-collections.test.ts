import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectPeriodically } from '../agent/full-collections.js';
import { ROOT } from './helpers/agent.js';

describe('collectPeriodically', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks for a full collection, run as a task of its own, once per interval until stopped', async () => {
    vi.useFakeTimers();
    const calls: unknown[] = [];
    const stop = collectPeriodically(60_000, async (options) => void calls.push(options));
    await vi.advanceTimersByTimeAsync(59_999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([{ type: 'major', execution: 'async' }]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(calls).toHaveLength(3);
    stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(calls).toHaveLength(3);
  });

  it('does nothing without an exposed collector, and survives one that throws or rejects', async () => {
    vi.useFakeTimers();
    expect(() => collectPeriodically(1000, undefined)()).not.toThrow();
    let tries = 0;
    const stopThrowing = collectPeriodically(1000, () => {
      tries++;
      throw new Error('no');
    });
    const stopRejecting = collectPeriodically(1000, () => {
      tries++;
      return Promise.reject(new Error('no'));
    });
    await vi.advanceTimersByTimeAsync(3000);
    expect(tries).toBe(6);
    stopThrowing();
    stopRejecting();
  });

  it('runs real full collections in a Node started with --expose-gc, and none without it', () => {
    // The built module in a real runtime: V8's own trace shows each full collection the call asked for.
    const script = `import(${JSON.stringify(join(ROOT, 'dist/agent/full-collections.js'))}).then(({ collectPeriodically }) => { collectPeriodically(100); setTimeout(() => {}, 1050); })`;
    const traced = (flags: string[]) => execFileSync(process.execPath, [...flags, '--trace-gc', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    const asked = (out: string) => out.split('\n').filter((l) => /Mark-Compact.*testing/.test(l)).length;
    expect(asked(traced(['--expose-gc']))).toBeGreaterThanOrEqual(3);
    expect(asked(traced([]))).toBe(0);
  });
});
