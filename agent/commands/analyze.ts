import { open } from 'node:fs/promises';
import { judgeSeries } from '../detect/verdict.js';
import { InputError } from '../analyze/input-error.js';
import { judgeLog } from '../analyze/judge.js';
import { readPdhCsv } from '../analyze/pdh-csv.js';
import { pdhTracks } from '../analyze/pdh-tracks.js';
import { fetchPrometheus } from '../analyze/prometheus-fetch.js';
import { prometheusTracks } from '../analyze/prometheus-tracks.js';
import { readQueryRange } from '../analyze/query-range.js';
import { renderReport } from '../analyze/report.js';
import type { Track } from '../analyze/track.js';
import { parseDuration } from '../config/units.js';

export interface AnalyzeOptions {
  readonly json: boolean;
  readonly cpus?: number;
  readonly verbose?: boolean;
  readonly prometheus?: string;
  readonly match?: string;
  readonly since?: string;
  readonly step?: string;
}

/** What the agent exports: the default selector of `--prometheus`. */
const DEFAULT_MATCH = '{__name__=~"contention_.+"}';
/** The agent's default sample interval: one point per scrape of it. */
const STEP_SECONDS = 15;

interface Loaded {
  tracks: Track[];
  ignored: string[];
  cpus?: number;
  warnings: string[];
  commitEnforced?: boolean;
}

/**
 * Reads a PerfMon CSV or a Prometheus query_range export, or queries a Prometheus server, and says
 * what was leaking, exhausted or saturated. Exit 0: nothing found; 1: findings; 2: the input could
 * not be read.
 */
export async function analyze(file: string | undefined, opts: AnalyzeOptions): Promise<number> {
  if (!file && !opts.prometheus) {
    process.stderr.write('analyze needs a FILE (a PerfMon CSV or a Prometheus query_range JSON) or --prometheus=URL\n');
    return 2;
  }
  const source = opts.prometheus ?? file!;
  let loaded: Loaded;
  try {
    loaded = await load(file, opts);
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code) {
      process.stderr.write(`${file}: cannot read the file (${code})\n`);
      return 2;
    }
    throw err;
  }
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
  if (loaded.tracks.length === 0) {
    process.stderr.write(`${source}: none of its ${loaded.ignored.length} counters means anything the agent judges\n`);
    return 2;
  }
  const { findings, healthy } = judgeLog(loaded.tracks, {
    trend: (t, v, ctx) => judgeSeries(t, v, ctx),
    cpus: opts.cpus ?? loaded.cpus,
    commitEnforced: loaded.commitEnforced,
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  } else {
    process.stdout.write(renderReport(source, findings, healthy, loaded.ignored, { verbose: opts.verbose ?? false }));
  }
  return findings.length > 0 ? 1 : 0;
}

async function load(file: string | undefined, opts: AnalyzeOptions): Promise<Loaded> {
  if (opts.prometheus) {
    const since = parseDuration(opts.since ?? '24h');
    if (since === undefined || since <= 0) throw new InputError(opts.prometheus, undefined, `--since: expected a duration like "24h" (got ${JSON.stringify(opts.since)})`);
    const step = opts.step === undefined ? STEP_SECONDS : parseDuration(opts.step);
    if (step === undefined || step <= 0) throw new InputError(opts.prometheus, undefined, `--step: expected a duration like "15s" (got ${JSON.stringify(opts.step)})`);
    const series = await fetchPrometheus({ url: opts.prometheus, match: opts.match ?? DEFAULT_MATCH, sinceSeconds: since, stepSeconds: step });
    return { ...prometheusTracks(series), warnings: [] };
  }
  if (await looksLikeJson(file!)) return { ...prometheusTracks(await readQueryRange(file!)), warnings: [] };
  const log = await readPdhCsv(file!);
  const warnings: string[] = [];
  if (log.truncated) warnings.push(`${file}: the last line is cut off (${log.truncated}); analysed up to the row before it`);
  if (log.skipped.count > 0) {
    warnings.push(`${file}: skipped ${log.skipped.count} unreadable row${log.skipped.count === 1 ? '' : 's'} (${log.skipped.examples.join('; ')}${log.skipped.count > log.skipped.examples.length ? '; ...' : ''})`);
  }
  // A PerfMon log comes from Windows, which always enforces its commit limit.
  return { ...pdhTracks(log), warnings, commitEnforced: true };
}

async function looksLikeJson(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').trimStart().startsWith('{');
  } finally {
    await handle.close();
  }
}
