import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { policyActionView } from '../../agent/http/state.js';
import { waitFor } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';
import { alive, auditOf, childCriteria, counter, exitWithin, holdFds, startEngine } from '../helpers/engine.js';

const MiB = 2 ** 20;
afterEach(async () => {
  killAllChildren();
});

describe('policy enforcement on real processes', () => {
  it('stops a leaking child once it has been over max_committed_memory for `for`, not before, and leaves evidence', async () => {
    const child = await startChild(SCRIPTS.leak(2, 50));
    const running = await startEngine(`criteria:
${childCriteria('leaky', child.token)}policies:
  - name: guard
    allocations:
      - criteria: leaky
        max_committed_memory: { limit: 80MiB, action: stop, for: 2s }
active_policy: guard
enforcement: { stop_grace: 2s }
`);
    const exitedAt = await exitWithin(child.proc, 30_000);
    expect(exitedAt, 'the leaking child was stopped').toBeDefined();
    await waitFor(() => auditOf(running, 'stop').length === 1, 5000, 'the stop audit line');
    const [entry] = auditOf(running, 'stop');
    expect(entry).toMatchObject({ policy: 'guard', criteria: 'leaky', pid: child.pid, process: 'node', measure: 'committed_memory', limit: 80 * MiB, outcome: 'stopped' });
    expect(entry!.start_time).toEqual(expect.any(Number));
    expect(entry!.exe).toBe(process.execPath);

    // Not before: the signal went out no earlier than `for` after the limit was first seen exceeded,
    // and in between the child was seen over the limit and still running.
    const since = Date.parse(String(entry!.exceeded_since));
    const stopping = running.logs().find((l) => l.msg === 'policy stopping a process')!;
    expect(Date.parse(String(stopping.time)) - since).toBeGreaterThanOrEqual(2000);
    expect(exitedAt! - since).toBeGreaterThanOrEqual(2000);
    const overAndAlive = running.samples().filter((s) => s.timestamp >= since && s.timestamp < since + 2000)
      .map((s) => s.facts.processes!.rows.find((r) => r.pid === child.pid))
      .filter((r) => r !== undefined && r.privateBytes > 80 * MiB);
    expect(overAndAlive.length).toBeGreaterThan(0);

    const evidence = String(entry!.evidence);
    for (const file of ['status', 'smaps_rollup', 'limits', 'cmdline', 'fd_count', 'decision.json', 'history.json']) {
      expect(existsSync(join(evidence, file)), file).toBe(true);
    }
    expect(readFileSync(join(evidence, 'cmdline'), 'utf8')).toContain(child.token);
    expect(readFileSync(join(evidence, 'status'), 'utf8')).toMatch(new RegExp(`^Pid:\\s+${child.pid}$`, 'm'));
    const history = JSON.parse(readFileSync(join(evidence, 'history.json'), 'utf8')) as { measure: string; points: Array<{ t: number; v: number }> };
    expect(history.measure).toBe('committed_memory');
    expect(history.points.length).toBeGreaterThan(1);
    expect(history.points.at(-1)!.v).toBeGreaterThan(80 * MiB);

    await waitFor(() => counter(running, 'contention_policy_actions_total', { action: 'stop', outcome: 'stopped' }) === 1, 5000, 'the stop counter');
    expect(counter(running, 'contention_policy_violations_total', { policy: 'guard', criteria: 'leaky', measure: 'committed_memory' })).toBe(1);
  });

  it('with action log, the child lives and the violation is logged, counted, alerted and audited once', async () => {
    const child = await startChild(SCRIPTS.leak(2, 50));
    const running = await startEngine(`criteria:
${childCriteria('leaky', child.token)}policies:
  - name: watch
    allocations:
      - criteria: leaky
        max_committed_memory: { limit: 80MiB, action: log, for: 1s }
active_policy: watch
enforcement: {}
`);
    await waitFor(() => auditOf(running, 'log').length > 0, 30_000, 'the log audit line');
    const samplesAtLog = running.samples().length;
    await waitFor(() => running.samples().length >= samplesAtLog + 3, 10_000, 'three more samples');
    expect(alive(child)).toBe(true);
    expect(auditOf(running, 'log')).toEqual([expect.objectContaining({ pid: child.pid, outcome: 'logged', measure: 'committed_memory' })]);
    expect(running.logs().filter((l) => l.msg === 'policy limit exceeded' && l.pid === child.pid)).toHaveLength(1);
    expect(counter(running, 'contention_policy_violations_total', { policy: 'watch', criteria: 'leaky', measure: 'committed_memory' })).toBe(1);
    expect(counter(running, 'contention_policy_actions_total', { action: 'log', outcome: 'logged' })).toBe(1);
    const [alert] = running.engine.alerts();
    expect(alert).toMatchObject({ state: 'firing', source: 'policy', labels: { alertname: 'PolicyLimitExceeded', pid: String(child.pid), measure: 'committed_memory' } });
    expect(alert!.annotations.summary).toMatch(/logged \(action log\)$/);
    expect(existsSync(new URL(`../../${alert!.annotations.runbook_url}`, import.meta.url))).toBe(true);
    expect(running.engine.recentActions()[0]).toMatchObject({ kind: 'limit', action: 'log', outcome: 'logged', policy: 'watch', violation: { subject: { pid: child.pid } } });
    expect(policyActionView(running.engine.recentActions()[0]!)).toMatchObject({ pid: child.pid, action: 'log', outcome: 'logged', policy: 'watch', measure: 'committed_memory' });
  });

  it('kills a child that ignores SIGTERM once the grace has passed', async () => {
    const child = await startChild(holdFds(40, true));
    const running = await startEngine(`criteria:
${childCriteria('stubborn', child.token)}policies:
  - name: guard
    allocations:
      - criteria: stubborn
        max_handles: { limit: 30, action: stop }
active_policy: guard
enforcement: { stop_grace: 1500ms }
`);
    const exitedAt = await exitWithin(child.proc, 30_000);
    expect(child.proc.signalCode).toBe('SIGKILL');
    await waitFor(() => auditOf(running, 'stop').length === 1, 5000, 'the stop audit line');
    expect(auditOf(running, 'stop')[0]).toMatchObject({ pid: child.pid, measure: 'handles', outcome: 'killed', grace_seconds: 1.5 });
    const stopping = running.logs().find((l) => l.msg === 'policy stopping a process')!;
    expect(exitedAt! - Date.parse(String(stopping.time))).toBeGreaterThanOrEqual(1500);
  });
});
