import { counterMeaning, parseCounterPath } from '../platform/windows/counters.js';
import type { PdhLog } from './pdh-csv.js';
import type { Track } from './track.js';

/**
 * The log's columns as tracks, through the one counter map the Windows collector also uses. Each
 * column keeps its full instance (`w3wp#1`, `svchost:1234`) as its subject, so one leaking process
 * is told from its namesakes. Columns with no meaning for the agent are listed as ignored.
 */
export function pdhTracks(log: PdhLog): { tracks: Track[]; ignored: string[]; cpus?: number } {
  const tracks: Track[] = [];
  const ignored: string[] = [];
  const cpus = new Set<string>();
  for (const column of log.columns) {
    const path = parseCounterPath(column.header);
    // Per-CPU Processor instances are not a metric of their own, but they tell how many CPUs
    // the host had, which the processor queue is judged against.
    if (path && /^processor( information)?$/i.test(path.object) && /^\d+(,\d+)?$/.test(path.instance)) cpus.add(path.instance);
    const meaning = path && counterMeaning(path);
    if (!path || !meaning) {
      ignored.push(column.header);
      continue;
    }
    tracks.push({
      counter: column.header,
      instance: path.instance,
      metric: meaning.metric,
      labels: meaning.labels,
      times: log.times,
      values: meaning.scale === 1 ? column.values : column.values.map((v) => v * meaning.scale),
    });
  }
  return { tracks, ignored, cpus: cpus.size > 0 ? cpus.size : undefined };
}
