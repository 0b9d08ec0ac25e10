import { describe, expect, it } from 'vitest';
import { highestSustained, judgeSeries } from '../../agent/detect/verdict.js';
import { stepShare } from '../../agent/detect/trend.js';
import { configSchema } from '../../agent/config/schema.js';
import { createLeakDetector } from '../../agent/detect/leak-stage.js';
import { createHistory } from '../../agent/history/history.js';
import { createHistoryStage } from '../../agent/history/stage.js';
import type { MetricName } from '../../agent/metrics/catalog.js';
import type { SeriesValue } from '../../agent/metrics/sample.js';

const MiB = 2 ** 20;
const STEP = 5000;
const noise = (i: number, seed = 1) => {
  const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
};
const series = (seconds: number, f: (s: number, i: number) => number) => {
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i * STEP <= seconds * 1000; i++) {
    t.push(i * STEP);
    v.push(f((i * STEP) / 1000, i));
  }
  return { t, v };
};
/** The first whole minute of history after which the verdict says leak, judging as the agent does each sample. */
function firstFlagged(seconds: number, f: (s: number, i: number) => number, headroom?: number): number | undefined {
  const { t, v } = series(seconds, f);
  for (let n = 12; n <= t.length; n += 6) {
    if (judgeSeries(t.slice(0, n), v.slice(0, n), { headroom }, { minScale: 120 }).leak) return t[n - 1]! / 1000;
  }
  return undefined;
}
const HEADROOM = 20e9;

describe('the verdict flags sooner the sooner the leak exhausts what is left', () => {
  it('1 MiB/s with 20 GB free (5.5 h to go): within 2 to 3 minutes', () => {
    const at = firstFlagged(900, (s, i) => 60 * MiB + s * MiB + 0.5 * MiB * noise(i), HEADROOM);
    expect(at).toBeGreaterThanOrEqual(100);
    expect(at).toBeLessThanOrEqual(180);
  });

  it('100 KiB/s (2.3 days to go): not at 2 or 3 minutes, within 10', () => {
    const at = firstFlagged(1800, (s, i) => 60 * MiB + s * 100 * 1024 + 0.2 * MiB * noise(i), HEADROOM)!;
    expect(at).toBeGreaterThan(300);
    expect(at).toBeLessThanOrEqual(630);
  });

  it('20 KiB/s (12 days to go): not within 15 minutes', () => {
    expect(firstFlagged(900, (s, i) => 60 * MiB + s * 20 * 1024 + 0.05 * MiB * noise(i), HEADROOM)).toBeUndefined();
  });

  it('without a known headroom, relative growth decides: a handle count doubling every 10 minutes is flagged within minutes', () => {
    const at = firstFlagged(900, (s) => Math.round(100 + s / 6));
    expect(at).toBeLessThanOrEqual(180);
  });
});

/**
 * Whether the running detector (default settings, its hysteresis included) ever suspects a group
 * whose private bytes follow `f`, sampled every 5 s from its start. A sawtooth's very first ramp,
 * before any history shows it falling back, is as steep as a leak: only the hysteresis tells them apart.
 */
function everSuspected(seconds: number, f: (s: number, i: number) => number): boolean {
  const history = createHistory({ rawSeconds: 3600, sampleSeconds: 5, bucketSeconds: 300, retentionSeconds: 86_400, maxSeries: 100, families: ['contention_'] });
  const detector = createLeakDetector(history, configSchema.parse({}));
  const recorder = createHistoryStage(history, { watchedProcesses: () => [] });
  let ever = false;
  for (let i = 0; i * STEP <= seconds * 1000; i++) {
    const families = new Map<MetricName, SeriesValue[]>([
      ['contention_process_group_private_bytes', [{ labels: { group: 'g' }, value: f((i * STEP) / 1000, i) }]],
      ['contention_memory_available_bytes', [{ labels: {}, value: HEADROOM }]],
    ]);
    const sink = { set: (m: string, l: Record<string, string>, v: number) => void (m === 'contention_leak_suspected' && v === 1 && (ever = true)), publish: () => undefined };
    const sample = { timestamp: 1_700_000_000_000 + i * STEP, families, collectors: [], facts: {} };
    recorder.recordMeasured(sample as never, sink as never);
    void detector.stage.run(sample as never, sink as never);
  }
  return ever;
}

describe('look-alikes stay healthy however long they are watched', () => {
  const never = (seconds: number, f: (s: number, i: number) => number) => expect(everSuspected(seconds, f)).toBe(false);

  it('a GC sawtooth with a flat floor, whatever its period', () => {
    for (const period of [30, 120, 600]) never(3600, (s) => 80 * MiB + ((s % period) / period) * 60 * MiB);
  });

  it('a warm-up that fills 150 MiB at 2.5 MiB/s, and one that fills ever more slowly (logarithmic)', () => {
    never(1800, (s, i) => 40 * MiB + Math.min(s, 60) * 2.5 * MiB + 0.2 * MiB * noise(i));
    never(3600, (s, i) => 40 * MiB + 20 * MiB * Math.log1p(s / 60) + 0.1 * MiB * noise(i));
  });

  it('a busy process whose working set is steady', () => {
    never(3600, (_s, i) => 500 * MiB + 30 * MiB * noise(i));
  });
});

describe('the running detector on a real leak, for contrast', () => {
  it('suspects 1 MiB/s', () => expect(everSuspected(300, (s, i) => 60 * MiB + s * MiB + 0.5 * MiB * noise(i))).toBe(true));
});

describe('its parts', () => {
  it('the largest few rises of two deploy steps carry all the growth; a steady climb spreads it', () => {
    expect(stepShare([1, 1, 1, 5, 5, 5, 5, 9, 9, 9, 9, 9])).toBe(1);
    expect(stepShare([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])).toBeCloseTo(2 / 11);
  });

  it('the highest level a stretch held is a sliding minimum, blind to the phase of a sawtooth', () => {
    const t = Array.from({ length: 100 }, (_, i) => i * 1000);
    const saw = t.map((_, i) => i % 10);
    // a 3 s stretch at the top of a tooth holds 7 (7, 8, 9)
    expect(highestSustained(t, saw, 100, 2000)).toBe(7);
  });

  it('lives come only from evidence: the same sawtooth is masked by restarts with life starts, healthy without', () => {
    const { t, v } = series(3600, (s, i) => 50 * MiB + (s % 300) * 0.5 * MiB + 0.1 * MiB * noise(i));
    const starts = t.filter((x) => x > 0 && (x / 1000) % 300 === 0);
    expect(judgeSeries(t, v, { headroom: HEADROOM }).leak).toBe(false);
    const masked = judgeSeries(t, v, { headroom: HEADROOM, lifeStarts: starts, lifeKind: 'restart' });
    expect(masked).toMatchObject({ leak: true, shape: 'masked_by_restarts' });
    expect(masked.slopePerSecond / MiB).toBeCloseTo(0.5, 1);
    expect(masked.lives!.restartsPerHour).toBeCloseTo(12, 0);
    expect(judgeSeries(t, v, { headroom: HEADROOM, lifeStarts: starts, lifeKind: 'reboot' }).shape).toBe('masked_by_reboots');
  });
});
