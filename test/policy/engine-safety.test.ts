import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/agent.js';
import { killAllChildren, startChild } from '../helpers/children.js';
import { alive, auditOf, childCriteria, counter, exitWithin, holdFds, startEngine } from '../helpers/engine.js';

afterEach(async () => {
  killAllChildren();
});

describe('policy safety rules on real processes', () => {
  it('leaves a protected child past its limit alive, and the alert says why', async () => {
    const title = `caprot${Math.random().toString(36).slice(2, 8)}`;
    const child = await startChild(`process.title = '${title}'; ${holdFds(40)}`);
    const running = await startEngine(`criteria:
  - name: guarded
    include: [{ name: ${title}, user: root }]
policies:
  - name: guard
    allocations:
      - criteria: guarded
        max_handles: { limit: 30, action: stop }
active_policy: guard
enforcement: { protected: ["caprot*"], stop_grace: 1s }
`);
    await waitFor(() => auditOf(running, 'stop').length > 0, 20_000, 'the refusal audit line');
    expect(auditOf(running, 'stop')).toEqual([expect.objectContaining({ pid: child.pid, outcome: 'refused', reason: 'protected: matches enforcement.protected "caprot*"' })]);
    await waitFor(() => running.engine.alerts().length > 0, 5000, 'the alert');
    expect(running.engine.alerts()[0]!.annotations.summary).toMatch(/not stopped: protected: matches enforcement.protected "caprot\*"/);
    expect(await exitWithin(child.proc, 2000)).toBeUndefined();
    expect(alive(child)).toBe(true);
  });

  it('holds to the stop rate limit: past it, children live and the agent alerts instead', async () => {
    const prefix = `ca-rate-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const children = await Promise.all(['a', 'b', 'c'].map((x) => startChild(holdFds(40), `${prefix}-${x}`)));
    const running = await startEngine(`criteria:
${childCriteria('many', prefix)}policies:
  - name: guard
    allocations:
      - criteria: many
        max_handles: { limit: 30, action: stop }
active_policy: guard
enforcement: { max_stops_per_hour: 1, stop_grace: 1s }
`);
    await waitFor(() => auditOf(running, 'stop').filter((a) => a.outcome === 'stopped').length === 1 && auditOf(running, 'stop').length === 3, 20_000, 'one stop and two refusals');
    const samplesThen = running.samples().length;
    await waitFor(() => running.samples().length >= samplesThen + 4, 10_000, 'four more samples');
    expect(children.filter(alive)).toHaveLength(2);
    const entries = auditOf(running, 'stop');
    expect(entries.map((e) => e.outcome).sort()).toEqual(['rate_limited', 'rate_limited', 'stopped']);
    expect(entries.find((e) => e.outcome === 'rate_limited')!.reason).toMatch(/stop rate limit reached \(1 per policy/);
    const limited = running.engine.alerts().find((a) => a.labels.alertname === 'PolicyStopRateLimited');
    expect(limited?.annotations.summary).toMatch(/holds back stopping pid/);
    expect(existsSync(new URL(`../../${limited!.annotations.runbook_url}`, import.meta.url))).toBe(true);
    expect(counter(running, 'contention_policy_actions_total', { action: 'stop', outcome: 'rate_limited' })).toBe(2);
  });

  it('never acts on the agent itself or its parent (in a dry run, so a broken rule could hurt nothing)', async () => {
    const cmdlineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').split('\0').join(' ');
    const exactly = (text: string) => JSON.stringify(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    const root = process.getuid?.() === 0 ? ', user: root' : '';
    const running = await startEngine(`criteria:
  - { name: self, include: [{ cmdline: ${exactly(cmdlineOf(process.pid))}${root} }] }
  - { name: parent, include: [{ cmdline: ${exactly(cmdlineOf(process.ppid))}${root} }] }
policies:
  - name: guard
    allocations:
      - { criteria: self, max_handles: { limit: 1, action: stop } }
      - { criteria: parent, max_handles: { limit: 1, action: stop } }
active_policy: guard
enforcement: { dry_run: true }
`);
    const reason = (pid: number) => auditOf(running, 'stop').find((a) => a.pid === pid)?.reason;
    await waitFor(() => reason(process.pid) !== undefined && reason(process.ppid) !== undefined, 15_000, 'both refusals');
    expect(reason(process.pid)).toBe('the agent never acts on itself');
    expect(reason(process.ppid)).toBe('the agent never acts on its parent');
    expect(auditOf(running, 'stop').filter((a) => a.pid === process.pid || a.pid === process.ppid).map((a) => a.outcome)).toEqual(['refused', 'refused']);
  });

  it('does not stop a root process unless its criteria names user root', async () => {
    const child = await startChild(holdFds(40));
    const running = await startEngine(`criteria:
  - { name: kid, include: [{ cmdline: ${JSON.stringify(child.token)} }] }
policies:
  - name: guard
    allocations: [{ criteria: kid, max_handles: { limit: 30, action: stop } }]
active_policy: guard
enforcement: { stop_grace: 1s }
`);
    await waitFor(() => auditOf(running, 'stop').length === 1, 15_000, 'the decision');
    const [entry] = auditOf(running, 'stop');
    if (process.getuid?.() === 0) {
      expect(entry).toMatchObject({ pid: child.pid, outcome: 'refused', reason: 'runs as root and criteria "kid" does not name user root' });
      expect(alive(child)).toBe(true);
    } else {
      // Run as another user, the child is not root's, and the same criteria may stop it.
      expect(entry).toMatchObject({ pid: child.pid, outcome: 'stopped' });
    }
  });

  it('in a dry run, says what it would stop and leaves the process running', async () => {
    const child = await startChild(holdFds(40));
    const running = await startEngine(`criteria:
${childCriteria('kid', child.token)}policies:
  - name: guard
    allocations: [{ criteria: kid, max_handles: { limit: 30, action: stop } }]
active_policy: guard
enforcement: { dry_run: true, stop_grace: 1s }
`);
    await waitFor(() => auditOf(running, 'stop').length === 1, 15_000, 'the decision');
    expect(auditOf(running, 'stop')[0]).toMatchObject({ pid: child.pid, outcome: 'dry_run', dry_run: true });
    expect(running.logs().find((l) => l.msg === 'dry run: policy would stop this process')).toMatchObject({ pid: child.pid, measure: 'handles' });
    expect(await exitWithin(child.proc, 1500)).toBeUndefined();
    expect(alive(child)).toBe(true);
  });
});
