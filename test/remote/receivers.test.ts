import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { rawSamples, startPrometheusReceiver, startVictoriaMetrics, type RunningServer } from '../helpers/servers.js';

/** How long both receivers stay down: long enough for many failed requests and backoff at its ceiling. */
const OUTAGE_MS = 30_000;
const INTERVAL_S = 1;

const portOf = (url: string): number => Number(new URL(url).port);

async function exported(agent: RunningAgent, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const series = parseExposition(await (await fetch(`${agent.url}/metrics`)).text());
  return series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Timestamps (s) of the samples a receiver holds of the agent's own sample clock, oldest first. */
async function sampleTimes(url: string, instance: string, seconds: number): Promise<number[]> {
  const result = await rawSamples(url, `contention_last_sample_timestamp_seconds{instance="${instance}"}`, seconds);
  expect(result.length, `one series of ${instance} at ${url}`).toBeLessThanOrEqual(1);
  return (result[0]?.values ?? []).map(([t]) => Number(t));
}

const largestGap = (times: readonly number[]): number => times.slice(1).reduce((max, t, i) => Math.max(max, t - times[i]!), 0);

describe('remote_write to real receivers on loopback: Prometheus (remote-write receiver) and VictoriaMetrics', () => {
  let prometheus: RunningServer;
  let victoria: RunningServer;
  let agent: RunningAgent;
  const instance = 'pushing-host-1';
  let queueRoot: string;

  beforeAll(async () => {
    [prometheus, victoria] = await Promise.all([startPrometheusReceiver(), startVictoriaMetrics()]);
    queueRoot = mkdtempSync(join(tmpdir(), 'ca-rw-'));
    const config = [
      `sampling: { interval: ${INTERVAL_S}s, queue_interval: 1s }`,
      'rules: { instance: pushing-host-1 }',
      'external_labels: { site: branch-7 }',
      'remote_write:',
      `  - url: ${prometheus.url}/api/v1/write`,
      '    name: prometheus',
      `    disk_queue: { dir: ${join(queueRoot, 'prometheus')} }`,
      '    queue_config: { batch_send_deadline: 1s, max_backoff: 2s }',
      `  - url: ${victoria.url}/api/v1/write`,
      '    name: victoria',
      `    disk_queue: { dir: ${join(queueRoot, 'victoria')} }`,
      '    queue_config: { batch_send_deadline: 1s, max_backoff: 2s }',
    ].join('\n');
    agent = await startAgent([`--config.file=${writeConfig(config)}`]);
  });
  afterAll(async () => {
    await agent?.stop();
    await Promise.all([prometheus?.stop(), victoria?.stop()]);
  });

  it('delivers every series of a sample with job, instance and the external labels, to both', async () => {
    for (const receiver of [prometheus, victoria]) {
      await waitFor(async () => (await sampleTimes(receiver.url, instance, 60)).length >= 3, 30_000, `samples at ${receiver.url}`);
    }
    // Per-process series come and go with the processes of the top set (the other test files' children
    // among them), and a receiver counts every one pushed in its lookback: those are left out here.
    const scraped = parseExposition(await (await fetch(`${agent.url}/metrics`)).text()).filter((s) => s.name.startsWith('contention_') && s.labels.pid === undefined);
    for (const receiver of [prometheus, victoria]) {
      const res = await fetch(`${receiver.url}/api/v1/query?query=${encodeURIComponent(`count({instance="${instance}", __name__=~"contention_.+", pid=""})`)}`);
      const count = Number(((await res.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1]);
      // The pushed series are the sample's series; a group that comes and goes may differ by a few.
      expect(count, receiver.url).toBeGreaterThan(scraped.length * 0.9);
      expect(count, receiver.url).toBeLessThan(scraped.length * 1.1 + 5);
      const info = await rawSamples(receiver.url, `contention_host_info{instance="${instance}"}`, 60);
      expect(info[0]?.metric, receiver.url).toMatchObject({ job: 'contention-agent', instance, site: 'branch-7', os: 'linux' });
      const start = await rawSamples(receiver.url, `process_start_time_seconds{instance="${instance}"}`, 60);
      expect(start.length, `${receiver.url}: the agent's start time, for restart annotations`).toBe(1);
    }
    expect(await exported(agent, 'contention_remote_write_samples_sent_total', { remote: 'prometheus' })).toBeGreaterThan(0);
    expect(await exported(agent, 'contention_remote_write_samples_sent_total', { remote: 'victoria' })).toBeGreaterThan(0);
  });

  it('survives both receivers stopped for 30 s: the disk queue holds the samples and the received series has no gap', async () => {
    const before = Date.now();
    const at = { prometheus: { port: portOf(prometheus.url), dir: prometheus.dir }, victoria: { port: portOf(victoria.url), dir: victoria.dir } };
    await Promise.all([prometheus.stop(), victoria.stop()]);
    const down = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    // Meanwhile the agent queued on disk and kept failing, without dropping anything.
    for (const remote of ['prometheus', 'victoria']) {
      expect(await exported(agent, 'contention_remote_write_failures_total', { remote }), remote).toBeGreaterThan(3);
      expect(await exported(agent, 'contention_remote_write_queue_samples', { remote }), remote).toBeGreaterThan(0);
    }
    // Scrapes kept being served fresh meanwhile: sampling did not wait for the network.
    const last = await exported(agent, 'contention_last_sample_timestamp_seconds', {});
    expect(Date.now() / 1000 - last!).toBeLessThan(3 * INTERVAL_S + 2);
    [prometheus, victoria] = await Promise.all([startPrometheusReceiver(at.prometheus), startVictoriaMetrics(at.victoria)]);
    const up = Date.now();
    for (const remote of ['prometheus', 'victoria']) {
      await waitFor(async () => (await exported(agent, 'contention_remote_write_queue_samples', { remote })) === 0, 30_000, `the ${remote} queue to drain`);
    }
    const span = Math.ceil((Date.now() - before) / 1000) + 5;
    for (const receiver of [prometheus, victoria]) {
      let times: number[] = [];
      await waitFor(async () => {
        times = await sampleTimes(receiver.url, instance, span);
        return times.at(-1)! > up / 1000;
      }, 20_000, `samples after the outage at ${receiver.url}`);
      const during = times.filter((t) => t > down / 1000 && t < up / 1000);
      // Every sample taken while the receiver was down arrived: one a second, so no gap wider than two intervals.
      expect(during.length, receiver.url).toBeGreaterThanOrEqual(Math.floor((up - down) / 1000 / INTERVAL_S) - 2);
      expect(largestGap(times.filter((t) => t >= before / 1000)), receiver.url).toBeLessThan(2 * INTERVAL_S + 0.5);
    }
    for (const remote of ['prometheus', 'victoria']) {
      for (const reason of ['memory_full', 'disk_full', 'disk_error', 'rejected']) {
        expect(await exported(agent, 'contention_remote_write_samples_dropped_total', { remote, reason }), `${remote} ${reason}`).toBe(0);
      }
    }
    expect(agent.logs()).toMatch(/remote write failed; retrying/);
    expect(agent.logs()).toMatch(/receiver accepts again/);
  }, 150_000);
});
