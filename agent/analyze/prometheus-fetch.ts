import { InputError } from './input-error.js';
import { parseQueryRange, type RangeSeries } from './query-range.js';

/** Prometheus refuses a range query of more than 11,000 points per series; each request stays under this. */
export const MAX_POINTS_PER_REQUEST = 10_000;
/** Most requests one analysis makes (a week at 15 s is 7). */
const MAX_REQUESTS = 50;
const REQUEST_TIMEOUT_MS = 30_000;

export interface FetchOptions {
  readonly url: string;
  readonly match: string;
  readonly sinceSeconds: number;
  /** Resolution of the query, seconds: the agent's scrape interval is a good choice. */
  readonly stepSeconds: number;
  readonly now?: number;
}

/** The requests a range of `sinceSeconds` at `stepSeconds` needs, each under the per-series point limit. */
export function chunkRange(startS: number, endS: number, stepS: number): Array<{ start: number; end: number }> {
  const chunks: Array<{ start: number; end: number }> = [];
  const width = stepS * (MAX_POINTS_PER_REQUEST - 1);
  for (let s = startS; s <= endS; s += width + stepS) chunks.push({ start: s, end: Math.min(endS, s + width) });
  return chunks;
}

/**
 * Fetches `match` over the last `sinceSeconds` from a Prometheus server's query_range API, in as many
 * requests as the point limit needs, and joins each series' chunks. Errors are InputErrors naming
 * the server, so `analyze` reports them as it does an unreadable file.
 */
export async function fetchPrometheus(opts: FetchOptions): Promise<RangeSeries[]> {
  const endS = Math.floor((opts.now ?? Date.now()) / 1000);
  const startS = endS - opts.sinceSeconds;
  const chunks = chunkRange(startS, endS, opts.stepSeconds);
  if (chunks.length > MAX_REQUESTS) {
    throw new InputError(opts.url, undefined, `${chunks.length} requests needed at a ${opts.stepSeconds} s step; ask for less (--since) or a coarser step`);
  }
  const joined = new Map<string, { series: RangeSeries; parts: RangeSeries[] }>();
  for (const c of chunks) {
    const query = new URL('api/v1/query_range', opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    query.searchParams.set('query', opts.match);
    query.searchParams.set('start', String(c.start));
    query.searchParams.set('end', String(c.end));
    query.searchParams.set('step', String(opts.stepSeconds));
    let text: string;
    try {
      const res = await fetch(query, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      text = await res.text();
      if (!res.ok) throw new InputError(opts.url, undefined, `query_range answered ${res.status}: ${text.slice(0, 300)}`);
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(opts.url, undefined, `cannot query: ${(err as Error).message}`);
    }
    for (const s of parseQueryRange(text, opts.url)) {
      const entry = joined.get(s.header);
      if (entry) entry.parts.push(s);
      else joined.set(s.header, { series: s, parts: [s] });
    }
  }
  return [...joined.values()].map(({ series, parts }) => {
    const n = parts.reduce((a, p) => a + p.times.length, 0);
    const times = new Float64Array(n);
    const values = new Float64Array(n);
    let at = 0;
    for (const p of parts) {
      times.set(p.times, at);
      values.set(p.values, at);
      at += p.times.length;
    }
    return { ...series, times, values };
  });
}
