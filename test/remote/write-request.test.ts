import { describe, expect, it } from 'vitest';
import type { Sample } from '../../agent/metrics/sample.js';
import { toTimeSeries } from '../../agent/remote/series.js';
import { encodeWriteRequest, type TimeSeries } from '../../agent/remote/write-request.js';
import { decodeWriteRequest } from './proto.js';

const asDecoded = (series: readonly TimeSeries[]) =>
  series.map((s) => ({ labels: s.labels.map(([name, value]) => ({ name, value })), samples: s.samples.map((p) => ({ value: p.value, timestamp: p.timestamp })) }));

function sample(timestamp: number, families: Record<string, Array<[Record<string, string>, number]>>): Sample {
  return {
    timestamp,
    families: new Map(Object.entries(families).map(([name, list]) => [name as never, list.map(([labels, value]) => ({ labels, value }))])),
    collectors: [],
    facts: {},
  };
}

describe('the WriteRequest encoder, against protobufjs decoding Prometheus\'s message definitions', () => {
  it('round-trips labels and samples, multi-byte lengths, UTF-8, zero, negative and huge values, and real timestamps', () => {
    const long = 'x'.repeat(300);
    const series: TimeSeries[] = [
      { labels: [['__name__', 'contention_process_group_private_bytes'], ['group', 'w3wp — ünïcödé 进程'], ['instance', 'host-1']], samples: [{ value: 123456789012, timestamp: 1_764_625_000_123 }, { value: 0, timestamp: 1_764_625_005_123 }] },
      { labels: [['__name__', 'contention_growth_per_second'], ['subject', long]], samples: [{ value: -0.25, timestamp: 1 }, { value: Number.MAX_VALUE, timestamp: 2 ** 41 + 7 }] },
      { labels: [['__name__', 'up']], samples: [{ value: 1, timestamp: 0 }] },
      ...Array.from({ length: 200 }, (_, i): TimeSeries => ({ labels: [['__name__', 'm'], ['i', String(i)]], samples: [{ value: i / 3, timestamp: 1_764_625_000_000 + i }] })),
    ];
    const decoded = decodeWriteRequest(encodeWriteRequest(series));
    expect(decoded.timeseries.map(({ labels, samples }) => ({ labels, samples }))).toEqual(asDecoded(series));
    expect(decoded.timeseries.every((s) => (s as { exemplars?: unknown[] }).exemplars?.length === 0)).toBe(true);
  });

  it('encodes an empty request as zero bytes and refuses timestamps before 1970 or not whole milliseconds', () => {
    expect(encodeWriteRequest([]).length).toBe(0);
    expect(() => encodeWriteRequest([{ labels: [['__name__', 'm']], samples: [{ value: 1, timestamp: -1 }] }])).toThrow(/not a non-negative integer/);
    expect(() => encodeWriteRequest([{ labels: [['__name__', 'm']], samples: [{ value: 1, timestamp: 1.5 }] }])).toThrow(/not a non-negative integer/);
  });
});

describe('samples as time series', () => {
  const samples = [
    sample(2000, { contention_cpus: [[{}, 2]], contention_kernel_pool_bytes: [[{ pool: 'vmalloc' }, 10], [{ pool: 'slab_reclaimable' }, 20]] }),
    sample(1000, { contention_cpus: [[{}, 2]], contention_kernel_pool_bytes: [[{ pool: 'vmalloc' }, 9]] }),
  ];

  it('gives each metric and label set one series with its points oldest first, labels sorted by name', () => {
    const series = toTimeSeries(samples, { job: 'contention-agent', instance: 'h1', Zone: 'eu' });
    const byPool = Object.fromEntries(series.map((s) => [s.labels.find(([k]) => k === 'pool')?.[1] ?? s.labels.find(([k]) => k === '__name__')![1], s]));
    expect(byPool.vmalloc!.samples).toEqual([{ value: 9, timestamp: 1000 }, { value: 10, timestamp: 2000 }]);
    expect(byPool.slab_reclaimable!.samples).toEqual([{ value: 20, timestamp: 2000 }]);
    expect(byPool.contention_cpus!.labels).toEqual([['Zone', 'eu'], ['__name__', 'contention_cpus'], ['instance', 'h1'], ['job', 'contention-agent']]);
    expect(series).toHaveLength(3);
  });

  it('lets a series keep its own label where an external label has the same name, and adds extra series per sample', () => {
    const series = toTimeSeries([sample(1000, { contention_host_info: [[{ hostname: 'real', instance: 'own' }, 1]] })], { instance: 'external' }, () => [{ name: 'process_start_time_seconds', value: 42 }]);
    expect(series.map((s) => Object.fromEntries(s.labels))).toEqual([
      { __name__: 'contention_host_info', hostname: 'real', instance: 'own' },
      { __name__: 'process_start_time_seconds', instance: 'external' },
    ]);
  });
});
