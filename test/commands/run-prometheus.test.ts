import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { promQuery, startPrometheus, type RunningServer } from '../helpers/servers.js';
import { PINNED_HOST_METRICS } from '../helpers/pinned.js';

// Every pinned family, with a label selector where one series should be checked specifically.
const PINNED = PINNED_HOST_METRICS.map(
  (name) =>
    ({
      contention_kernel_table_free_entries: 'contention_kernel_table_free_entries{table="file_handles"}',
      contention_kernel_pool_bytes: 'contention_kernel_pool_bytes{pool="slab_unreclaimable"}',
      contention_pressure_stalled_seconds_total: 'contention_pressure_stalled_seconds_total{resource="memory",scope="some"}',
    })[name] ?? name,
);

describe('a real Prometheus scraping the agent', () => {
  let agent: RunningAgent;
  let prometheus: RunningServer;
  beforeAll(async () => {
    agent = await startAgent([`--config.file=${writeConfig('sampling:\n  interval: 1s\n')}`]);
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${agent.port}`] });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await agent?.stop();
  });

  it('scrapes it healthy and gets a value for every pinned metric', async () => {
    await waitFor(async () => (await promQuery(prometheus.url, 'up{job="contention-agent"} == 1')).length === 1, 20_000, 'the target to be up');
    for (const query of PINNED) {
      await waitFor(async () => (await promQuery(prometheus.url, query)).length > 0, 10_000, `a value for ${query}`);
    }
    const rate = await waitForResult(prometheus.url, 'rate(contention_cpu_seconds_total{mode="idle"}[5s])');
    expect(Number(rate[0]!.value[1])).toBeGreaterThanOrEqual(0);
    const scrape = await promQuery(prometheus.url, 'scrape_samples_scraped{job="contention-agent"}');
    expect(Number(scrape[0]!.value[1])).toBeGreaterThan(PINNED.length);
  });
});

async function waitForResult(url: string, query: string) {
  let result: Awaited<ReturnType<typeof promQuery>> = [];
  await waitFor(async () => (result = await promQuery(url, query)).length > 0, 15_000, `a result for ${query}`);
  return result;
}
