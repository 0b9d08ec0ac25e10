import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatExpr } from '../../agent/promql/ast.js';
import { parsePromql, PromqlError } from '../../agent/promql/parse.js';
import { ROOT } from '../helpers/agent.js';

const shippedExprs = (parse(readFileSync(`${ROOT}rules/contention.yml`, 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups.flatMap((g) =>
  g.rules.map((r) => r.expr),
);

describe('parsePromql', () => {
  it('parses every expression of the shipped rules, and printing the tree parses back to the same tree', () => {
    expect(shippedExprs.length).toBeGreaterThan(20);
    for (const text of shippedExprs) {
      const tree = parsePromql(text);
      expect(parsePromql(formatExpr(tree)), text).toEqual(tree);
    }
  });

  it('builds the tree Prometheus precedence gives: arithmetic over comparison over and/or', () => {
    const e = parsePromql('a - b > on(instance) group_left(pool) c and d == 1 or e');
    expect(formatExpr(e)).toBe('a - b > on(instance) group_left(pool) c and d == 1 or e');
    expect(e).toMatchObject({
      kind: 'binary', op: 'or',
      lhs: {
        kind: 'binary', op: 'and',
        lhs: {
          kind: 'binary', op: '>',
          lhs: { kind: 'binary', op: '-', matching: { card: 'one-to-one', on: false, labels: [] } },
          matching: { card: 'many-to-one', on: true, labels: ['instance'], include: ['pool'] },
        },
        rhs: { kind: 'binary', op: '==', matching: undefined },
        matching: { card: 'many-to-many' },
      },
      rhs: { kind: 'selector', name: 'e' },
    });
  });

  it('reads selectors, matchers, ranges, numbers and the functions of the subset', () => {
    expect(parsePromql(`predict_linear(m{a="x", b!='y', c=~"p|q", d!~\`r.*\`}[1h30m], 4 * 3600)`)).toEqual({
      kind: 'call', fn: 'predict_linear',
      args: [
        {
          kind: 'matrix', rangeMs: 5_400_000, rangeText: '1h30m',
          selector: { kind: 'selector', name: 'm', matchers: [
            { name: 'a', op: '=', value: 'x' }, { name: 'b', op: '!=', value: 'y' }, { name: 'c', op: '=~', value: 'p|q' }, { name: 'd', op: '!~', value: 'r.*' },
          ] },
        },
        { kind: 'binary', op: '*', lhs: { kind: 'number', value: 4, text: '4' }, rhs: { kind: 'number', value: 3600, text: '3600' }, matching: undefined, modifierWritten: false },
      ],
    });
    expect(parsePromql('contention:memory_headroom_bytes')).toEqual({ kind: 'selector', name: 'contention:memory_headroom_bytes', matchers: [] });
    expect(parsePromql('absent(up{job="a\\"b"})')).toMatchObject({ fn: 'absent', args: [{ matchers: [{ value: 'a"b' }] }] });
    expect(parsePromql('time() - 1.5e3')).toMatchObject({ lhs: { fn: 'time', args: [] }, rhs: { value: 1500 } });
  });

  const refused: Array<[string, string]> = [
    ['sum by (pool) (contention_kernel_pool_bytes)', 'aggregation'],
    ['contention_kernel_pool_bytes offset 5m', 'offset modifier'],
    ['contention_kernel_pool_bytes @ 100', '@ modifier'],
    ['deriv(contention_kernel_pool_bytes[1h:5m])', 'subquery'],
    ['-contention_kernel_pool_bytes', 'unary operator'],
    ['contention_cpus > bool 2', 'bool modifier'],
    ['contention_cpus % 2', 'operator %'],
    ['contention_cpus ^ 2', 'operator ^'],
    ['max_over_time(contention_cpus[5m])', 'function max_over_time()'],
    ['increase(contention_cpus[5m])', 'function increase()'],
    ['"text"', 'string literal'],
    ['{__name__="contention_cpus"}', 'selection by __name__'],
    ['{job="contention-agent"}', 'selector without a metric name'],
  ];
  it.each(refused)('refuses %s, naming the construct', (text, construct) => {
    let error: unknown;
    try {
      parsePromql(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PromqlError);
    expect((error as PromqlError).construct).toBe(construct);
    expect((error as Error).message).toContain(`unsupported construct: ${construct}`);
  });

  it('refuses syntax and type errors with where and what', () => {
    expect(() => parsePromql('contention_cpus >')).toThrow(/syntax error at character/);
    expect(() => parsePromql('rate(contention_cpus)')).toThrow('rate() expects a matrix as argument 1, got a vector');
    expect(() => parsePromql('deriv(a[5m], 3)')).toThrow('deriv() takes 1 argument(s), got 2');
    expect(() => parsePromql('1 > 2')).toThrow(/comparisons between scalars need bool/);
    expect(() => parsePromql('a and 1')).toThrow(/and is defined only between two vectors/);
    expect(() => parsePromql('a[5m] > 1')).toThrow(/range vector cannot be an operand/);
  });
});
