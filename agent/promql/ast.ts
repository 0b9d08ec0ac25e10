/**
 * The typed syntax tree of the PromQL subset the agent evaluates locally: exactly what the shipped
 * rules use, plus the operators of the same families. Anything else is refused when parsed.
 */

export type ValueType = 'scalar' | 'vector' | 'matrix';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export type ArithmeticOp = '+' | '-' | '*' | '/';
export type ComparisonOp = '==' | '!=' | '<' | '>' | '<=' | '>=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export const FUNCTIONS = ['rate', 'deriv', 'predict_linear', 'absent', 'time'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** Vector matching of a binary operation between two vectors, as `on`/`ignoring` and `group_left`/`group_right` set it. */
export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** `on(...)` when true, `ignoring(...)` (or nothing) when false. */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** Labels copied from the "one" side by `group_left(...)`/`group_right(...)`. */
  readonly include: readonly string[];
}

export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly text: string }
  | { readonly kind: 'selector'; readonly name: string; readonly matchers: readonly Matcher[] }
  | { readonly kind: 'matrix'; readonly selector: Extract<Expr, { kind: 'selector' }>; readonly rangeMs: number; readonly rangeText: string }
  | { readonly kind: 'call'; readonly fn: FunctionName; readonly args: readonly Expr[] }
  | { readonly kind: 'paren'; readonly expr: Expr }
  | {
      readonly kind: 'binary';
      readonly op: BinaryOp;
      readonly lhs: Expr;
      readonly rhs: Expr;
      /** Present when both sides are vectors. */
      readonly matching?: VectorMatching;
      /** Whether the modifiers were written (`on`, `ignoring`, `group_*`); printing keeps them as written. */
      readonly modifierWritten: boolean;
    };

export type SelectorExpr = Extract<Expr, { kind: 'selector' }>;

export const isComparison = (op: BinaryOp): op is ComparisonOp => ['==', '!=', '<', '>', '<=', '>='].includes(op);
export const isSetOp = (op: BinaryOp): op is SetOp => op === 'and' || op === 'or' || op === 'unless';

/** The type an expression evaluates to. */
export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'selector':
      return 'vector';
    case 'matrix':
      return 'matrix';
    case 'paren':
      return typeOf(e.expr);
    case 'call':
      return e.fn === 'time' ? 'scalar' : 'vector';
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
  }
}

/** Prints an expression back as PromQL; parsing the result gives the same tree. */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return e.text;
    case 'selector': {
      const matchers = e.matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`);
      return matchers.length > 0 ? `${e.name}{${matchers.join(', ')}}` : e.name;
    }
    case 'matrix':
      return `${formatExpr(e.selector)}[${e.rangeText}]`;
    case 'paren':
      return `(${formatExpr(e.expr)})`;
    case 'call':
      return `${e.fn}(${e.args.map(formatExpr).join(', ')})`;
    case 'binary': {
      let mod = '';
      const m = e.matching;
      if (m && e.modifierWritten) {
        if (m.on || m.labels.length > 0) mod += ` ${m.on ? 'on' : 'ignoring'}(${m.labels.join(', ')})`;
        if (m.card === 'many-to-one') mod += ` group_left(${m.include.join(', ')})`;
        if (m.card === 'one-to-many') mod += ` group_right(${m.include.join(', ')})`;
      }
      return `${formatExpr(e.lhs)} ${e.op}${mod} ${formatExpr(e.rhs)}`;
    }
  }
}
