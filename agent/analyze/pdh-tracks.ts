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
    if (path && LIFE_COUNTERS.test(path.counter)) continue;
    if (!path || !meaning) {
      ignored.push(column.header);
      continue;
    }
    const lives = meaning.kind === 'process' ? processLives(log, path.object, path.instance) ?? hostLives(log) : hostLives(log);
    tracks.push({
      counter: column.header,
      instance: path.instance,
      metric: meaning.metric,
      labels: meaning.labels,
      times: log.times,
      values: meaning.scale === 1 ? column.values : column.values.map((v) => v * meaning.scale),
      ...(lives.starts.length > 0 ? { lifeStarts: lives.starts, lifeKind: lives.kind } : {}),
    });
  }
  return { tracks, ignored, cpus: cpus.size > 0 ? cpus.size : undefined };
}

/** Counters that say how long something has lived, and are read for that, not judged. */
const LIFE_COUNTERS = /^(elapsed time|system up time)$/i;

/**
 * Where the process's Elapsed Time went back: each is a new process under the same instance name
 * (a recycled app pool, a restarted service). A host reboot restarts the process too.
 */
function processLives(log: PdhLog, object: string, instance: string): { starts: number[]; kind: 'restart' | 'reboot' } | undefined {
  const column = log.columns.find((c) => {
    const p = parseCounterPath(c.header);
    return p && p.object.toLowerCase() === object.toLowerCase() && p.instance === instance && /^elapsed time$/i.test(p.counter);
  });
  if (!column) return undefined;
  const host = hostLives(log);
  const starts = wentBack(log.times, column.values);
  if (starts.length === 0) return host;
  return { starts, kind: starts.every((s) => host.starts.includes(s)) && host.starts.length > 0 ? 'reboot' : 'restart' };
}

/** Reboots: System Up Time going back, or else a gap in the rows of more than five intervals. */
function hostLives(log: PdhLog): { starts: number[]; kind: 'reboot' } {
  const column = log.columns.find((c) => {
    const p = parseCounterPath(c.header);
    return p && p.object.toLowerCase() === 'system' && /^system up time$/i.test(p.counter);
  });
  if (column) return { starts: wentBack(log.times, column.values), kind: 'reboot' };
  const gaps: number[] = [];
  const steps: number[] = [];
  for (let i = 1; i < log.times.length; i++) steps.push(log.times[i]! - log.times[i - 1]!);
  const typical = steps.length > 0 ? [...steps].sort((a, b) => a - b)[steps.length >> 1]! : 0;
  for (let i = 1; i < log.times.length; i++) if (typical > 0 && steps[i - 1]! > 5 * typical) gaps.push(log.times[i]!);
  return { starts: gaps, kind: 'reboot' };
}

/** Times of the rows where an ever-growing age (seconds alive) went back. */
function wentBack(times: ArrayLike<number>, ages: ArrayLike<number>): number[] {
  const out: number[] = [];
  let last = NaN;
  for (let i = 0; i < ages.length; i++) {
    const a = ages[i]!;
    if (Number.isNaN(a)) continue;
    if (a < last) out.push(times[i]!);
    last = a;
  }
  return out;
}
