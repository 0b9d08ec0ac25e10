import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startQueueWatch } from '../../agent/sampler/queue-watch.js';
import { killAllChildren, startChild } from '../helpers/children.js';

afterAll(() => killAllChildren());

const fixtures = new URL('../procfs/fixtures/', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the Linux queue watch', () => {
  it('sees a CPU queue of spinning children on the real /proc', async () => {
    const spinning = availableParallelism() + 3;
    for (let i = 0; i < spinning; i++) await startChild(`console.log('ready'); for (;;) {}`);
    const watch = startQueueWatch('/proc', 0.05);
    try {
      await sleep(1500);
      // More runnable than CPUs: at least the three beyond them queue (a poll can land on a tick where one is not runnable).
      expect(watch.takeCpuPeak()).toBeGreaterThanOrEqual(1);
    } finally {
      watch.stop();
      killAllChildren();
    }
  }, 30_000);

  it('counts CPUs from /proc/stat and the runnable from /proc/loadavg between, and keeps polling when loadavg is missing', async () => {
    const procfs = mkdtempSync(join(tmpdir(), 'ca-queue-'));
    try {
      copyFileSync(join(fixtures, 'diskstats.txt'), join(procfs, 'diskstats'));
      // stat: 2 CPUs, procs_running 1; loadavg: 9 runnable, a queue of 7.
      copyFileSync(join(fixtures, 'stat.txt'), join(procfs, 'stat'));
      writeFileSync(join(procfs, 'loadavg'), '4.00 3.00 2.00 9/400 7671\n');
      const watch = startQueueWatch(procfs, 0.05);
      await sleep(400);
      expect(watch.takeCpuPeak()).toBe(7);
      expect(watch.takeDiskPeaks().size).toBeGreaterThan(0);
      rmSync(join(procfs, 'loadavg'));
      await sleep(50);
      watch.takeCpuPeak();
      await sleep(400);
      // Without loadavg every other poll reads /proc/stat: procs_running 1 on 2 CPUs is no queue.
      expect(watch.takeCpuPeak()).toBe(0);
      watch.stop();
    } finally {
      rmSync(procfs, { recursive: true, force: true });
    }
  });
});
