import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExposition, startAgent, waitFor, writeConfig } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';
import { childCriteria, holdFds } from '../helpers/engine.js';

afterAll(killAllChildren);

describe('policies in the running agent', () => {
  it('keeps the running policy and its clocks through bad reloads, and stops on the original clock', async () => {
    const child = await startChild(holdFds(40));
    const dir = mkdtempSync(join(tmpdir(), 'ca-policy-agent-'));
    const head = `sampling: { interval: 500ms, queue_interval: 250ms }
criteria:
${childCriteria('kid', child.token)}${childCriteria('kid2', `${child.token}-none`)}`;
    // Not a test of dumps: none before the stop (a gcore of a Node child writes about 1 GB).
    const enforcement = `capture: { before_stop: false }\nenforcement: { stop_grace: 1s, audit_log: { path: ${join(dir, 'audit.jsonl')} }, evidence_dir: ${join(dir, 'evidence')} }\n`;
    const good = (extra = '') => `${head}policies:
  - name: guard
    allocations:
      - criteria: kid
        max_handles: { limit: 30, action: stop, for: 8s }
${extra}active_policy: guard
${enforcement}`;
    const file = writeConfig(good());
    const agent = await startAgent([`--config.file=${file}`]);
    // Listened for from the start: on a busy machine the reloads below can outlast the 8 s clock.
    const exited = new Promise<number>((resolve) => child.proc.once('exit', () => resolve(Date.now())));
    try {
      const active = async () =>
        parseExposition(await (await fetch(`${agent.url}/metrics`)).text()).filter((s) => s.name === 'contention_policy_active' && s.value === 1).map((s) => s.labels.policy);
      await waitFor(async () => (await active()).join() === 'guard', 10_000, 'guard to manage');

      const bad: Array<[string, string, RegExp]> = [
        ['unknown criteria', good().replace('criteria: kid\n', 'criteria: kidd\n'), /policies\[0\]\.allocations\[0\]\.criteria: unknown criteria \W+kidd\W/],
        ['shares over 100%', good('  - { name: more, allocations: [{ criteria: kid, cpu_percent: 60 }, { criteria: kid2, cpu_percent: 50 }] }\n'),
          /policies\[1\]\.allocations: CPU shares of policy \W+more\W+ add up to 110%/],
        ['trim without a cgroup', good().replace('        max_handles', '        max_working_set: { limit: 1GiB, action: trim }\n        max_handles'), /max_working_set\.action: action \W+trim\W+ needs \W+cgroup\W/],
        ['bad cron', `${good()}calendar: [{ cron: "61 * * * *", policy: guard }]\n`, /calendar\[0\]\.cron: expected a cron expression/],
      ];
      const failures = () => agent.logs().split('\n').filter((l) => l.includes('config reload failed'));
      for (const [what, text, error] of bad) {
        writeFileSync(file, text);
        const before = failures().length;
        agent.proc.kill('SIGHUP');
        await waitFor(() => failures().length === before + 1, 10_000, `the ${what} reload to fail`);
        const line = failures().at(-1)!;
        expect(line, what).toContain(file);
        expect(line, what).toMatch(error);
        expect(await active(), what).toEqual(['guard']);
      }

      // A good reload adds a policy; the clock of the child's violation is not restarted by it.
      writeFileSync(file, good('  - { name: spare }\n'));
      agent.proc.kill('SIGHUP');
      await agent.waitForLog(/config reloaded/);
      const reloadedAt = Date.now();
      const exit = await exited;
      const audit = () => readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      await waitFor(() => audit().some((a) => a.action === 'stop' && a.outcome !== 'stopping'), 10_000, 'the stop audit line');
      // The intent, written before the first signal, then the outcome.
      expect(audit().filter((a) => a.action === 'stop').map((a) => a.outcome)).toEqual(['stopping', 'stopped']);
      const stop = audit().find((a) => a.action === 'stop' && a.outcome !== 'stopping')!;
      expect(stop).toMatchObject({ pid: child.pid, outcome: 'stopped', measure: 'handles', policy: 'guard' });
      const since = Date.parse(String(stop.exceeded_since));
      expect(since).toBeLessThan(reloadedAt);
      expect(exit - since).toBeGreaterThanOrEqual(8000);
      expect(await active()).toEqual(['guard']);
      // The violation went to alert delivery as the policy's alert.
      expect(agent.logs()).toMatch(/msg="alert firing" alertname=PolicyLimitExceeded .*source=policy/);

      await waitFor(async () => {
        const state = (await (await fetch(`${agent.url}/api/v1/state`)).json()) as { activePolicy?: string; policyActions: Array<{ pid: number; action: string; outcome: string }> };
        return state.activePolicy === 'guard' && state.policyActions.some((a) => a.pid === child.pid && a.action === 'stop' && a.outcome === 'stopped');
      }, 10_000, 'the stop on the page state');
    } finally {
      await agent.stop();
    }
  });

  it('keeps lowered priorities through a reload and puts them back when the agent exits', async () => {
    const prefix = `ca-hog-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const hogs = await Promise.all(['a', 'b'].map((x) => startChild(SCRIPTS.hog(), `${prefix}-${x}`)));
    const dir = mkdtempSync(join(tmpdir(), 'ca-policy-agent-'));
    const config = (extra = '') => `sampling: { interval: 500ms, queue_interval: 250ms }
criteria:
${childCriteria('hogs', prefix)}policies:
  - name: day
    allocations: [{ criteria: hogs, cpu_percent: 10 }]
${extra}active_policy: day
enforcement: { nice: 9, audit_log: { path: ${join(dir, 'audit.jsonl')} }, evidence_dir: ${join(dir, 'evidence')} }
`;
    const file = writeConfig(config());
    const agent = await startAgent([`--config.file=${file}`]);
    const priorities = () => hogs.map((h) => getPriority(h.pid));
    try {
      await waitFor(() => priorities().every((p) => p === 9), 20_000, 'both hogs lowered');
      writeFileSync(file, config('  - { name: night }\n'));
      agent.proc.kill('SIGHUP');
      await agent.waitForLog(/config reloaded/);
      // Several samples of the new runtime, the first of which has no CPU reading yet.
      const reloaded = agent.logs().length;
      await new Promise((r) => setTimeout(r, 2000));
      expect(agent.logs().slice(reloaded)).not.toMatch(/policy restored a priority/);
      expect(priorities()).toEqual([9, 9]);
    } finally {
      await agent.stop();
    }
    expect(priorities()).toEqual([0, 0]);
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.filter((a) => a.action === 'restore_priority' && a.reason === 'shutdown').map((a) => a.pid).sort()).toEqual(hogs.map((h) => h.pid).sort());
  });
});
