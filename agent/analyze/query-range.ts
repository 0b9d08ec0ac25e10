import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from './input-error.js';

/** One series of a Prometheus range query, with its exposition-style name as the column header. */
export interface RangeSeries {
  readonly header: string;
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly times: Float64Array;
  readonly values: Float64Array;
}

const sampleValue = z.tuple([z.number(), z.string()]);
const responseSchema = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('matrix'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sampleValue) })),
  }),
});

/** Reads the body of a Prometheus `query_range` response (a matrix) into series. */
export async function readQueryRange(file: string): Promise<RangeSeries[]> {
  const text = await readFile(file, 'utf8');
  return parseQueryRange(text, file);
}

export function parseQueryRange(text: string, file: string): RangeSeries[] {
  if (text.trim() === '') throw new InputError(file, undefined, 'empty file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message);
    const line = position ? text.slice(0, Number(position[1])).split('\n').length : undefined;
    throw new InputError(file, line, `not JSON: ${(err as Error).message}`);
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, undefined, `not a Prometheus query_range matrix response: at ${issue.path.join('.') || 'the top level'}: ${issue.message}`);
  }
  return parsed.data.data.result.map(({ metric, values }) => {
    const { __name__: name = '', ...labels } = metric;
    const times = new Float64Array(values.length);
    const numbers = new Float64Array(values.length);
    values.forEach(([t, v], i) => {
      times[i] = t * 1000;
      numbers[i] = Number(v); // Prometheus writes NaN and ±Inf as strings; keep them as such
    });
    const labelText = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',');
    return { header: `${name}${labelText ? `{${labelText}}` : ''}`, metric: name, labels, times, values: numbers };
  });
}
