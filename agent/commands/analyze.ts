import { open } from 'node:fs/promises';
import { assessTrend } from '../detect/trend.js';
import { InputError } from '../analyze/input-error.js';
import { judgeLog } from '../analyze/judge.js';
import { readPdhCsv } from '../analyze/pdh-csv.js';
import { pdhTracks } from '../analyze/pdh-tracks.js';
import { prometheusTracks } from '../analyze/prometheus-tracks.js';
import { readQueryRange } from '../analyze/query-range.js';
import { renderReport } from '../analyze/report.js';
import type { Track } from '../analyze/track.js';

/**
 * Reads a PerfMon CSV or a Prometheus query_range export and says what was leaking, exhausted or
 * saturated. Exit 0: nothing found; 1: findings; 2: the input could not be read.
 */
export async function analyze(file: string | undefined, opts: { json: boolean; cpus?: number }): Promise<number> {
  if (!file) {
    process.stderr.write('analyze needs a FILE (a PerfMon CSV or a Prometheus query_range JSON)\n');
    return 2;
  }
  let loaded: { tracks: Track[]; ignored: string[]; cpus?: number };
  try {
    loaded = (await looksLikeJson(file)) ? prometheusTracks(await readQueryRange(file)) : pdhTracks(await readPdhCsv(file));
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
  if (loaded.tracks.length === 0) {
    process.stderr.write(`${file}: none of its ${loaded.ignored.length} counters means anything the agent judges\n`);
    return 2;
  }
  const { findings, healthy } = judgeLog(loaded.tracks, { trend: assessTrend, cpus: opts.cpus ?? loaded.cpus });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  } else {
    process.stdout.write(renderReport(file, findings, healthy, loaded.ignored));
  }
  return findings.length > 0 ? 1 : 0;
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
