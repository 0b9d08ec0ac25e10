import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { valueOf } from '../../agent/metrics/sample.js';
import { waitFor } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';
import { childCriteria, startEngine } from '../helpers/engine.js';

afterEach(async () => {
  killAllChildren();
});

describe('CPU shares under contention', () => {
  it('lowers two hogs\' priority only while total CPU is at or above 70%, restores it after and on shutdown', async () => {
    const prefix = `ca-hog-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const hogs = await Promise.all(['a', 'b'].map((x) => startChild(SCRIPTS.hog(), `${prefix}-${x}`)));
    const pids = hogs.map((h) => h.pid);
    const running = await startEngine(`criteria:
${childCriteria('hogs', prefix)}policies:
  - name: day
    allocations: [{ criteria: hogs, cpu_percent: 10 }]
active_policy: day
enforcement: { nice: 12 }
`);
    const entries = (action: string) => running.audit().filter((a) => a.action === action && pids.includes(a.pid as number));
    // Two busy children on two CPUs: the host is contended and the hogs hold far more than 10%.
    await waitFor(() => entries('lower_priority').length === 2, 30_000, 'both hogs lowered');
    expect(pids.map((pid) => getPriority(pid))).toEqual([12, 12]);
    for (const e of entries('lower_priority')) {
      expect(e).toMatchObject({ policy: 'day', criteria: 'hogs', outcome: 'set', nice: 12, original_nice: 0 });
      expect(e.cpu_utilization as number).toBeGreaterThanOrEqual(0.7);
    }
    const lowered = running.samples().at(-1)!;
    expect(valueOf(lowered, 'contention_policy_cpu_contended')).toBe(1);
    expect(valueOf(lowered, 'contention_policy_deprioritized_processes', { criteria: 'hogs' })).toBe(2);
    expect(valueOf(lowered, 'contention_policy_cpu_used_ratio', { criteria: 'hogs' })).toBeGreaterThan(0.1);

    // Pausing the hogs ends the contention they caused. The host may still be busy with other work,
    // so the test holds the engine to what it saw: restored in a sample under 70%, or, if every
    // sample since stayed at or above it, still lowered.
    const pausedAt = Date.now();
    for (const h of hogs) h.proc.kill('SIGSTOP');
    await waitFor(() => entries('restore_priority').length === 2, 30_000, 'both hogs restored').catch(() => undefined);
    const restores = entries('restore_priority');
    const after = running.samples().filter((s) => s.timestamp > pausedAt + 100 && s.facts.cpuUtilization !== undefined);
    for (const e of restores) {
      expect(e).toMatchObject({ outcome: 'restored', nice: 0 });
      expect(e.cpu_utilization as number).toBeLessThan(0.7);
    }
    if (restores.length === 2) {
      expect(pids.map((pid) => getPriority(pid))).toEqual([0, 0]);
    } else {
      // Every sample since the pause was contended by other work on the host: nothing may be restored.
      expect(restores).toEqual([]);
      expect(after.map((s) => s.facts.cpuUtilization! >= 0.7)).toEqual(after.map(() => true));
      expect(pids.map((pid) => getPriority(pid))).toEqual([12, 12]);
    }
    // No process was lowered in a sample below the threshold.
    for (const e of running.audit().filter((a) => a.action === 'lower_priority')) expect(e.cpu_utilization as number).toBeGreaterThanOrEqual(0.7);

    // Busy again: lowered again; stopping the engine puts the priority back.
    for (const h of hogs) h.proc.kill('SIGCONT');
    if (restores.length === 2) await waitFor(() => entries('lower_priority').length === 4, 30_000, 'both hogs lowered again');
    await running.stop();
    expect(pids.map((pid) => getPriority(pid))).toEqual([0, 0]);
  });
});
