import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { windowsHostFacts } from '../../../agent/collectors/windows/host-facts.js';
import { parseConfigText } from '../../../agent/config/load.js';
import { createLogger } from '../../../agent/log.js';
import { valueOf, type Sample } from '../../../agent/metrics/sample.js';
import { HOST_COUNTERS, LIVE_HOST_COUNTERS } from '../../../agent/platform/windows/counters.js';
import { openEventLog } from '../../../agent/platform/windows/event-log.js';
import { openPdhQuery } from '../../../agent/platform/windows/pdh-query.js';
import { openPerformanceReader } from '../../../agent/platform/windows/performance-info.js';
import { openReadyQueue } from '../../../agent/platform/windows/ready-queue.js';
import { mapHostReadings, seriesValue } from '../../../agent/platform/windows/pdh-values.js';
import { openProcessList } from '../../../agent/platform/windows/process-list.js';
import { createWindowsProcessControl } from '../../../agent/platform/windows/process-control.js';
import { terminateVerified, trimWorkingSet } from '../../../agent/platform/windows/terminate.js';
import { createOneShotSampler } from '../../../agent/agent.js';
import { windowsPlatform } from '../../../agent/platform/platform.js';
import { killAllChildren, SCRIPTS, startChild } from '../../helpers/children.js';

const MiB = 1024 * 1024;

/** The PDH counters of what the agent reads from kernel calls: the Memory object and the processor queue. */
const CROSS_CHECKED = HOST_COUNTERS.filter(
  (c) => !c.live && ((c.object === 'Memory' && !/KBytes|MBytes/.test(c.counter)) || c.counter === 'Processor Queue Length'),
);
const pdhValue = (query: Awaited<ReturnType<typeof openPdhQuery>>, metric: Parameters<typeof seriesValue>[1], labels = {}) =>
  seriesValue(mapHostReadings(query.collect(), windowsHostFacts()).series, metric, labels);

afterAll(killAllChildren);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function rowOf(pid: number) {
  const list = await openProcessList();
  try {
    return list.read().rows.find((r) => r.pid === pid);
  } finally {
    list.close();
  }
}

// These read pdh.dll, ntdll and kernel32 of a real host; the Windows workflow runs them. Elsewhere
// the same code paths stop at loadWin32(), which the other tests check refuses to load.
describe.runIf(process.platform === 'win32')('on a real Windows host (skipped elsewhere: needs pdh.dll, ntdll.dll and kernel32.dll)', () => {
  it('reads Free System PTEs through PDH as a positive number', async () => {
    const counter = HOST_COUNTERS.find((c) => c.counter === 'Free System Page Table Entries')!;
    const query = await openPdhQuery([counter]);
    try {
      const { series, missing } = mapHostReadings(query.collect(), windowsHostFacts());
      expect(missing).toEqual([]);
      expect(seriesValue(series, 'contention_kernel_table_free_entries', { table: 'system_ptes' })).toBeGreaterThan(0);
    } finally {
      query.close();
    }
  });

  it('adds every counter the agent reads or cross-checks by its English path and reads each from the second collection on', async () => {
    const query = await openPdhQuery([...CROSS_CHECKED, ...LIVE_HOST_COUNTERS]);
    try {
      query.collect();
      await sleep(1100);
      const { series, missing } = mapHostReadings(query.collect(), windowsHostFacts());
      expect(missing).toEqual([]);
      const value = (metric: Parameters<typeof seriesValue>[1], labels = {}) => seriesValue(series, metric, labels)!;
      expect(value('contention_kernel_pool_bytes', { pool: 'paged' })).toBeGreaterThan(MiB);
      expect(value('contention_kernel_pool_bytes', { pool: 'nonpaged' })).toBeGreaterThan(MiB);
      expect(value('contention_memory_commit_bytes')).toBeLessThanOrEqual(value('contention_memory_commit_limit_bytes'));
      expect(value('contention_memory_available_bytes')).toBeLessThan(value('contention_memory_physical_bytes'));
      expect(value('contention_cpu_utilization_ratio')).toBeGreaterThanOrEqual(0);
      expect(series.filter((s) => s.metric === 'contention_disk_queue_length').length).toBeGreaterThanOrEqual(1);
    } finally {
      query.close();
    }
  });

  it("reads from SystemPerformanceInformation what PDH's Memory object reports, in the same moment", async () => {
    // PerfMon computes these counters from the same kernel call (times the page size), so the only
    // difference is what changed between the reads: each figure is read between two PDH collections
    // and must lie within their range, widened by what a busy runner moves in a few milliseconds.
    const query = await openPdhQuery(CROSS_CHECKED.filter((c) => c.object === 'Memory'));
    const reader = await openPerformanceReader();
    try {
      const families = [
        ['contention_memory_commit_limit_bytes', {}, 'commitLimitBytes', 0.001, 0],
        ['contention_memory_commit_bytes', {}, 'committedBytes', 0.02, 64 * MiB],
        ['contention_memory_available_bytes', {}, 'availableBytes', 0.05, 128 * MiB],
        ['contention_kernel_pool_bytes', { pool: 'paged' }, 'pagedPoolBytes', 0.05, 8 * MiB],
        ['contention_kernel_pool_bytes', { pool: 'nonpaged' }, 'nonPagedPoolBytes', 0.05, 8 * MiB],
        ['contention_kernel_table_free_entries', { table: 'system_ptes' }, 'freeSystemPtes', 0.01, 1024],
      ] as const;
      const before = families.map(([metric, labels]) => pdhValue(query, metric, labels)!);
      const figures = reader.read();
      const after = families.map(([metric, labels]) => pdhValue(query, metric, labels)!);
      families.forEach(([metric, , field, share, floor], i) => {
        const low = Math.min(before[i]!, after[i]!);
        const high = Math.max(before[i]!, after[i]!);
        const slack = Math.max(high * share, floor);
        expect(figures[field], `${metric} ${JSON.stringify(families[i]![1])}`).toBeGreaterThanOrEqual(low - slack);
        expect(figures[field], `${metric} ${JSON.stringify(families[i]![1])}`).toBeLessThanOrEqual(high + slack);
      });
      expect(figures.freeSystemPtes).toBeGreaterThan(0);
    } finally {
      query.close();
    }
  });

  it("counts the processor queue from ready threads as PDH's Processor Queue Length does, on a loaded runner", async () => {
    // Both are instantaneous counts taken a few milliseconds apart, so single readings differ; their
    // means over 20 pairs, with twice as many spinning children as CPUs, must agree within 2 threads
    // or half the mean, whichever is more.
    const cpus = windowsHostFacts().cpus;
    const hogs = await Promise.all(Array.from({ length: cpus * 2 }, () => startChild(SCRIPTS.hog())));
    const query = await openPdhQuery(CROSS_CHECKED.filter((c) => c.counter === 'Processor Queue Length'));
    const ready = await openReadyQueue();
    try {
      const pdh: number[] = [];
      const native: number[] = [];
      for (let i = 0; i < 20; i++) {
        pdh.push(pdhValue(query, 'contention_cpu_queue_length')!);
        native.push(ready.read());
        await sleep(250);
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(native)).toBeGreaterThan(0);
      expect(Math.abs(mean(native) - mean(pdh))).toBeLessThanOrEqual(Math.max(2, 0.5 * Math.max(mean(native), mean(pdh))));
    } finally {
      ready.close();
      query.close();
      for (const h of hogs) h.kill();
    }
  });

  it('sees this process grow in private bytes when it allocates, as the native process list reads it', async () => {
    const before = (await rowOf(process.pid))!;
    expect(before.imageName.toLowerCase()).toBe('node.exe');
    const held = Buffer.alloc(256 * MiB, 1); // written, so committed and resident
    const after = (await rowOf(process.pid))!;
    expect(after.startTime).toBe(before.startTime);
    expect(after.privateBytes - before.privateBytes).toBeGreaterThan(200 * MiB);
    expect(held.at(-1)).toBe(1);
  });

  it('runs the Windows collectors under the same names and metrics as on Linux, criteria included', async () => {
    const child = await startChild(SCRIPTS.idle());
    const result = parseConfigText(
      `criteria:\n  - name: marked\n    include: [{ cmdline: "${child.token}" }]\n  - name: node\n    include: [{ name: "node.exe" }]\n`,
      'test.yaml',
    );
    if (!result.ok) throw new Error(result.errors.join('\n'));
    const runtime = createOneShotSampler(result.config, windowsPlatform, createLogger('error', 'json'));
    try {
      await runtime.sampler.sampleOnce();
      await sleep(1100);
      const sample: Sample = await runtime.sampler.sampleOnce();
      expect(sample.collectors.filter((c) => c.status !== 'ok')).toEqual([]);
      expect(sample.collectors.map((c) => c.name).sort()).toEqual(['cpu', 'disk_queue', 'host_info', 'kernel_pools', 'kernel_tables', 'memory', 'processes']);
      expect(valueOf(sample, 'contention_kernel_table_free_entries', { table: 'system_ptes' })).toBeGreaterThan(0);
      expect(valueOf(sample, 'contention_kernel_pool_limit_bytes', { pool: 'nonpaged', source: 'estimate' })).toBeGreaterThan(0);
      expect(valueOf(sample, 'contention_memory_commit_limit_enforced')).toBe(1);
      expect(valueOf(sample, 'contention_reading_source_info', { family: 'contention_memory_commit_bytes', source: 'SystemPerformanceInformation' })).toBe(1);
      expect(valueOf(sample, 'contention_reading_source_info', { family: 'contention_cpu_queue_length', source: 'SystemProcessInformation' })).toBe(1);
      expect(valueOf(sample, 'contention_cpu_queue_length_peak')).toBeGreaterThanOrEqual(0);
      expect(sample.families.has('contention_pressure_stalled_seconds_total')).toBe(false);
      const me = sample.facts.processes?.rows.find((r) => r.pid === process.pid);
      expect(me).toMatchObject({ comm: 'node', processGroup: 'node' });
      expect(me!.exe.toLowerCase().endsWith('\\node.exe')).toBe(true);
      expect(me!.user).toContain('\\');
      // The command line is read too, so cmdline criteria match on Windows as on Linux.
      const marked = sample.facts.processes?.rows.find((r) => r.pid === child.pid);
      expect(marked?.processGroup).toBe('marked');
      expect(marked?.cmdline).toContain(child.token);
      expect(marked?.argv0.toLowerCase().endsWith('node.exe')).toBe(true);
    } finally {
      runtime.stop();
      child.kill();
    }
  });

  it('stops a real child only when its start time matches the decision, on the handle it checked', async () => {
    const child = await startChild(SCRIPTS.idle());
    const row = (await rowOf(child.pid))!;
    expect(await terminateVerified(child.pid, row.startTime + 1000)).toBe('mismatch');
    expect(alive(child.pid)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.proc.once('exit', (code) => resolve(code)));
    expect(await terminateVerified(child.pid, row.startTime)).toBe('stopped');
    expect(await exited).toBe(1);
    expect(alive(child.pid)).toBe(false);
    expect(await terminateVerified(child.pid, row.startTime)).toBe('gone');
  });

  it('gives the policy engine the same verified stop and a priority change only for the process decided on', async () => {
    const control = await createWindowsProcessControl();
    const child = await startChild(SCRIPTS.idle());
    const row = (await rowOf(child.pid))!;
    const target = { pid: child.pid, startTime: row.startTime, exe: row.exe };
    expect(control.setPriority({ ...target, startTime: row.startTime + 1000 }, 10)).toBe('mismatch');
    expect(control.setPriority(target, 10)).toBe('set');
    expect(control.priority(target)).toBe(10);
    expect(await control.terminate({ ...target, startTime: row.startTime + 1000 }, 0)).toBe('mismatch');
    expect(await control.terminate(target, 0)).toBe('stopped');
    expect(control.priority(target)).toBeUndefined();
  });

  it('trims the working set of a real child that holds touched memory', async () => {
    const child = await startChild(`const held = Buffer.alloc(200 * 1024 * 1024, 1); console.log('ready'); setInterval(() => held[0]++, 1e6);`);
    try {
      const before = (await rowOf(child.pid))!;
      expect(before.workingSetBytes).toBeGreaterThan(150 * MiB);
      expect(await trimWorkingSet(child.pid, before.startTime + 1000)).toBe('mismatch');
      expect(await trimWorkingSet(child.pid, before.startTime)).toBe('trimmed');
      const after = (await rowOf(child.pid))!;
      expect(after.workingSetBytes).toBeLessThan(before.workingSetBytes / 2);
      expect(after.privateBytes).toBeGreaterThan(150 * MiB); // trimmed, not freed
    } finally {
      child.kill();
    }
  });

  it('writes a policy decision to the Application log under a registered source', async () => {
    const source = `contention-agent-test-${randomBytes(4).toString('hex')}`;
    const key = `HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\${source}`;
    const messages = '%SystemRoot%\\Microsoft.NET\\Framework64\\v4.0.30319\\EventLogMessages.dll';
    execFileSync('reg.exe', ['add', key, '/v', 'EventMessageFile', '/t', 'REG_EXPAND_SZ', '/d', messages, '/f']);
    execFileSync('reg.exe', ['add', key, '/v', 'TypesSupported', '/t', 'REG_DWORD', '/d', '7', '/f']);
    const errors: Error[] = [];
    const log = openEventLog((err) => errors.push(err), source);
    try {
      log.write({ kind: 'policy', decision: { policy: 'ci', action: 'stop', outcome: 'stopped', pid: 4242, name: 'leaky', reason: source } });
      let found = '';
      for (let i = 0; i < 20 && !found.includes(source); i++) {
        await sleep(500);
        found = execFileSync('wevtutil.exe', ['qe', 'Application', `/q:*[System[Provider[@Name='${source}'] and (EventID=3001)]]`, '/c:1', '/rd:true', '/f:text'], { encoding: 'utf8' });
      }
      expect(errors).toEqual([]);
      expect(found).toContain('Policy ci: stop leaky (pid 4242): stopped.');
      expect(found).toMatch(/Level:\s+Warning/);
    } finally {
      log.close();
      execFileSync('reg.exe', ['delete', key, '/f']);
    }
  });
});
