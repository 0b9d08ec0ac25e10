import { describe, expect, it } from 'vitest';
import type { StoredSeries } from '../../agent/history/source.js';
import { evaluate, extrapolatedRate, type EvalData, type Value } from '../../agent/promql/evaluate.js';
import { parsePromql, PromqlError } from '../../agent/promql/parse.js';

const S = 1000;

/** Series as [name, labels, [[seconds, value], ...]]. */
function data(series: Array<[string, Record<string, string>, Array<[number, number]>]>, staleAt: Record<string, number> = {}): EvalData {
  const stored: StoredSeries[] = series.map(([name, labels, pts]) => ({ name, labels, points: pts.map(([t, v]) => ({ t: t * S, v })) }));
  return {
    select: (name, start, end) =>
      stored.filter((s) => s.name === name).map((s) => ({ ...s, points: s.points.filter((p) => p.t >= start && p.t <= end) })).filter((s) => s.points.length > 0),
    stale: (s, pointT, t) => {
      const at = staleAt[`${s.name}${JSON.stringify(s.labels)}`];
      return at !== undefined && at * S > pointT && at * S <= t;
    },
  };
}

const run = (expr: string, d: EvalData, seconds: number): Value => evaluate(parsePromql(expr), d, seconds * S);
const vector = (v: Value) => {
  if (v.type !== 'vector') throw new Error('expected a vector');
  return [...v.elements].sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
};

describe('evaluate: instant selection', () => {
  const d = data([['m', { a: '1' }, [[0, 5], [60, 6]]]]);
  it('takes the latest point at or before the time, within 5 minutes inclusive', () => {
    expect(vector(run('m', d, 30))).toEqual([{ labels: { __name__: 'm', a: '1' }, value: 5 }]);
    expect(vector(run('m', d, 360))).toEqual([{ labels: { __name__: 'm', a: '1' }, value: 6 }]);
  });
  it('loses a series past the lookback, and once it is stale', () => {
    expect(vector(run('m', data([['m', {}, [[60, 6]]]]), 360.001))).toEqual([]);
    const marked = data([['m', { a: '1' }, [[0, 5], [60, 6]]]], { 'm{"a":"1"}': 100 });
    expect(vector(run('m', marked, 99))).toHaveLength(1);
    expect(vector(run('m', marked, 100))).toEqual([]);
  });
  it('matches labels with =, !=, =~ (anchored) and !~', () => {
    const d2 = data([['m', { p: 'paged' }, [[0, 1]]], ['m', { p: 'nonpaged' }, [[0, 2]]], ['m', {}, [[0, 3]]]]);
    expect(vector(run('m{p=~"paged"}', d2, 0)).map((e) => e.value)).toEqual([1]);
    expect(vector(run('m{p!~"non.*"}', d2, 0)).map((e) => e.value).sort()).toEqual([1, 3]);
    expect(vector(run('m{p!="paged"}', d2, 0)).map((e) => e.value).sort()).toEqual([2, 3]);
    expect(vector(run('m{p=""}', d2, 0)).map((e) => e.value)).toEqual([3]);
  });
});

describe('evaluate: operators', () => {
  const d = data([
    ['free', { table: 'file', instance: 'h' }, [[0, 5]]],
    ['size', { table: 'file', instance: 'h' }, [[0, 100]]],
    ['free', { table: 'inode', instance: 'h' }, [[0, 50]]],
    ['size', { table: 'inode', instance: 'h' }, [[0, 100]]],
    ['pool', { pool: 'paged', instance: 'h' }, [[0, 90]]],
    ['limit', { pool: 'paged', instance: 'h', source: 'estimate' }, [[0, 100]]],
    ['cpus', { instance: 'h', job: 'j' }, [[0, 4]]],
    ['queue', { instance: 'h', job: 'j', extra: 'x' }, [[0, 10]]],
  ]);

  it('divides one-to-one on all labels but the name, and drops the name', () => {
    expect(vector(run('free / size', d, 0))).toEqual([
      { labels: { table: 'file', instance: 'h' }, value: 0.05 },
      { labels: { table: 'inode', instance: 'h' }, value: 0.5 },
    ]);
  });
  it('filters by a comparison with a scalar, keeping the element, its name and value on either side', () => {
    expect(vector(run('free / size < 0.1', d, 0))).toEqual([{ labels: { table: 'file', instance: 'h' }, value: 0.05 }]);
    expect(vector(run('free > 10', d, 0))).toEqual([{ labels: { __name__: 'free', table: 'inode', instance: 'h' }, value: 50 }]);
    expect(vector(run('10 < free', d, 0))).toEqual([{ labels: { __name__: 'free', table: 'inode', instance: 'h' }, value: 50 }]);
    expect(vector(run('2 * free', d, 0)).map((e) => [e.labels.__name__, e.value])).toEqual([[undefined, 10], [undefined, 100]]);
  });
  it('matches ignoring(source), and on(...) keeps only the listed labels', () => {
    expect(vector(run('pool / limit', d, 0))).toEqual([]);
    expect(vector(run('pool / ignoring(source) limit', d, 0))).toEqual([{ labels: { pool: 'paged', instance: 'h' }, value: 0.9 }]);
    expect(vector(run('queue / on(instance, job) cpus', d, 0))).toEqual([{ labels: { instance: 'h', job: 'j' }, value: 2.5 }]);
  });
  it('keeps the many side labels with group_left and copies the listed ones from the one side', () => {
    const d2 = data([
      ['g', { group: 'a', instance: 'h' }, [[0, 10]]],
      ['g', { group: 'b', instance: 'h' }, [[0, 1]]],
      ['room', { instance: 'h', zone: 'z1' }, [[0, 5]]],
    ]);
    expect(vector(run('g > on(instance) group_left() room', d2, 0))).toEqual([{ labels: { __name__: 'g', group: 'a', instance: 'h' }, value: 10 }]);
    expect(vector(run('g - on(instance) group_left(zone) room', d2, 0))).toEqual([
      { labels: { group: 'a', instance: 'h', zone: 'z1' }, value: 5 },
      { labels: { group: 'b', instance: 'h', zone: 'z1' }, value: -4 },
    ]);
    expect(() => run('g - on(instance) room', d2, 0)).toThrow(/many-to-one matching must be explicit/);
    expect(() => run('room - on(instance) g', d2, 0)).toThrow(/duplicate series for the match group/);
  });
  it('and / or / unless match on label sets and keep the left side as it is', () => {
    const d2 = data([
      ['a', { instance: 'h', job: 'j' }, [[0, 1]]],
      ['b', { instance: 'h', job: 'j' }, [[0, 2]]],
      ['flag', { instance: 'h', job: 'j' }, [[0, 0]]],
    ]);
    expect(vector(run('a and on(instance, job) flag == 1', d2, 0))).toEqual([]);
    expect(vector(run('a and on(instance, job) flag == 0', d2, 0))).toEqual([{ labels: { __name__: 'a', instance: 'h', job: 'j' }, value: 1 }]);
    expect(vector(run('(a and flag == 1) or b', d2, 0))).toEqual([{ labels: { __name__: 'b', instance: 'h', job: 'j' }, value: 2 }]);
    expect(vector(run('a or b', d2, 0))).toEqual([{ labels: { __name__: 'a', instance: 'h', job: 'j' }, value: 1 }]);
    expect(vector(run('a unless flag', d2, 0))).toEqual([]);
  });
  it('refuses a result with two identical label sets once names are dropped', () => {
    const d2 = data([['x', { i: '1' }, [[0, 1], [60, 2]]]]);
    const d3: EvalData = { select: (name, s, e) => [...d2.select('x', s, e), ...d2.select('x', s, e).map((x) => ({ ...x, name }))] };
    expect(() => run('deriv(x[5m])', d3, 60)).toThrow(/same labelset/);
  });
});

describe('evaluate: functions', () => {
  it('deriv and predict_linear fit a least-squares line (per second)', () => {
    const d = data([['m', {}, [[0, 1], [60, 2], [120, 3]]]]);
    expect(vector(run('deriv(m[2m])', d, 120))).toEqual([{ labels: {}, value: 1 / 60 }]);
    expect(vector(run('predict_linear(m[2m], 60)', d, 120))[0]!.value).toBeCloseTo(4, 12);
    // Only points inside the range count: at 150 s the 1-minute range holds just one.
    expect(vector(run('deriv(m[1m])', d, 150))).toEqual([]);
    expect(vector(run('deriv(m[5m])', data([['m', {}, [[0, 7], [60, 7]]]]), 60))).toEqual([{ labels: {}, value: 0 }]);
  });

  it('rate corrects counter resets and extrapolates to the range edges as Prometheus 2 does', () => {
    const d = data([['c', { device: 'sda' }, [[0, 0], [60, 60], [120, 120]]]]);
    expect(vector(run('rate(c[2m])', d, 120))).toEqual([{ labels: { device: 'sda' }, value: 1 }]);
    // 0, 60, then a reset to 10: 70 counted over the 2 minutes.
    expect(extrapolatedRate([{ t: 0, v: 0 }, { t: 60_000, v: 60 }, { t: 120_000, v: 10 }], 0, 120_000, 120_000)).toBeCloseTo(70 / 120, 12);
    // 10 at 30 s and 70 at 90 s in [0, 120 s]: the start is extrapolated only to where the counter was 0 (10 s back), the end 30 s.
    expect(extrapolatedRate([{ t: 30_000, v: 10 }, { t: 90_000, v: 70 }], 0, 120_000, 120_000)).toBeCloseTo((60 * (100 / 60)) / 120, 12);
    // A series that starts well inside the range is extrapolated by half an interval only.
    expect(extrapolatedRate([{ t: 100_000, v: 100 }, { t: 110_000, v: 110 }, { t: 120_000, v: 120 }], 0, 120_000, 120_000)).toBeCloseTo((20 * (25 / 20)) / 120, 12);
  });

  it('absent answers 1 with the selector equality labels only when nothing matches; time() is the evaluation time', () => {
    const d = data([['up', { job: 'a' }, [[0, 1]]]]);
    expect(vector(run('absent(up{job="a"})', d, 0))).toEqual([]);
    expect(vector(run('absent(up{job="b", env=~"p.*"})', d, 0))).toEqual([{ labels: { job: 'b' }, value: 1 }]);
    expect(run('time()', d, 1234.5)).toEqual({ type: 'scalar', value: 1234.5 });
    expect(vector(run('time() - m > 60', data([['m', { i: '1' }, [[100, 100]]]]), 200))).toEqual([{ labels: { i: '1' }, value: 100 }]);
  });

  it('fails a rule with a PromqlError, not an exception of another kind', () => {
    const d = data([['g', { i: '1', x: 'a' }, [[0, 1]]], ['g', { i: '1', x: 'b' }, [[0, 1]]], ['h', { i: '1' }, [[0, 1]]]]);
    expect(() => run('h - on(i) g', d, 0)).toThrow(PromqlError);
  });
});
