import type { StoredSeries } from '../../agent/history/source.js';
import type { EvalData } from '../../agent/promql/evaluate.js';
import { parsePromql } from '../../agent/promql/parse.js';

/** A value of a promtool input series at one step: a number, a stale marker, or nothing. */
export type Step = number | 'stale' | undefined;

export interface InputSeries {
  /** As promtool reads it: `name{label="value",...}`. */
  readonly series: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
}

/** Parses a promtool series selector with the PromQL parser: equality matchers are its labels. */
export function parseSeriesName(series: string): { name: string; labels: Record<string, string> } {
  const e = parsePromql(series);
  if (e.kind !== 'selector' || e.matchers.some((m) => m.op !== '=')) throw new Error(`not a series: ${series}`);
  return { name: e.name, labels: Object.fromEntries(e.matchers.map((m) => [m.name, m.value])) };
}

/**
 * Expands promtool's series notation as Prometheus 2 does: `a`, `a+bxn`/`a-bxn` (n+1 values, added
 * step by step), `axn` (n+1 copies), `_` and `_xn` (n omitted), `stale`.
 */
export function expandValues(text: string): Step[] {
  const out: Step[] = [];
  for (const item of String(text).trim().split(/\s+/)) {
    if (item === '_') out.push(undefined);
    else if (item === 'stale') out.push('stale');
    else if (/^_x\d+$/.test(item)) for (let i = 0; i < Number(item.slice(2)); i++) out.push(undefined);
    else {
      const m = /^([-+]?[0-9.e]+)(?:([-+][0-9.e]+))?(?:x(\d+))?$/i.exec(item);
      if (!m) throw new Error(`unsupported series item ${item}`);
      let v = Number(m[1]);
      const delta = m[2] === undefined ? 0 : Number(m[2]);
      const times = m[3] === undefined ? 0 : Number(m[3]);
      for (let i = 0; i <= times; i++) {
        out.push(v);
        v += delta;
      }
    }
  }
  return out;
}

export function inputSeries(series: string, values: string): InputSeries {
  return { series, ...parseSeriesName(series), steps: expandValues(values) };
}

/** The notation promtool reads for explicit steps. */
export function formatSteps(steps: readonly Step[]): string {
  return steps.map((s) => (s === undefined ? '_' : s === 'stale' ? 'stale' : String(s))).join(' ');
}

/**
 * The same input as the evaluator's data: points at step × interval, stale markers where promtool
 * writes them, and nothing where a value is omitted (the lookback still sees the last point).
 */
export function scenarioData(series: readonly InputSeries[], intervalMs: number): EvalData {
  const stored = series.map((s) => ({
    name: s.name,
    labels: s.labels,
    points: s.steps.flatMap((v, i) => (typeof v === 'number' ? [{ t: i * intervalMs, v }] : [])),
    stale: s.steps.flatMap((v, i) => (v === 'stale' ? [i * intervalMs] : [])),
  }));
  const staleOf = new WeakMap<StoredSeries, readonly number[]>();
  return {
    select(name, start, end) {
      const out: StoredSeries[] = [];
      for (const s of stored) {
        if (s.name !== name) continue;
        const points = s.points.filter((p) => p.t >= start && p.t <= end);
        if (points.length === 0) continue;
        const selected = { name: s.name, labels: s.labels, points };
        staleOf.set(selected, s.stale);
        out.push(selected);
      }
      return out;
    },
    stale: (s, pointT, t) => (staleOf.get(s) ?? []).some((x) => x > pointT && x <= t),
  };
}
