import { describe, expect, it } from 'vitest';
import { createExpositionRenderer } from '../../agent/sampler/exposition.js';
import type { Sample } from '../../agent/metrics/sample.js';

const sample = (families: Record<string, Array<{ labels: Record<string, string>; value: number }>>, timestamp = 1_000): Sample =>
  ({ timestamp, families: new Map(Object.entries(families)), collectors: [], facts: {} }) as unknown as Sample;

describe('the exposition', () => {
  it('renders no value for a family the sample has no series of, instead of a made-up 0', async () => {
    const render = createExpositionRenderer({ processMetrics: false });
    const first = await render.render(sample({ contention_memory_available_bytes: [{ labels: {}, value: 6_143_213_568 }], contention_cpus: [{ labels: {}, value: 4 }] }));
    expect(first.text).toMatch(/^contention_memory_available_bytes 6143213568$/m);
    // The memory collector failed this time: its label-less gauge must vanish, not read 0.
    const second = await render.render(sample({ contention_cpus: [{ labels: {}, value: 4 }] }, 2_000));
    expect(second.text).not.toMatch(/contention_memory_available_bytes/);
    expect(second.text).not.toMatch(/contention_cpu_blocked_tasks/);
    expect(second.text).toMatch(/^contention_cpus 4$/m);
  });

  it('keeps the catalog order and the agent\'s own process metrics', async () => {
    const render = createExpositionRenderer();
    const { text } = await render.render(sample({ contention_cpus: [{ labels: {}, value: 2 }], contention_memory_available_bytes: [{ labels: {}, value: 1 }] }));
    const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    // The catalog lists memory before CPU; the sample held them the other way round.
    expect(names.slice(0, 2)).toEqual(['contention_memory_available_bytes', 'contention_cpus']);
    expect(names.slice(2)).toEqual(['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'process_start_time_seconds']);
  });
});
