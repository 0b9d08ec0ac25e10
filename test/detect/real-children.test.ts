import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExposition, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild, type Child } from '../helpers/children.js';
import { startAlertmanager, type RunningServer } from '../helpers/servers.js';

interface AmAlert {
  startsAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const criteria = (children: Record<string, Child>, suffix = '') =>
  `criteria:\n${Object.entries(children).map(([name, c]) => `  - name: ${name}\n    include: [{ cmdline: "${c.token}${suffix}$" }]\n`).join('')}`;

const suspected = async (agent: RunningAgent) =>
  parseExposition(await (await fetch(`${agent.url}/metrics`)).text()).filter((m) => m.name === 'contention_leak_suspected' && m.value === 1);

afterAll(() => killAllChildren());

// The two tests mostly wait on real time, so they run side by side.
describe('the detector on real children', () => {
  let alertmanager: RunningServer | undefined;
  afterAll(async () => {
    await alertmanager?.stop();
  });

  it.concurrent('flags a child leaking 1 MiB/s within 5 minutes, leaves a GC sawtooth, a warm-up and a busy process alone, keeps its verdict across its own restart, and Alertmanager gets one alert for the leak', async () => {
    alertmanager = await startAlertmanager();
    const children = {
      leaky: await startChild(SCRIPTS.leak(1, 1000)),
      sawtooth: await startChild(SCRIPTS.gcSawtooth()),
      warmup: await startChild(SCRIPTS.warmUp(150)),
      busy: await startChild(SCRIPTS.busy()),
    };
    const started = Date.now();
    const stateDir = mkdtempSync(join(tmpdir(), 'ca-state-'));
    // Detection as shipped; the shipped rules evaluated locally (so the rule's alert is the leak's one alert).
    const config = writeConfig(`${criteria(children)}rules:\n  enabled: true\nalerting:\n  alertmanagers: ["${alertmanager.url}"]\n`);
    const args = [`--config.file=${config}`, `--path.state-dir=${stateDir}`];
    let agent = await startAgent(args);
    try {
      const leak = { subject_kind: 'process', subject: `node ${children.leaky.token}.js[${children.leaky.pid}]`, resource: 'private_bytes' };
      const healthySubjects = ['sawtooth', 'warmup', 'busy'].flatMap((g) => {
        const c = children[g as keyof typeof children];
        return [g, `node ${c.token}.js[${c.pid}]`];
      });
      let flaggedAfter = 0;
      await waitFor(async () => {
        const now = await suspected(agent);
        // Every sample on the way: none of the healthy ones is ever a suspect.
        expect(now.filter((m) => healthySubjects.includes(m.labels.subject!)).map((m) => m.labels.subject)).toEqual([]);
        if (now.some((m) => Object.entries(leak).every(([k, v]) => m.labels[k] === v))) flaggedAfter = Date.now() - started;
        return flaggedAfter > 0;
      }, 5 * 60_000, 'the 1 MiB/s child to be suspected');
      expect(flaggedAfter).toBeLessThan(5 * 60_000);
      // Its group grows by what it leaks: one leak, one suspect.
      expect((await suspected(agent)).filter((m) => m.labels.subject === 'leaky')).toEqual([]);

      // The agent restarts mid-leak: the saved history and verdict state come back, and the verdict stays.
      await agent.stop();
      agent = await startAgent(args);
      expect(agent.logs()).toMatch(/msg="history restored"/);
      const first = await suspected(agent);
      expect(first.filter((m) => m.labels.subject === leak.subject)).toHaveLength(1);

      // One alert for the leak in Alertmanager: the rule's, on the detector's metric, and no other about this child or its group.
      let mine: AmAlert[] = [];
      await waitFor(async () => {
        const all = (await (await fetch(`${alertmanager!.url}/api/v2/alerts`)).json()) as AmAlert[];
        mine = all.filter((a) => a.labels.subject === leak.subject || a.labels.group === 'leaky' || a.labels.subject === 'leaky');
        return mine.length > 0;
      }, 120_000, 'the leak alert in Alertmanager');
      await new Promise((r) => setTimeout(r, 10_000));
      const all = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as AmAlert[];
      mine = all.filter((a) => a.labels.subject === leak.subject || a.labels.group === 'leaky' || a.labels.subject === 'leaky');
      expect(mine.map((a) => a.labels)).toEqual([expect.objectContaining({ alertname: 'LeakSuspected', ...leak, source: 'rules' })]);
      expect((await suspected(agent)).filter((m) => healthySubjects.includes(m.labels.subject!))).toEqual([]);
    } finally {
      await agent.stop();
    }
  }, 10 * 60_000);

  // Compressed clock: 1 s samples, restarts every 30 s.
  it.concurrent('flags the group masked by restarts (a leak that restarts hide, on real processes), with the per-life rate, and leaves a restarted healthy group alone', async () => {
    const leaking = await startChild(SCRIPTS.restartedLeak(30, 1024));
    const healthy = await startChild(SCRIPTS.restartedLeak(30, 0));
    const started = Date.now();
    // The lives test needs no time scale, only lives: at 1 s samples and 30 s lives it sees what the
    // default 5 s samples see of 90 s lives, in a third of the time (`npm run bench:detect-latency` runs that).
    const agent = await startAgent([`--config.file=${writeConfig(`sampling: { interval: 1s }\n${criteria({ recycled: leaking, steady: healthy }, '-worker')}`)}`]);
    try {
      const line = await agent.waitForLog(/msg="alert firing" alertname=LeakSuspected .*summary="process group recycled leaks private_bytes: \+[\d.]+ (MiB|GiB)\/h each life, masked by restarts"/, 5 * 60_000);
      expect(line).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(5 * 60_000);
      const rate = parseExposition(await (await fetch(`${agent.url}/metrics`)).text()).find((m) => m.name === 'contention_growth_bytes_per_second' && m.labels.subject === 'recycled')!.value;
      // 1 MiB/s within each life (the allocations plus the heap's own growth)
      expect(rate / 2 ** 20).toBeGreaterThan(0.7);
      expect(rate / 2 ** 20).toBeLessThan(1.6);
      expect((await suspected(agent)).filter((m) => m.labels.subject === 'steady')).toEqual([]);
      expect(agent.logs()).not.toMatch(/alertname=LeakSuspected .*summary="process group steady/);
    } finally {
      await agent.stop();
    }
  }, 6 * 60_000);
});
