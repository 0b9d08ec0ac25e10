import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCollectors } from '../../agent/agent.js';
import { configSchema } from '../../agent/config/schema.js';
import { createLogger } from '../../agent/log.js';
import { linuxPlatform } from '../../agent/platform/platform.js';
import { createExpositionRenderer } from '../../agent/sampler/exposition.js';
import { runPipeline } from '../../agent/sampler/sampler.js';

/**
 * The host collectors' exact exposition over a fixed /proc tree, as node_exporter's
 * collector/fixtures and e2e-output.txt: a changed metric name, label, unit or scale changes the
 * text and fails here. The tree is assembled from the parser tests' captures (test/procfs/fixtures),
 * one capture per file, so each file has one source. Regenerate after a deliberate change with
 * UPDATE_GOLDEN=1 and read the diff.
 */
const TREE: Record<string, string> = {
  meminfo: 'meminfo.txt',
  stat: 'stat.txt',
  loadavg: 'loadavg.txt',
  diskstats: 'diskstats.txt',
  'pressure/cpu': 'pressure-cpu.txt',
  'pressure/memory': 'pressure-memory.txt',
  'pressure/io': 'pressure-io.txt',
  'sys/fs/file-nr': 'file-nr.txt',
  'sys/kernel/pid_max': 'pid_max.txt',
  'sys/kernel/threads-max': 'threads-max.txt',
  'sys/vm/overcommit_memory': 'overcommit_memory.txt',
};
/** Whole disks of the diskstats capture, as /sys/block lists them. */
const BLOCK = ['loop0', 'loop1', 'loop2', 'loop3', 'loop4', 'loop5', 'loop6', 'loop7', 'vda', 'zram0'];
const GOLDEN = new URL('./fixtures/e2e-output.txt', import.meta.url);
const COLLECTORS = ['kernel_tables', 'kernel_pools', 'memory', 'cpu', 'disk_queue', 'pressure'] as const;

const root = mkdtempSync(join(tmpdir(), 'ca-golden-'));
const procfs = join(root, 'proc');
const sysfs = join(root, 'sys');
for (const [path, capture] of Object.entries(TREE)) {
  mkdirSync(dirname(join(procfs, path)), { recursive: true });
  writeFileSync(join(procfs, path), readFileSync(new URL(`../procfs/fixtures/${capture}`, import.meta.url)));
}
for (const disk of BLOCK) mkdirSync(join(sysfs, 'block', disk), { recursive: true });

const collectors = Object.fromEntries(['kernel_tables', 'kernel_pools', 'memory', 'cpu', 'disk_queue', 'pressure', 'host_info', 'processes', 'capture'].map((n) => [n, COLLECTORS.includes(n as never)]));
const config = configSchema.parse({ paths: { procfs, sysfs }, collectors });
const sampling = createCollectors(config, linuxPlatform);
afterAll(() => sampling.stop());

/**
 * The exposition of one sample at a fixed time: the families the sample holds (help, type and
 * series), without the one family that cannot be fixed: how long each collector took.
 */
async function exposition(): Promise<string> {
  const sample = await runPipeline({ collectors: sampling.collectors, intervalSeconds: 5, log: createLogger('error', 'json') }, Date.UTC(2026, 0, 1));
  const text = (await createExpositionRenderer({ processMetrics: false }).render(sample)).text;
  const kept = new Set<string>([...sample.families.keys()].filter((name) => name !== 'contention_collector_duration_seconds'));
  const familyOf = (line: string): string => (line.startsWith('# ') ? line.split(' ')[2]! : line.split(/[{ ]/)[0]!);
  return `${text
    .split('\n')
    .filter((line) => line !== '' && kept.has(familyOf(line)))
    .join('\n')}\n`;
}

describe('the host collectors over a fixture /proc', () => {
  it('export exactly the golden exposition', async () => {
    expect(sampling.collectors.map((c) => c.spec.name)).toEqual([...COLLECTORS]);
    const text = await exposition();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });
});
