import { describe, expect, it } from 'vitest';
import { parseQueryRange } from '../../agent/analyze/query-range.js';

const body = {
  status: 'success',
  data: {
    resultType: 'matrix',
    result: [
      { metric: { __name__: 'contention_process_group_private_bytes', group: 'leaky', instance: 'h:9947', job: 'a' }, values: [[1700000000, '100'], [1700000015.5, '200'], [1700000030, 'NaN']] },
    ],
  },
};

describe('parseQueryRange', () => {
  it('reads a matrix into series named as in the exposition', () => {
    const [s] = parseQueryRange(JSON.stringify(body), 'q.json');
    expect(s!.header).toBe('contention_process_group_private_bytes{group="leaky",instance="h:9947",job="a"}');
    expect(s!.metric).toBe('contention_process_group_private_bytes');
    expect([...s!.times]).toEqual([1700000000000, 1700000015500, 1700000030000]);
    expect(s!.values[1]).toBe(200);
    expect(Number.isNaN(s!.values[2]!)).toBe(true);
  });

  it('names the line of a JSON syntax error', () => {
    expect(() => parseQueryRange('{\n  "status": "success",\n  oops\n}', 'q.json')).toThrow(/^q\.json:3: not JSON/);
  });

  it('refuses a vector result or an error response, saying where', () => {
    expect(() => parseQueryRange(JSON.stringify({ ...body, data: { resultType: 'vector', result: [] } }), 'q.json')).toThrow(
      /q\.json: not a Prometheus query_range matrix response: at data\.resultType/,
    );
    expect(() => parseQueryRange(JSON.stringify({ status: 'error', error: 'x' }), 'q.json')).toThrow(/at status/);
    expect(() => parseQueryRange('', 'q.json')).toThrow(/q\.json: empty file/);
  });
});
