import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.js';
import { createLogger } from '../../agent/log.js';
import type { Sample } from '../../agent/metrics/sample.js';
import { createOneShotSampler } from '../../agent/agent.js';
import { linuxPlatform } from '../../agent/platform/platform.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';

const log = createLogger('error', 'json');

function processRuntime(extra = '', procfs = '/proc') {
  const result = parseConfigText(
    `collectors: { kernel_tables: false, kernel_pools: false, memory: false, cpu: false, disk_queue: false, pressure: false, host_info: false }\npaths: { procfs: ${JSON.stringify(procfs)} }\n${extra}`,
    'test.yaml',
  );
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return createOneShotSampler(result.config, linuxPlatform, log);
}

const rowOf = (sample: Sample, pid: number) => sample.facts.processes?.rows.find((r) => r.pid === pid);
const series = (sample: Sample, name: string) => (sample.families.get(name as never) ?? []) as Array<{ labels: Record<string, string>; value: number }>;

afterAll(killAllChildren);

describe('the processes collector on real children', () => {
  it('follows a child that allocates memory at a known rate', async () => {
    const child = await startChild(SCRIPTS.leak(1, 50)); // about 20 MiB/s
    const runtime = processRuntime();
    try {
      const first = rowOf(await runtime.sampler.sampleOnce(), child.pid)!;
      await sleep(1500);
      const second = rowOf(await runtime.sampler.sampleOnce(), child.pid)!;
      const grownMiB = (second.privateBytes - first.privateBytes) / 2 ** 20;
      // 1.5 s at 20 MiB/s is 30 MiB; a loaded machine runs timers late, so allow down to a third.
      expect(grownMiB).toBeGreaterThan(10);
      expect(grownMiB).toBeLessThan(80);
      expect(second.workingSetBytes).toBeGreaterThanOrEqual(second.privateBytes - second.privateBytes * 0.05);
      expect(second.virtualBytes).toBeGreaterThan(second.workingSetBytes);
      expect(second.startTime).toBe(first.startTime);
    } finally {
      runtime.stop();
      child.kill();
    }
  });

  it('counts the file descriptors a child opens and the threads it starts', async () => {
    const idle = await startChild(SCRIPTS.idle());
    const fds = await startChild(SCRIPTS.fds(300));
    const threads = await startChild(SCRIPTS.threads(8));
    const runtime = processRuntime();
    try {
      const sample = await runtime.sampler.sampleOnce();
      const base = rowOf(sample, idle.pid)!;
      expect(rowOf(sample, fds.pid)!.handles - base.handles).toBe(300);
      expect(rowOf(sample, threads.pid)!.threads - base.threads).toBeGreaterThanOrEqual(8);
    } finally {
      runtime.stop();
      for (const c of [idle, fds, threads]) c.kill();
    }
  });

  it('groups by criteria on cmdline and user, and exports the group totals', async () => {
    const a = await startChild(SCRIPTS.fds(20));
    const b = await startChild(SCRIPTS.fds(30), `${a.token}-second`);
    const user = (await import('node:os')).userInfo().username;
    const runtime = processRuntime(`criteria:\n  - name: testkids\n    include: [{ cmdline: "${a.token}", user: "${user}" }]\n  - name: nobody-at-all\n    include: [{ user: "no-such-user-here" }]\n`);
    try {
      const sample = await runtime.sampler.sampleOnce();
      expect(rowOf(sample, a.pid)!.processGroup).toBe('testkids');
      expect(rowOf(sample, b.pid)!.criteria).toEqual(['testkids']);
      const group = (name: string, g: string) => series(sample, name).find((s) => s.labels.group === g)?.value;
      expect(group('contention_process_group_processes', 'testkids')).toBe(2);
      expect(group('contention_process_group_handles', 'testkids')).toBe(rowOf(sample, a.pid)!.handles + rowOf(sample, b.pid)!.handles);
      // a criteria that matches nothing is still a group, with zeros
      expect(group('contention_process_group_processes', 'nobody-at-all')).toBe(0);
    } finally {
      runtime.stop();
      a.kill();
      b.kill();
    }
  });

  it('keeps the series bounded while 1,000 short-lived children come and go', async () => {
    const runtime = processRuntime('process_groups: { max_unmatched: 5, top_k: 3 }\n');
    const { spawn } = await import('node:child_process');
    let spawned = 0;
    const counts: number[] = [];
    const outcomes: boolean[] = [];
    try {
      while (spawned < 1000) {
        for (let i = 0; i < 100; i++, spawned++) spawn('sleep', ['0.3'], { stdio: 'ignore' });
        const sample = await runtime.sampler.sampleOnce();
        const exported = [...sample.families].filter(([name]) => name.startsWith('contention_process_')).reduce((n, [, s]) => n + s.length, 0);
        counts.push(exported);
        outcomes.push(sample.collectors.find((c) => c.name === 'processes')!.status === 'ok');
      }
      // groups: at most 5 names + other, 7 families each; top K: 3 per family; errors: 4 reasons
      for (const n of counts) expect(n).toBeLessThanOrEqual(6 * 7 + 3 * 3 + 4);
      expect(outcomes).toEqual(Array(10).fill(true));
    } finally {
      runtime.stop();
    }
  });
});

describe('a process that vanishes mid-read', () => {
  it('is skipped and counted, never exported', async () => {
    // A procfs with one complete process and two that vanished between listing and reading:
    // one lost its status file, one everything.
    const procfs = mkdtempSync(join(tmpdir(), 'ca-procfs-'));
    const real = (rel: string) => readFileSync(join('/proc', rel));
    writeFileSync(join(procfs, 'stat'), real('stat'));
    mkdirSync(join(procfs, String(process.pid), 'fd'), { recursive: true });
    for (const f of ['stat', 'status', 'cmdline']) writeFileSync(join(procfs, String(process.pid), f), real(`self/${f}`));
    writeFileSync(join(procfs, String(process.pid), 'fd', '0'), '');
    symlinkSync(process.execPath, join(procfs, String(process.pid), 'exe'));
    mkdirSync(join(procfs, '999991'));
    writeFileSync(join(procfs, '999991', 'stat'), real('self/stat').toString().replace(/^\d+/, '999991'));
    mkdirSync(join(procfs, '999992'));
    const runtime = processRuntime('', procfs);
    try {
      const sample = await runtime.sampler.sampleOnce();
      expect(sample.facts.processes!.rows.map((r) => r.pid)).toEqual([process.pid]);
      const errors = Object.fromEntries(series(sample, 'contention_process_read_errors_total').map((s) => [s.labels.reason, s.value]));
      expect(errors.vanished).toBe(2);
      const pids = series(sample, 'contention_process_private_bytes').map((s) => s.labels.pid);
      expect(pids).toEqual([String(process.pid)]);
    } finally {
      runtime.stop();
    }
  });
});
