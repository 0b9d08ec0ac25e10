import { describe, expect, it } from 'vitest';
import type { Alert } from '../../agent/alerts/alert.js';
import { configSchema } from '../../agent/config/schema.js';
import { createLeakDetector, type LeakDetector } from '../../agent/detect/leak-stage.js';
import type { History } from '../../agent/history/history.js';
import { createHistoryStage } from '../../agent/history/stage.js';
import type { Labels, Sample, SampleFacts, SeriesValue } from '../../agent/metrics/sample.js';
import type { ProcessRow } from '../../agent/process/table.js';
import { processRow, recordingSink, sampleOf, testHistory } from '../helpers/builders.js';

const MiB = 2 ** 20;
const STEP = 5000;
const T0 = 1_700_000_000_000;
const config = configSchema.parse({ detection: { window: '10m', min_window: '5m', max_exported: 3 } });

const newHistory = () => testHistory();

const noise = (i: number, seed = 1) => {
  const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
};

const row = (pid: number, comm: string, privateBytes: number, extra: Partial<ProcessRow> = {}): ProcessRow =>
  processRow({ pid, comm, startTime: T0 - 1000 * pid, privateBytes, workingSetBytes: privateBytes, virtualBytes: privateBytes * 2, threads: 8, cpuSeconds: 1, handles: 40, ...extra });

type Families = Record<string, SeriesValue[]>;

const sampleAt = (i: number, families: Families, facts: SampleFacts = {}): Sample => sampleOf(T0 + i * STEP, families, facts);

/** A detector on its own history, fed as the pipeline feeds it: the history stage records, then the detector judges. */
function detectorOn(history: History = newHistory(), c = config) {
  const detector = createLeakDetector(history, c);
  const recorder = createHistoryStage(history, { watchedProcesses: (rows) => detector.watchedProcesses(rows) });
  return { detector, recorder, history };
}

/** Runs the detector over samples `from` to `from + n - 1` built by `at(i)`; returns the last sample's output and alerts. */
function drive(at: (i: number) => { families: Families; facts?: SampleFacts }, n: number, on = detectorOn(), from = 0) {
  let last = recordingSink();
  const alertsSeen: Alert[][] = [];
  for (let i = from; i < from + n; i++) {
    last = recordingSink();
    const { families, facts } = at(i);
    const sample = sampleAt(i, families, facts);
    on.recorder.recordMeasured(sample, last.sink);
    void on.detector.stage.run(sample, last.sink);
    alertsSeen.push([...on.detector.alerts()]);
  }
  return { out: last.families(), alerts: on.detector.alerts(), alertsSeen, detector: on.detector as LeakDetector };
}

const find = (out: Map<string, Array<{ labels: Labels; value: number }>>, metric: string, labels: Labels) =>
  out.get(metric)?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));

// 15 minutes at 5 s
const N = 180;

describe('the leak detector stage', () => {
  const groups = (i: number): Families => ({
    contention_process_group_private_bytes: [
      // 1 MiB a minute on 200 MiB: a leak
      { labels: { group: 'leaky' }, value: 200 * MiB + (i * STEP * MiB) / 60_000 + 2 * MiB * noise(i) },
      // a garbage collector's sawtooth with a flat floor
      { labels: { group: 'jvm' }, value: 500 * MiB + (i % 20) * 10 * MiB },
      // warmed up long ago, flat with noise
      { labels: { group: 'cache' }, value: 800 * MiB + 5 * MiB * noise(i, 2) },
    ],
    contention_process_group_handles: [{ labels: { group: 'leaky' }, value: 100 }, { labels: { group: 'handly' }, value: 100 + Math.floor(i / 3) }],
  });

  it('says nothing before min_window of history', () => {
    const { out, alerts } = drive((i) => ({ families: groups(i) }), 50);
    expect(out.get('contention_leak_suspected')).toBeUndefined();
    expect(alerts).toEqual([]);
  });

  it('flags the leaking group and the handle leak, not the sawtooth or the flat one', () => {
    const { out, alerts } = drive((i) => ({ families: groups(i) }), N);
    expect(find(out, 'contention_leak_suspected', { subject_kind: 'process_group', subject: 'leaky', resource: 'private_bytes' })?.value).toBe(1);
    expect(find(out, 'contention_leak_suspected', { subject_kind: 'process_group', subject: 'handly', resource: 'handles' })?.value).toBe(1);
    for (const subject of ['jvm', 'cache']) expect(find(out, 'contention_leak_suspected', { subject })?.value ?? 0).toBe(0);
    expect(out.get('contention_leak_suspected')!.filter((s) => s.value === 1).map((s) => s.labels.subject).sort()).toEqual(['handly', 'leaky']);

    const rate = find(out, 'contention_growth_bytes_per_second', { subject: 'leaky' })!.value;
    expect(rate * 60 / MiB).toBeGreaterThan(0.8);
    expect(rate * 60 / MiB).toBeLessThan(1.2);
    expect(find(out, 'contention_growth_per_second', { subject: 'handly', resource: 'handles' })!.value).toBeCloseTo(1 / 15, 2);
    expect(find(out, 'contention_trend_confidence', { subject: 'leaky' })!.value).toBeGreaterThan(0.99);

    const leak = alerts.find((a) => a.labels.subject === 'leaky')!;
    expect(leak).toMatchObject({ state: 'firing', source: 'detector' });
    expect(leak.labels).toMatchObject({ alertname: 'LeakSuspected', severity: 'warning', subject_kind: 'process_group', group: 'leaky', resource: 'private_bytes' });
    expect(leak.annotations.summary).toMatch(/^process group leaky leaks private_bytes: \+\d+(\.\d)? MiB\/h$/);
    expect(leak.annotations.runbook_url).toBe('docs/runbooks/LeakSuspected.md');
  });

  it('names a leaking process by name and pid, from the process table, keyed so a reused pid starts afresh', () => {
    const criteria = ['web'];
    const { out, alerts } = drive((i) => ({
      families: {},
      facts: {
        processes: {
          timestamp: T0 + i * STEP,
          rows: [
            row(4242, 'grower', 100 * MiB + (i * STEP * 2 * MiB) / 60_000, { criteria, processGroup: 'web' }),
            row(77, 'steady', 900 * MiB + MiB * noise(i)),
            ...Array.from({ length: 30 }, (_, k) => row(1000 + k, `small${k}`, MiB)),
          ],
        },
      },
    }), N);
    const suspect = { subject_kind: 'process', subject: 'grower[4242]', resource: 'private_bytes' };
    expect(find(out, 'contention_leak_suspected', suspect)?.value).toBe(1);
    expect(find(out, 'contention_leak_suspected', { subject: 'steady[77]' })?.value ?? 0).toBe(0);
    expect(alerts.map((a) => a.labels.subject)).toEqual(['grower[4242]']);
    const alert = alerts.find((a) => a.labels.subject === 'grower[4242]')!;
    expect(alert.labels).toMatchObject({ process: 'grower', pid: '4242', group: 'web', subject_kind: 'process' });
    expect(alert.labels).not.toHaveProperty('start');
  });

  it('exports the suspects and only the strongest few other candidates', () => {
    const { out } = drive((i) => ({
      families: {
        // 40 groups creeping up by a byte a sample on 1 GiB: real but immaterial, so none is a suspect
        contention_process_group_private_bytes: Array.from({ length: 40 }, (_, k) => ({ labels: { group: `g${k}` }, value: 1024 * MiB + i + (k % 3) * noise(i, k) })),
      },
    }), N);
    const exported = out.get('contention_leak_suspected') ?? [];
    expect(exported.length).toBe(config.detection.max_exported);
    expect(exported.every((s) => s.value === 0)).toBe(true);
  });

  it('stops offering the alert once the growth stops (delivery says it resolved), and does not raise it again', () => {
    // grows for 15 minutes, then holds flat for 15
    const value = (i: number) => 200 * MiB + (Math.min(i, N) * STEP * MiB) / 60_000 + MiB * noise(i);
    const { alertsSeen } = drive((i) => ({ families: { contention_process_group_private_bytes: [{ labels: { group: 'leaky' }, value: value(i) }] } }), 2 * N);
    const states = alertsSeen.map((list) => list.find((a) => a.labels.subject === 'leaky')?.state ?? 'none');
    const firstFiring = states.indexOf('firing');
    const endedAt = states.indexOf('none', firstFiring);
    expect(firstFiring).toBeGreaterThan(0);
    expect(endedAt).toBeGreaterThan(N);
    expect(states.slice(firstFiring, endedAt).every((s) => s === 'firing')).toBe(true);
    expect(states.slice(endedAt).every((s) => s === 'none')).toBe(true);
    // one alert throughout: its start is the first sighting
    const starts = new Set(alertsSeen.flat().filter((a) => a.labels.subject === 'leaky').map((a) => a.activeAt));
    expect(starts.size).toBe(1);
  });

  it('keeps its alerts across a reload: same start, no resolution in between', () => {
    const on = detectorOn();
    const at = (i: number) => ({ families: groups(i) });
    const first = drive(at, N, on);
    const before = first.alerts.find((a) => a.labels.subject === 'leaky')!;
    on.detector.reconfigure({ config: configSchema.parse({ detection: { window: '10m', min_window: '5m', max_exported: 5 } }) });
    expect(on.detector.alerts()).toContainEqual(before);
    const second = drive(at, 1, on, N);
    expect(second.alerts.filter((a) => a.labels.subject === 'leaky')).toEqual([before]);
  });

  it('times the exhaustion of a pool with a limit, a kernel table, and commit only where enforced', () => {
    const host = (enforced: number) => (i: number): { families: Families } => ({
      families: {
        // slab grows 1 MiB a minute towards a 1 GiB limit from 512 MiB
        contention_kernel_pool_bytes: [{ labels: { pool: 'slab_unreclaimable' }, value: 512 * MiB + (i * STEP * MiB) / 60_000 }, { labels: { pool: 'vmalloc' }, value: 10 * MiB }],
        contention_kernel_pool_limit_bytes: [{ labels: { pool: 'slab_unreclaimable', source: 'estimate' }, value: 1024 * MiB }],
        // file handles: 10 opened and never closed a minute, out of 100,000
        contention_kernel_table_free_entries: [{ labels: { table: 'file_handles' }, value: 90_000 - Math.floor((i * STEP) / 6000) }, { labels: { table: 'pids' }, value: 4_000_000 }],
        contention_kernel_table_size_entries: [{ labels: { table: 'file_handles' }, value: 100_000 }, { labels: { table: 'pids' }, value: 4_194_303 }],
        contention_memory_commit_bytes: [{ labels: {}, value: 4096 * MiB + (i * STEP * 4 * MiB) / 60_000 }],
        contention_memory_commit_limit_bytes: [{ labels: {}, value: 8192 * MiB }],
        contention_memory_commit_limit_enforced: [{ labels: {}, value: enforced }],
        contention_memory_available_bytes: [{ labels: {}, value: 2048 * MiB + 20 * MiB * noise(i) }],
      },
    });
    const linux = drive(host(0), N).out;
    const ttl = (out: typeof linux, resource: string) => find(out, 'contention_seconds_to_exhaustion', { resource })?.value;
    const slabLeft = 1024 * MiB - (512 * MiB + ((N - 1) * STEP * MiB) / 60_000);
    expect(ttl(linux, 'kernel_pool:slab_unreclaimable')! / (slabLeft / (MiB / 60))).toBeCloseTo(1, 1);
    const handlesLeft = 90_000 - Math.floor(((N - 1) * STEP) / 6000);
    expect(ttl(linux, 'kernel_table:file_handles')! / (handlesLeft / (10 / 60))).toBeCloseTo(1, 1);
    expect(ttl(linux, 'kernel_table:pids')).toBeUndefined();
    expect(ttl(linux, 'commit')).toBeUndefined();
    expect(ttl(linux, 'memory_available')).toBeUndefined();
    // entries in use of a kernel table leak like anything else
    expect(find(linux, 'contention_leak_suspected', { subject_kind: 'host', subject: 'table file_handles', resource: 'table_entries' })?.value).toBe(1);
    expect(find(linux, 'contention_leak_suspected', { subject_kind: 'host', subject: 'pool slab_unreclaimable' })?.value).toBe(1);

    const enforced = drive(host(1), N).out;
    const commitLeft = 8192 * MiB - (4096 * MiB + ((N - 1) * STEP * 4 * MiB) / 60_000);
    expect(ttl(enforced, 'commit')! / (commitLeft / ((4 * MiB) / 60))).toBeCloseTo(1, 1);
  });

  it('still records the history when disabled (the rules need it), and does no judging', () => {
    const off = configSchema.parse({ detection: { enabled: false, window: '10m', min_window: '5m' } });
    const { out, alerts } = drive((i) => ({ families: groups(i) }), N, detectorOn(newHistory(), off));
    expect(out.get('contention_leak_suspected')).toBeUndefined();
    expect(alerts).toEqual([]);
    // the five group series fed, and the history's own three (recorded too: a local rule may use them)
    expect(find(out, 'contention_history_series', {})!.value).toBe(8);
    expect(find(out, 'contention_history_bytes', {})!.value).toBeGreaterThan(0);
  });
});
