import { parser } from '@prometheus-io/lezer-promql';
import { regexError } from '../config/regex.js';
import { FUNCTIONS, isComparison, isSetOp, typeOf, type BinaryOp, type Expr, type FunctionName, type MatchOp, type Matcher, type SelectorExpr, type ValueType, type VectorMatching } from './ast.js';

/** A node of lezer's syntax tree (its type comes with the parser, so no direct dependency on @lezer/common). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** A PromQL expression the agent cannot evaluate: a syntax error or a construct outside its subset. */
export class PromqlError extends Error {
  constructor(
    message: string,
    /** The construct as written, when one is to blame. */
    readonly construct?: string,
  ) {
    super(message);
    this.name = 'PromqlError';
  }
}

const BINARY_OPS: Readonly<Record<string, BinaryOp>> = {
  Add: '+', Sub: '-', Mul: '*', Div: '/',
  Eql: '==', Neq: '!=', Lss: '<', Gtr: '>', Lte: '<=', Gte: '>=',
  And: 'and', Or: 'or', Unless: 'unless',
};

const MATCH_OPS: Readonly<Record<string, MatchOp>> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

/** What each supported function takes. */
const SIGNATURES: Readonly<Record<FunctionName, readonly ValueType[]>> = {
  rate: ['matrix'],
  deriv: ['matrix'],
  predict_linear: ['matrix', 'scalar'],
  absent: ['vector'],
  time: [],
};

/** Readable names for the constructs outside the subset, by grammar node. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  AggregateExpr: 'aggregation',
  OffsetExpr: 'offset modifier',
  StepInvariantExpr: '@ modifier',
  SubqueryExpr: 'subquery',
  UnaryExpr: 'unary operator',
  BoolModifier: 'bool modifier',
  Mod: 'operator %',
  Pow: 'operator ^',
  Atan2: 'operator atan2',
  StringLiteral: 'string literal',
  QuotedLabelMatcher: 'quoted label name',
  AnchoredExpr: 'anchored modifier',
  SmoothedExpr: 'smoothed modifier',
  FillModifier: 'fill modifier',
};

/**
 * Parses a PromQL expression with Prometheus's own grammar (lezer-promql) into the agent's typed tree.
 * Throws PromqlError on a syntax error, a type error (a function given the wrong kind of argument,
 * a comparison of two scalars without bool) or any construct outside the supported subset.
 */
export function parsePromql(text: string): Expr {
  const tree = parser.parse(text);
  const top = tree.topNode;
  const errors: string[] = [];
  tree.iterate({
    enter(n) {
      if (n.type.isError) errors.push(`at character ${n.from + 1}${n.to > n.from ? ` (${JSON.stringify(text.slice(n.from, n.to))})` : ''}`);
    },
  });
  if (errors.length > 0) throw new PromqlError(`syntax error ${errors[0]} in ${JSON.stringify(text)}`);
  const root = children(top);
  if (root.length !== 1) throw new PromqlError(`expected one expression in ${JSON.stringify(text)}`);
  return convert(root[0]!, text);
}

function children(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c);
  return out;
}

const src = (n: SyntaxNode, text: string): string => text.slice(n.from, n.to);

function unsupported(n: SyntaxNode, text: string, what = UNSUPPORTED[n.name] ?? n.name): never {
  const written = src(n, text);
  throw new PromqlError(`unsupported construct: ${what} (${JSON.stringify(written.length > 60 ? `${written.slice(0, 57)}...` : written)})`, what);
}

function convert(n: SyntaxNode, text: string): Expr {
  switch (n.name) {
    case 'NumberDurationLiteral':
      return { kind: 'number', value: parseNumber(n, text), text: src(n, text) };
    case 'VectorSelector':
      return selector(n, text);
    case 'MatrixSelector':
      return matrix(n, text);
    case 'ParenExpr': {
      const inner = children(n);
      if (inner.length !== 1) unsupported(n, text, 'parenthesised expression');
      return { kind: 'paren', expr: convert(inner[0]!, text) };
    }
    case 'FunctionCall':
      return call(n, text);
    case 'BinaryExpr':
      return binary(n, text);
    default:
      return unsupported(n, text);
  }
}

function parseNumber(n: SyntaxNode, text: string): number {
  const s = src(n, text);
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  // Prometheus 3 reads "1h" as a number of seconds where a number is expected; 2.x does not.
  if (!/^(0x[0-9a-f]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?|[0-9]+\.)$/i.test(s)) unsupported(n, text, 'duration used as a number');
  return Number(s);
}

function selector(n: SyntaxNode, text: string): SelectorExpr {
  let name = '';
  const matchers: Matcher[] = [];
  for (const c of children(n)) {
    if (c.name === 'Identifier') name = src(c, text);
    else if (c.name === 'LabelMatchers') {
      for (const m of children(c)) {
        if (m.name !== 'UnquotedLabelMatcher') unsupported(m, text);
        const [label, op, value] = children(m);
        const opNode = op && children(op)[0];
        const matchOp = opNode && MATCH_OPS[opNode.name];
        if (!label || !matchOp || !value || value.name !== 'StringLiteral') unsupported(m, text, 'label matcher');
        const matcher = { name: src(label, text), op: matchOp, value: parseString(src(value, text)) };
        if (matchOp === '=~' || matchOp === '!~') {
          // Prometheus compiles matchers with Go's RE2: what RE2 rejects, promtool rejects too.
          const error = regexError(matcher.value);
          if (error !== undefined) throw new PromqlError(`invalid regular expression in label matcher: ${error}`, src(m, text));
        }
        matchers.push(matcher);
      }
    } else unsupported(c, text);
  }
  const nameMatchers = matchers.filter((m) => m.name === '__name__');
  if (nameMatchers.length > 0) unsupported(n, text, 'selection by __name__');
  if (name === '') unsupported(n, text, 'selector without a metric name');
  return { kind: 'selector', name, matchers };
}

function matrix(n: SyntaxNode, text: string): Expr {
  const [vs, range, ...rest] = children(n);
  if (!vs || vs.name !== 'VectorSelector' || !range || range.name !== 'DurationExpr' || rest.length > 0) unsupported(n, text, 'range selector');
  const lit = children(range);
  if (lit.length !== 1 || lit[0]!.name !== 'NumberDurationLiteralInDurationContext') unsupported(range, text, 'computed range duration');
  const rangeText = src(lit[0]!, text);
  return { kind: 'matrix', selector: selector(vs, text), rangeMs: parseDurationMs(rangeText, range, text), rangeText };
}

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

function parseDurationMs(s: string, n: SyntaxNode, text: string): number {
  const parts = [...s.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s) unsupported(n, text, 'range given as a number');
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_MS[p[2]!]!, 0);
  if (ms <= 0) throw new PromqlError(`range must be positive: ${JSON.stringify(s)}`);
  return ms;
}

/** A Go string literal: "double" (with escapes), 'single' or `raw`. */
function parseString(s: string): string {
  if (s.startsWith('`')) return s.slice(1, -1);
  const body = s.slice(1, -1);
  const quoted = s.startsWith("'") ? `"${body.replace(/\\'/g, "'").replace(/"/g, '\\"')}"` : s;
  try {
    return JSON.parse(quoted) as string;
  } catch {
    throw new PromqlError(`unsupported escape in string ${s}`, 'string escape');
  }
}

function call(n: SyntaxNode, text: string): Expr {
  const [id, body] = children(n);
  const fnNode = id && children(id)[0];
  const name = fnNode ? src(fnNode, text) : '';
  if (!(FUNCTIONS as readonly string[]).includes(name)) unsupported(n, text, `function ${name}()`);
  const fn = name as FunctionName;
  const args = body ? children(body).map((a) => convert(a, text)) : [];
  const want = SIGNATURES[fn];
  if (args.length !== want.length) throw new PromqlError(`${fn}() takes ${want.length} argument(s), got ${args.length} in ${JSON.stringify(src(n, text))}`);
  args.forEach((a, i) => {
    if (typeOf(a) !== want[i]) throw new PromqlError(`${fn}() expects a ${want[i]} as argument ${i + 1}, got a ${typeOf(a)} in ${JSON.stringify(src(n, text))}`);
  });
  return { kind: 'call', fn, args };
}

function binary(n: SyntaxNode, text: string): Expr {
  const parts = children(n);
  const lhsNode = parts[0]!;
  const rhsNode = parts[parts.length - 1]!;
  let op: BinaryOp | undefined;
  let on = false;
  let labels: string[] = [];
  let include: string[] = [];
  let group: 'left' | 'right' | undefined;
  let modifierWritten = false;
  for (const c of parts.slice(1, -1)) {
    if (BINARY_OPS[c.name]) op = BINARY_OPS[c.name];
    else if (c.name === 'MatchingModifierClause') {
      modifierWritten = true;
      let target: 'labels' | 'include' = 'labels';
      for (const m of children(c)) {
        if (m.name === 'On' || m.name === 'Ignoring') on = m.name === 'On';
        else if (m.name === 'GroupLeft' || m.name === 'GroupRight') {
          group = m.name === 'GroupLeft' ? 'left' : 'right';
          target = 'include';
        } else if (m.name === 'GroupingLabels') {
          const names = children(m).map((l) => (l.name === 'LabelName' ? src(l, text) : unsupported(l, text)));
          if (target === 'labels') labels = names;
          else include = names;
        } else unsupported(m, text);
      }
    } else unsupported(c, text);
  }
  if (!op) return unsupported(n, text, 'binary operator');
  const lhs = convert(lhsNode, text);
  const rhs = convert(rhsNode, text);
  const lt = typeOf(lhs);
  const rt = typeOf(rhs);
  const written = JSON.stringify(src(n, text));
  if (lt === 'matrix' || rt === 'matrix') throw new PromqlError(`a range vector cannot be an operand of ${op} in ${written}`);
  if (isComparison(op) && lt === 'scalar' && rt === 'scalar') throw new PromqlError(`comparisons between scalars need bool, which is not supported, in ${written}`, 'bool modifier');
  if (isSetOp(op) && (lt !== 'vector' || rt !== 'vector')) throw new PromqlError(`${op} is defined only between two vectors, in ${written}`);
  if (modifierWritten && (lt !== 'vector' || rt !== 'vector')) throw new PromqlError(`vector matching needs two vectors, in ${written}`);
  if (group && isSetOp(op)) throw new PromqlError(`no grouping allowed for ${op}, in ${written}`);
  let matching: VectorMatching | undefined;
  if (lt === 'vector' && rt === 'vector') {
    const card = isSetOp(op) ? 'many-to-many' : group === 'left' ? 'many-to-one' : group === 'right' ? 'one-to-many' : 'one-to-one';
    matching = { card, on, labels, include };
  }
  return { kind: 'binary', op, lhs, rhs, matching, modifierWritten };
}
