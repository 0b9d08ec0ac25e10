import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { enabledCollectors, linuxCollectors, windowsCollectors } from '../../agent/collectors/registry.js';
import { currentPlatform } from '../../agent/platform/platform.js';
import { COLLECTOR_NAMES } from '../../agent/collectors/names.js';
import { windowsCpuCollector } from '../../agent/collectors/windows/cpu.js';
import { windowsDiskQueueCollector } from '../../agent/collectors/windows/disk-queue.js';
import { windowsKernelPoolsCollector } from '../../agent/collectors/windows/kernel-pools.js';
import { windowsKernelTablesCollector } from '../../agent/collectors/windows/kernel-tables.js';
import { windowsMemoryCollector } from '../../agent/collectors/windows/memory.js';
import { configSchema } from '../../agent/config/schema.js';
import { processCatalog } from '../../agent/metrics/catalog-processes.js';
import { windowsCatalog } from '../../agent/metrics/catalog-windows.js';
import type { MetricName } from '../../agent/metrics/catalog.js';
import { LIVE_HOST_COUNTERS } from '../../agent/platform/windows/counters.js';
import { mapHostReadings } from '../../agent/platform/windows/pdh-values.js';

const pdhCollectors = [windowsKernelTablesCollector, windowsKernelPoolsCollector, windowsMemoryCollector, windowsCpuCollector, windowsDiskQueueCollector];

describe('collectors by OS', () => {
  it('runs every collector on Linux', () => {
    expect(Object.keys(currentPlatform('linux').collectors).sort()).toEqual([...COLLECTOR_NAMES].sort());
    expect(currentPlatform('linux').collectors).toBe(linuxCollectors);
  });

  it('runs the same names on Windows, pressure stall left out rather than failing', () => {
    expect(currentPlatform('win32').collectors).toBe(windowsCollectors);
    expect(Object.keys(windowsCollectors).sort()).toEqual(COLLECTOR_NAMES.filter((n) => n !== 'pressure').sort());
    for (const [name, spec] of Object.entries(windowsCollectors)) expect(spec.name).toBe(name);
  });

  it('lets the config switch Windows collectors by the same names, and ignores one Windows does not have', () => {
    const config = configSchema.parse({ collectors: { pressure: true, disk_queue: false } });
    const names = enabledCollectors(config, windowsCollectors).map((c) => c.name);
    expect(names).not.toContain('pressure');
    expect(names).not.toContain('disk_queue');
    expect(names).toContain('processes');
    expect(enabledCollectors(config, linuxCollectors).map((c) => c.name)).toContain('pressure');
  });
});

describe('the Windows PDH collectors', () => {
  it('read every live counter of the shared map, each family from one collector only', () => {
    const owners = new Map<MetricName, string>();
    for (const c of pdhCollectors) for (const m of c.metrics) {
      expect(owners.get(m), m).toBeUndefined();
      owners.set(m, c.name);
    }
    for (const counter of LIVE_HOST_COUNTERS) expect(owners.has(counter.family.metric), counter.counter).toBe(true);
  });

  it('share one host collection between them without loss: every mapped series has its collector', () => {
    const readings = LIVE_HOST_COUNTERS.map((counter) => ({
      counter,
      items: counter.instances === 'each' ? [{ instance: '0 C:', status: 0, value: 2 }] : [{ instance: '', status: 0, value: 5 }],
    }));
    const { series } = mapHostReadings(readings, { physicalBytes: 32 * 2 ** 30, cpus: 8 });
    const owned = new Set(pdhCollectors.flatMap((c) => c.metrics));
    expect(series.filter((s) => !owned.has(s.metric)).map((s) => s.metric)).toEqual([]);
  });
});

describe('docs/metrics.md on Windows', () => {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  const windowsColumn = new Map(
    [...doc.matchAll(/^\| `(contention_[a-z0-9_]+)` \|(.*)\|\s*$/gm)].map((m) => [m[1]!, m[2]!.split(' | ')[4]?.trim() ?? '']),
  );
  const exported = new Set<string>([
    ...pdhCollectors.flatMap((c) => c.metrics),
    'contention_cpu_queue_length_peak',
    'contention_disk_queue_length_peak',
    ...Object.keys(processCatalog),
    ...Object.keys(windowsCatalog),
  ]);

  it('names a Windows source for every family the Windows collectors export', () => {
    for (const metric of exported) {
      expect(windowsColumn.get(metric), metric).toBeDefined();
      expect(windowsColumn.get(metric), metric).not.toMatch(/^none/);
    }
  });

  it('says none for Windows only where no Windows collector exports the family', () => {
    for (const [metric, source] of windowsColumn) if (/^none/.test(source) && metric.startsWith('contention_')) expect(exported.has(metric), metric).toBe(false);
  });
});

describe.runIf(process.platform !== 'win32')('the Windows collectors off Windows', () => {
  it('fail each sample with the reason instead of hanging or exporting nothing silently', async () => {
    const { startPdhQueueWatch } = await import('../../agent/platform/windows/queue-watch.js');
    const queueWatch = startPdhQueueWatch(1, () => ({ physicalBytes: 2 ** 30, cpus: 1 }));
    const ctx = { config: configSchema.parse({}), procfs: '/proc', sysfs: '/sys', queueWatch };
    const sink = { set: () => undefined, publish: () => undefined };
    try {
      for (const spec of Object.values(windowsCollectors)) {
        if (spec.name === 'host_info') continue; // the os module works everywhere
        const collector = spec.create(ctx);
        await expect(Promise.resolve(collector.update(sink)), spec.name).rejects.toThrow(`not available on ${process.platform}`);
        collector.stop?.();
      }
      expect(queueWatch.takeCpuPeak()).toBeUndefined();
    } finally {
      queueWatch.stop();
    }
  });
});
