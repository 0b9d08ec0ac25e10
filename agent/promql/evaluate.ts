import type { StoredSeries } from '../history/source.js';
import { isComparison, type BinaryOp, type Expr, type SelectorExpr, type VectorMatching } from './ast.js';
import { labelsKey } from '../metrics/labels.js';
import type { Labels } from '../metrics/sample.js';
import { PromqlError } from './parse.js';

export type { Labels };

/** One element of an instant vector; `labels.__name__` is the metric name while Prometheus keeps it. */
export interface Element {
  readonly labels: Labels;
  readonly value: number;
}

export type Value = { readonly type: 'scalar'; readonly value: number } | { readonly type: 'vector'; readonly elements: readonly Element[] };

/** What an evaluation reads: stored series with the labels the rules see, and when the samples were taken. */
export interface EvalData {
  /** Every series of `name` with its points inside [startMs, endMs] (closed, as Prometheus 2 selects). */
  select(name: string, startMs: number, endMs: number): readonly StoredSeries[];
  /**
   * Whether a series whose newest point at or before `t` is at `pointT` has ended by `t`, as a
   * Prometheus stale marker (written when a scrape or rule evaluation goes without the series)
   * would say. Without it only the lookback ends a series.
   */
  stale?(series: StoredSeries, pointT: number, t: number): boolean;
}

/** How far back an instant selector looks for a series' latest point, as Prometheus's default. */
export const LOOKBACK_MS = 5 * 60 * 1000;

/** Evaluates an expression at `timeMs`, with Prometheus semantics for the supported subset. Throws PromqlError on a runtime error (many-to-many matching, duplicate series). */
export function evaluate(expr: Expr, data: EvalData, timeMs: number): Value {
  return evalAt(expr, data, timeMs);
}

function evalAt(e: Expr, data: EvalData, t: number): Value {
  switch (e.kind) {
    case 'number':
      return { type: 'scalar', value: e.value };
    case 'paren':
      return evalAt(e.expr, data, t);
    case 'selector':
      return { type: 'vector', elements: instant(e, data, t) };
    case 'matrix':
      throw new PromqlError('a range vector is not a valid result');
    case 'call':
      return call(e, data, t);
    case 'binary':
      return binary(e, data, t);
  }
}

function matches(labels: Labels, s: SelectorExpr): boolean {
  return s.matchers.every((m) => {
    const v = labels[m.name] ?? '';
    switch (m.op) {
      case '=':
        return v === m.value;
      case '!=':
        return v !== m.value;
      case '=~':
        return anchored(m.value).test(v);
      case '!~':
        return !anchored(m.value).test(v);
    }
  });
}

const regexCache = new Map<string, RegExp>();
/** Prometheus anchors label regexes at both ends. Go's RE2 and JavaScript agree on the syntax the rules use. */
function anchored(re: string): RegExp {
  let r = regexCache.get(re);
  if (!r) regexCache.set(re, (r = new RegExp(`^(?:${re})$`, 's')));
  return r;
}

function selected(s: SelectorExpr, data: EvalData, start: number, end: number): StoredSeries[] {
  return data.select(s.name, start, end).filter((series) => matches({ ...series.labels, __name__: s.name }, s));
}

/** Each matching series' latest point within the lookback, unless a later sample went without it (stale). */
function instant(s: SelectorExpr, data: EvalData, t: number): Element[] {
  const out: Element[] = [];
  for (const series of selected(s, data, t - LOOKBACK_MS, t)) {
    const p = series.points[series.points.length - 1]!;
    if (data.stale?.(series, p.t, t)) continue;
    out.push({ labels: { ...series.labels, __name__: s.name }, value: p.v });
  }
  return out;
}

const dropName = (labels: Labels): Labels => {
  const { __name__: _name, ...rest } = labels;
  return rest;
};

function call(e: Extract<Expr, { kind: 'call' }>, data: EvalData, t: number): Value {
  if (e.fn === 'time') return { type: 'scalar', value: t / 1000 };
  if (e.fn === 'absent') {
    const arg = evalAt(e.args[0]!, data, t) as Extract<Value, { type: 'vector' }>;
    if (arg.elements.length > 0) return { type: 'vector', elements: [] };
    return { type: 'vector', elements: [{ labels: absentLabels(e.args[0]!), value: 1 }] };
  }
  const m = e.args[0] as Extract<Expr, { kind: 'matrix' }>;
  const start = t - m.rangeMs;
  const out: Element[] = [];
  const horizon = e.fn === 'predict_linear' ? scalarArg(e.args[1]!, data, t) : 0;
  for (const series of selected(m.selector, data, start, t)) {
    const pts = series.points;
    if (pts.length < 2) continue;
    let v: number;
    if (e.fn === 'rate') v = extrapolatedRate(pts, start, t, m.rangeMs);
    else if (e.fn === 'deriv') v = linearRegression(pts, pts[0]!.t).slope;
    else {
      const { slope, intercept } = linearRegression(pts, t);
      v = slope * horizon + intercept;
    }
    out.push({ labels: series.labels, value: v });
  }
  return { type: 'vector', elements: unique(out, `${e.fn}()`) };
}

function scalarArg(e: Expr, data: EvalData, t: number): number {
  const v = evalAt(e, data, t);
  if (v.type !== 'scalar') throw new PromqlError('expected a scalar');
  return v.value;
}

/** absent() labels its answer with the selector's equality matchers (other than the name), as Prometheus does. */
function absentLabels(arg: Expr): Labels {
  while (arg.kind === 'paren') arg = arg.expr;
  if (arg.kind !== 'selector') return {};
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const m of arg.matchers) {
    if (m.op === '=' && !seen.has(m.name)) out[m.name] = m.value;
    else delete out[m.name];
    seen.add(m.name);
  }
  return out;
}

/** rate() as Prometheus 2 computes it: counter resets corrected, extrapolated to the range's edges unless the series starts or ends inside it. */
export function extrapolatedRate(pts: readonly { t: number; v: number }[], rangeStart: number, rangeEnd: number, rangeMs: number): number {
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  let result = last.v - first.v;
  let previous = 0;
  for (const p of pts) {
    if (p.v < previous) result += previous;
    previous = p.v;
  }
  let toStart = (first.t - rangeStart) / 1000;
  const toEnd = (rangeEnd - last.t) / 1000;
  const sampled = (last.t - first.t) / 1000;
  const average = sampled / (pts.length - 1);
  if (result > 0 && first.v >= 0) {
    // A counter cannot go below zero: do not extrapolate past the point where it would.
    const toZero = sampled * (first.v / result);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = average * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : average / 2;
  interval += toEnd < threshold ? toEnd : average / 2;
  return (result * (interval / sampled)) / (rangeMs / 1000);
}

/** Least-squares slope (per second) and intercept at `interceptTime`, as Prometheus's deriv() and predict_linear(). */
export function linearRegression(pts: readonly { t: number; v: number }[], interceptTime: number): { slope: number; intercept: number } {
  // Kahan–Neumaier compensated sums, as Prometheus sums the terms (so thresholds compare on the same bits).
  const sums = new Float64Array(8); // sumX, cX, sumY, cY, sumXY, cXY, sumX2, cX2
  const add = (i: number, inc: number): void => {
    const sum = sums[i]!;
    const t = sum + inc;
    if (!Number.isFinite(t)) sums[i + 1] = 0;
    else if (Math.abs(sum) >= Math.abs(inc)) sums[i + 1]! += sum - t + inc;
    else sums[i + 1]! += inc - t + sum;
    sums[i] = t;
  };
  const initY = pts[0]!.v;
  let constY = true;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    if (constY && i > 0 && p.v !== initY) constY = false;
    const x = (p.t - interceptTime) / 1e3;
    add(0, x);
    add(2, p.v);
    add(4, x * p.v);
    add(6, x * x);
  }
  if (constY) return Number.isFinite(initY) ? { slope: 0, intercept: initY } : { slope: NaN, intercept: NaN };
  const n = pts.length;
  const sumX = sums[0]! + sums[1]!;
  const sumY = sums[2]! + sums[3]!;
  const sumXY = sums[4]! + sums[5]!;
  const sumX2 = sums[6]! + sums[7]!;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return { slope, intercept: sumY / n - (slope * sumX) / n };
}

function binary(e: Extract<Expr, { kind: 'binary' }>, data: EvalData, t: number): Value {
  const lhs = evalAt(e.lhs, data, t);
  const rhs = evalAt(e.rhs, data, t);
  if (lhs.type === 'scalar' && rhs.type === 'scalar') return { type: 'scalar', value: arithmetic(e.op, lhs.value, rhs.value) };
  if (lhs.type === 'vector' && rhs.type === 'vector') {
    const m = e.matching!;
    if (e.op === 'and' || e.op === 'or' || e.op === 'unless') return { type: 'vector', elements: setOp(e.op, lhs.elements, rhs.elements, m) };
    return { type: 'vector', elements: unique(vectorBinop(e.op, lhs.elements, rhs.elements, m), e.op) };
  }
  const swap = lhs.type === 'scalar';
  const vector = (swap ? rhs : lhs) as Extract<Value, { type: 'vector' }>;
  const scalar = (swap ? lhs : rhs) as Extract<Value, { type: 'scalar' }>;
  const out: Element[] = [];
  for (const el of vector.elements) {
    const [l, r] = swap ? [scalar.value, el.value] : [el.value, scalar.value];
    if (isComparison(e.op)) {
      // A comparison filters: the vector's element passes with its own value, whichever side it is on.
      if (compare(e.op, l, r)) out.push(el);
    } else out.push({ labels: dropName(el.labels), value: arithmetic(e.op, l, r) });
  }
  return { type: 'vector', elements: unique(out, e.op) };
}

function arithmetic(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    default:
      throw new PromqlError(`operator ${op} is not defined between scalars`);
  }
}

function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '<':
      return l < r;
    case '>':
      return l > r;
    case '<=':
      return l <= r;
    case '>=':
      return l >= r;
    default:
      throw new PromqlError(`${op} is not a comparison`);
  }
}

/** The labels two elements are matched on: the listed ones with on(), all but the listed ones and the name otherwise. */
function signature(labels: Labels, m: VectorMatching): string {
  const names = m.on ? [...m.labels].sort() : Object.keys(labels).filter((k) => k !== '__name__' && !m.labels.includes(k)).sort();
  return names.map((k) => `${k}\u0001${labels[k] ?? ''}`).join('\u0000');
}


const formatLabels = (labels: Labels): string => `{${Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(', ')}}`;

function setOp(op: 'and' | 'or' | 'unless', lhs: readonly Element[], rhs: readonly Element[], m: VectorMatching): Element[] {
  if (op === 'and') {
    if (lhs.length === 0 || rhs.length === 0) return [];
    const right = new Set(rhs.map((el) => signature(el.labels, m)));
    return lhs.filter((el) => right.has(signature(el.labels, m)));
  }
  if (op === 'unless') {
    const right = new Set(rhs.map((el) => signature(el.labels, m)));
    return lhs.filter((el) => !right.has(signature(el.labels, m)));
  }
  if (lhs.length === 0) return [...rhs];
  if (rhs.length === 0) return [...lhs];
  const left = new Set(lhs.map((el) => signature(el.labels, m)));
  return [...lhs, ...rhs.filter((el) => !left.has(signature(el.labels, m)))];
}

/** Arithmetic and comparison between two vectors, with one-to-one or group_left/group_right matching, as Prometheus's VectorBinop. */
function vectorBinop(op: BinaryOp, lhsIn: readonly Element[], rhsIn: readonly Element[], m: VectorMatching): Element[] {
  const swapped = m.card === 'one-to-many';
  const [many, one] = swapped ? [rhsIn, lhsIn] : [lhsIn, rhsIn];
  const oneSide = new Map<string, Element>();
  for (const el of one) {
    const sig = signature(el.labels, m);
    const dup = oneSide.get(sig);
    if (dup) {
      throw new PromqlError(
        `found duplicate series for the match group on the ${swapped ? 'left' : 'right'} hand-side of the operation: [${formatLabels(el.labels)}, ${formatLabels(dup.labels)}]; many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    oneSide.set(sig, el);
  }
  const matched = new Map<string, Set<string>>();
  const out: Element[] = [];
  for (const el of many) {
    const sig = signature(el.labels, m);
    const partner = oneSide.get(sig);
    if (!partner) continue;
    const [l, r] = swapped ? [partner.value, el.value] : [el.value, partner.value];
    let value: number;
    if (isComparison(op)) {
      if (!compare(op, l, r)) continue;
      value = l;
    } else value = arithmetic(op, l, r);
    const labels = resultLabels(el.labels, partner.labels, op, m);
    const seen = matched.get(sig);
    if (m.card === 'one-to-one') {
      if (seen) throw new PromqlError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      matched.set(sig, new Set());
    } else {
      const key = labelsKey(labels);
      if (seen?.has(key)) throw new PromqlError('multiple matches for labels: grouping labels must ensure unique matches');
      if (seen) seen.add(key);
      else matched.set(sig, new Set([key]));
    }
    out.push({ labels, value });
  }
  return out;
}

/** The result's labels: the "many" side's, without the name for arithmetic, narrowed by on/ignoring when one-to-one, plus group_x labels from the "one" side. */
function resultLabels(many: Labels, one: Labels, op: BinaryOp, m: VectorMatching): Labels {
  let out: Record<string, string> = { ...many };
  if (!isComparison(op)) delete out.__name__;
  if (m.card === 'one-to-one') {
    if (m.on) out = Object.fromEntries(Object.entries(out).filter(([k]) => m.labels.includes(k)));
    else for (const k of m.labels) delete out[k];
  }
  for (const k of m.include) {
    const v = one[k];
    if (v) out[k] = v;
    else delete out[k];
  }
  return out;
}

/** Prometheus refuses a result in which two elements have the same labels (typically once the names are dropped). */
function unique(elements: Element[], where: string): Element[] {
  const seen = new Set<string>();
  for (const el of elements) {
    const key = labelsKey(el.labels);
    if (seen.has(key)) throw new PromqlError(`vector cannot contain metrics with the same labelset (${formatLabels(el.labels)}, after ${where})`);
    seen.add(key);
  }
  return elements;
}
