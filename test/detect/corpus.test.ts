import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS shared with the corpus script
import { palLeak, scoreCorpus } from './corpus/score.mjs';

interface Row { name: string; origin: string; shape: string; label: string; detector: string; detectorLeak: boolean; palLeak: boolean; ok: { detector: boolean; pal: boolean } }
interface Confusion { tp: number; fp: number; fn: number; tn: number; precision: number; recall: number }

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the labelled corpus (synthetic PerfMon logs and series recorded from real children)', async () => {
  const result = (await scoreCorpus(ROOT)) as { rows: Row[]; detector: Confusion; pal: Confusion };

  it('holds at least 60 labelled series, leaking and healthy, of every shape, from both origins', () => {
    expect(result.rows.length).toBeGreaterThanOrEqual(60);
    const shapes = (label: string) => new Set(result.rows.filter((r) => r.label === label).map((r) => r.shape));
    for (const s of ['steady', 'slow', 'sawtooth-rising', 'late-onset', 'handles', 'threads', 'pool', 'masked-by-restarts', 'masked-by-reboots']) expect(shapes('leak')).toContain(s);
    for (const s of ['flat', 'gc-sawtooth', 'warm-up', 'warm-up-log', 'plateau', 'daily-cycle', 'step', 'steps', 'spikes', 'busy', 'restarts-healthy', 'reboots-healthy']) expect(shapes('healthy')).toContain(s);
    expect(result.rows.filter((r) => r.origin === 'recorded real child').length).toBeGreaterThanOrEqual(15);
  });

  it('beats RESIN\'s published 85% precision and 91% recall, and PAL on the same series', () => {
    expect(result.detector.precision).toBeGreaterThan(0.85);
    expect(result.detector.recall).toBeGreaterThan(0.91);
    expect(result.detector.recall).toBeGreaterThan(result.pal.recall);
  });

  it('calls the leaks that restarts and reboots hide by their name, and the healthy restarts healthy', () => {
    const verdict = (name: string) => result.rows.find((r) => r.name === name)!.detector;
    expect(verdict('group-restarted-every-90s-leaking')).toBe('masked_by_restarts');
    expect(verdict('leak-masked-by-recycling-3h')).toBe('masked_by_restarts');
    expect(verdict('leak-pool-masked-by-nightly-reboots')).toBe('masked_by_reboots');
    for (const name of ['group-restarted-every-90s-healthy', 'group-restarted-every-90s-gc-sawtooth', 'healthy-restarts-warm-up-each-life', 'healthy-reboots-flat-pool']) {
      expect(result.rows.find((r) => r.name === name)!.detectorLeak, name).toBe(false);
    }
  });

  it('PAL\'s method: the mean difference of 30 slice averages per hour against 100 MB/h', () => {
    const hour = 3_600_000;
    const t = Array.from({ length: 300 }, (_, i) => i * 60_000);
    expect(palLeak(t, t.map((x) => (150e6 * x) / hour), 'bytes').perHour).toBeCloseTo(150e6, -4);
    expect(palLeak(t, t.map((x) => (150e6 * x) / hour), 'bytes').leak).toBe(true);
    expect(palLeak(t, t.map((x) => (50e6 * x) / hour), 'bytes').leak).toBe(false);
    expect(palLeak(t, t.map((x) => (150 * x) / hour), 'count').leak).toBe(true);
  });
});
