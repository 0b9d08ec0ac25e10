import { describe, expect, it } from 'vitest';
import { processesCollectorOver } from '../../agent/collectors/processes.js';
import { defaultConfig } from '../../agent/config/load.js';
import { createLogger } from '../../agent/log.js';
import type { Sink } from '../../agent/metrics/sample.js';
import { createExpositionRenderer } from '../../agent/sampler/exposition.js';
import { createSampler } from '../../agent/sampler/sampler.js';
import { parseExposition } from '../helpers/agent.js';
import { processRow } from '../helpers/builders.js';

const log = createLogger('error', 'json');

/** The real sampler and renderer around the given collectors: what the agent serves. */
function serve(collectors: Array<{ name: string; update: (sink: Sink) => void | Promise<void> }>) {
  const sampler = createSampler({
    collectors: collectors.map((c) => ({ spec: { name: c.name }, instance: { update: c.update } })),
    renderer: createExpositionRenderer({ processMetrics: false }),
    intervalSeconds: 5,
    log,
  });
  return async () => {
    const sample = await sampler.sampleOnce();
    return { sample, series: parseExposition(sampler.latest()!.exposition.text) };
  };
}

describe('one bad value fails that value, never the exposition', () => {
  it('a negative counter is dropped and counted; the rest of the sample is served', async () => {
    const take = serve([
      {
        name: 'cpu',
        update(sink) {
          sink.set('contention_cpu_seconds_total', { mode: 'user' }, -5);
          sink.set('contention_cpu_seconds_total', { mode: 'system' }, 12);
          sink.set('contention_memory_available_bytes', {}, 1e26);
          sink.set('contention_memory_physical_bytes', {}, 8 * 2 ** 30);
        },
      },
    ]);
    const { series } = await take();
    expect(series.filter((s) => s.name === 'contention_cpu_seconds_total').map((s) => s.labels.mode)).toEqual(['system']);
    expect(series.find((s) => s.name === 'contention_memory_available_bytes')).toBeUndefined();
    expect(series.find((s) => s.name === 'contention_memory_physical_bytes')?.value).toBe(8 * 2 ** 30);
    const rejected = Object.fromEntries(series.filter((s) => s.name === 'contention_sample_values_rejected_total').map((s) => [s.labels.family, s.value]));
    expect(rejected).toEqual({ contention_cpu_seconds_total: 1, contention_memory_available_bytes: 1 });
    // Counted across samples.
    const again = await take();
    expect(again.series.find((s) => s.name === 'contention_sample_values_rejected_total' && s.labels.family === 'contention_cpu_seconds_total')?.value).toBe(2);
  });

  it('a collector that fails half-way exports nothing of that sample, only its failure', async () => {
    const take = serve([
      {
        name: 'memory',
        update(sink) {
          sink.set('contention_memory_available_bytes', {}, 0);
          throw new Error('meminfo vanished half-way');
        },
      },
    ]);
    const { series } = await take();
    expect(series.find((s) => s.name === 'contention_memory_available_bytes')).toBeUndefined();
    expect(series.find((s) => s.name === 'contention_collector_success' && s.labels.collector === 'memory')?.value).toBe(0);
  });

  it('a process row with negative CPU time or 1e26 bytes is skipped and counted, never grouped, exported or handed to a policy', async () => {
    const rows = [
      processRow({ pid: 100, comm: 'good', cpuSeconds: 3 }),
      processRow({ pid: 101, comm: 'negcpu', cpuSeconds: -1 }),
      processRow({ pid: 102, comm: 'huge', privateBytes: 1e26 }),
    ];
    const spec = processesCollectorOver(() => ({ read: async () => ({ rows, errors: new Map() }) }));
    const instance = spec.create({ config: defaultConfig(), procfs: '/proc', sysfs: '/sys', queueWatch: undefined as never });
    const take = serve([{ name: 'processes', update: (sink) => instance.update(sink) }]);
    const { sample, series } = await take();
    expect(sample.facts.processes?.rows.map((r) => r.pid)).toEqual([100]);
    expect(series.filter((s) => s.name === 'contention_process_group_processes').map((s) => s.labels.group)).toEqual(['good']);
    expect(series.find((s) => s.name === 'contention_process_read_errors_total' && s.labels.reason === 'out_of_range')?.value).toBe(2);
    expect(series.find((s) => s.name === 'contention_collector_success')?.value).toBe(1);
  });
});
