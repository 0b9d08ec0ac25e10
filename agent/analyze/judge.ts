import { THRESHOLDS as T } from '../detect/thresholds.js';
import type { LeakVerdict, SubjectContext } from '../detect/verdict.js';
import { formatBytes as bytes } from '../text/bytes.js';
import { extremes, longestRunAbove } from './runs.js';
import type { Track } from './track.js';

export type FindingKind = 'leak' | 'exhaustion' | 'saturation';
export type Severity = 'critical' | 'warning';

export interface Finding {
  /** The counter path or series exactly as the input named it. */
  readonly counter: string;
  readonly instance: string;
  readonly finding: FindingKind;
  readonly severity: Severity;
  readonly evidence: Readonly<Record<string, number | string>>;
  readonly message: string;
}

export interface Examined {
  readonly counter: string;
  readonly instance: string;
  readonly summary: string;
}

/** What the leak test says of one series, given where its lives began; the agent's own detector supplies it. */
export type TrendTest = (timesMs: ArrayLike<number>, values: ArrayLike<number>, ctx: SubjectContext) => LeakVerdict;

export interface JudgeOptions {
  readonly trend: TrendTest;
  /** CPUs of the host the log came from (from the command line or the log's Processor instances). */
  readonly cpus?: number;
  /** Whether the host enforced its commit limit (a PerfMon log: Windows, yes); else read from the export. */
  readonly commitEnforced?: boolean;
}

/** How long a queue must stay above its threshold to count as saturated, as the alert rules' `for`. */
export const HELD_SECONDS = 300;

/** What each leak-judged metric is, as the subject of a sentence; `memory`: its growth draws on commit or available memory. */
const LEAK_METRICS: Readonly<Record<string, { unit: 'bytes' | 'count'; what: string; memory: boolean }>> = {
  contention_process_private_bytes: { unit: 'bytes', what: 'Private bytes of process', memory: true },
  contention_process_handles: { unit: 'count', what: 'Handles of process', memory: false },
  contention_process_threads: { unit: 'count', what: 'Threads of process', memory: false },
  contention_process_group_private_bytes: { unit: 'bytes', what: 'Private bytes of process group', memory: true },
  contention_process_group_handles: { unit: 'count', what: 'Handles of process group', memory: false },
  contention_process_group_threads: { unit: 'count', what: 'Threads of process group', memory: false },
  contention_kernel_pool_bytes: { unit: 'bytes', what: 'Kernel pool', memory: false },
  contention_memory_commit_bytes: { unit: 'bytes', what: 'The commit charge', memory: true },
};

/** Units of a metric, for healthy figures. */
const unitOf = (metric: string): 'bytes' | 'count' | 'ratio' =>
  LEAK_METRICS[metric]?.unit ?? (metric.endsWith('_bytes') ? 'bytes' : metric.endsWith('_ratio') ? 'ratio' : 'count');

const ADVICE: Readonly<Record<string, string>> = {
  contention_process_private_bytes: 'Capture a heap profile or a memory dump of this process before restarting it, and compare two captures taken apart.',
  contention_process_handles: 'List the open handles of this process (Process Explorer, handle.exe or /proc/PID/fd) and find the kind that grows.',
  contention_process_threads: 'Take a thread dump of this process twice and find the stack that keeps starting threads.',
  contention_process_group_private_bytes: 'Find the member process whose private bytes grow, then capture its heap or dump.',
  contention_process_group_handles: 'Find the member process whose handle count grows and list its handles.',
  contention_process_group_threads: 'Find the member process whose thread count grows and dump its threads.',
  contention_kernel_pool_bytes: 'Find the pool tag (poolmon) or slab cache (slabtop) that grows, and the driver that owns it.',
  contention_memory_commit_bytes: 'Find the processes whose private bytes grow; commit is their sum plus the kernel\'s.',
};

/** Judges every track of a log, as a field engineer reads it: findings worst first, the rest as examined and healthy. */
export function judgeLog(tracks: readonly Track[], opts: JudgeOptions): { findings: Finding[]; healthy: Examined[] } {
  const findings: Finding[] = [];
  const healthy: Examined[] = [];
  const cpus = opts.cpus ?? countCpus(tracks);
  const commitLimit = lastNumber(tracks.find((t) => t.metric === 'contention_memory_commit_limit_bytes'));
  const commit = tracks.find((t) => t.metric === 'contention_memory_commit_bytes');
  // Windows always enforces its commit limit; a Linux export says whether vm.overcommit_memory=2 does.
  const enforced = lastNumber(tracks.find((t) => t.metric === 'contention_memory_commit_limit_enforced'));
  // Absent from a log: a PerfMon log (Windows), which enforces it.
  const commitEnforced = opts.commitEnforced ?? (enforced === undefined || enforced === 1);

  for (const track of tracks) {
    const before = findings.length;
    const stats = extremes(track.times, track.values);
    if (stats.count < 2) continue;
    const hours = (track.times[track.times.length - 1]! - track.times[0]!) / 3_600_000;

    if (track.metric === 'contention_kernel_table_free_entries') {
      judgeTable(track, stats, tracks, findings);
    } else if (track.metric === 'contention_cpu_queue_length') {
      judgeQueue(track, T.cpuQueuePerCpu * (cpus ?? 1), findings, {
        what: 'CPU queue',
        basis: cpus ? `${T.cpuQueuePerCpu} per CPU × ${cpus} CPUs` : `${T.cpuQueuePerCpu} (CPU count unknown: judged as 1 CPU; pass --cpus)`,
        message: 'Threads waited for a CPU for minutes on end: find the busiest processes (% Processor Time per process) and whether the load or a runaway thread caused it.',
      });
    } else if (track.metric === 'contention_disk_queue_length') {
      judgeQueue(track, T.diskQueue, findings, {
        what: 'disk queue',
        basis: `${T.diskQueue} outstanding requests`,
        message: 'I/O queued on this disk for minutes on end: find the processes with the most I/O and check the disk\'s latency (Avg. Disk sec/Transfer).',
      });
    } else if (track.metric in LEAK_METRICS) {
      judgeLeak(track, opts.trend, findings, { commitLimit: commitEnforced ? commitLimit : undefined, commit });
    }

    if (findings.length === before) {
      const unit = unitOf(track.metric);
      const show = (n: number): string => (unit === 'bytes' ? bytes(n) : unit === 'ratio' ? `${(n * 100).toFixed(1)}%` : fmt(n));
      healthy.push({
        counter: track.counter,
        instance: track.instance,
        summary: `min ${show(stats.min)}, max ${show(stats.max)} over ${hours.toFixed(1)} h`,
      });
    }
  }
  findings.sort((a, b) => rank(b) - rank(a));
  return { findings, healthy };
}

function judgeTable(track: Track, stats: ReturnType<typeof extremes>, tracks: readonly Track[], out: Finding[]): void {
  const table = track.labels.table;
  if (table === 'system_ptes') {
    if (stats.min >= T.systemPtesMinFree) return;
    const below = timeBelow(track, T.systemPtesMinFree);
    out.push({
      counter: track.counter, instance: track.instance, finding: 'exhaustion', severity: 'critical',
      evidence: { minimum_free_entries: stats.min, minimum_at: new Date(stats.minAtMs).toISOString(), threshold: T.systemPtesMinFree, seconds_below_threshold: below / 1000 },
      message: `Free System PTEs fell to ${fmt(stats.min)}, under ${fmt(T.systemPtesMinFree)}: the host was close to hanging. Find what maps kernel address space (a driver, or a process with many threads or large I/O) with !vm and a kernel dump, rather than rebooting.`,
    });
    return;
  }
  const size = lastNumber(tracks.find((t) => t.metric === 'contention_kernel_table_size_entries' && t.labels.table === table));
  if (!size) return;
  const ratio = stats.min / size;
  if (ratio >= T.kernelTableFreeWarning) return;
  out.push({
    counter: track.counter, instance: track.instance, finding: 'exhaustion',
    severity: ratio < T.kernelTableFreeCritical ? 'critical' : 'warning',
    evidence: { minimum_free_entries: stats.min, size_entries: size, minimum_free_ratio: round(ratio, 4), minimum_at: new Date(stats.minAtMs).toISOString() },
    message: `The ${table} table fell to ${(ratio * 100).toFixed(1)}% free: find the process holding the most entries.`,
  });
}

function judgeQueue(track: Track, threshold: number, out: Finding[], words: { what: string; basis: string; message: string }): void {
  const run = longestRunAbove(track.times, track.values, threshold);
  if (!run || run.durationMs < HELD_SECONDS * 1000) return;
  out.push({
    counter: track.counter, instance: track.instance, finding: 'saturation', severity: 'warning',
    evidence: {
      longest_above_threshold_seconds: run.durationMs / 1000,
      from: new Date(run.startMs).toISOString(),
      to: new Date(run.endMs).toISOString(),
      peak: run.peak,
      threshold,
      threshold_basis: words.basis,
    },
    message: `The ${words.what} stayed above ${fmt(threshold)} for ${minutes(run.durationMs)}. ${words.message}`,
  });
}

function judgeLeak(track: Track, trend: TrendTest, out: Finding[], ctx: { commitLimit?: number; commit?: Track }): void {
  const meta = LEAK_METRICS[track.metric]!;
  const verdict = trend(track.times, track.values, { lifeStarts: track.lifeStarts, lifeKind: track.lifeKind });
  if (!verdict.leak) return;
  const perHour = verdict.slopePerSecond * 3600;
  const rate = meta.unit === 'bytes' ? `${bytes(perHour)}/h` : `${round(perHour, 1)}/h`;
  const evidence: Record<string, number | string> = {
    shape: verdict.shape ?? 'growing',
    slope_per_second: round(verdict.slopePerSecond, 3),
    slope_per_hour: round(perHour, 1),
    confidence: round(verdict.confidence, 3),
    judged_over_hours: round(verdict.scaleSeconds / 3600, 2),
  };
  const lives = verdict.lives;
  if (lives) {
    evidence.lives = lives.lives;
    evidence.life_hours = round(lives.meanLifeSeconds / 3600, 2);
    evidence.restarts_per_hour = round(lives.restartsPerHour, 2);
    evidence.growth_per_life = round(lives.perLifeGrowth, 0);
  }
  // The same leak gets the same severity whatever else the log holds: critical when it doubles within a day.
  const level = lastNumber(track) ?? 0;
  const severity: Severity = level > 0 && verdict.slopePerSecond * 86_400 >= level ? 'critical' : 'warning';
  // Only memory a process holds draws on commit; a pool exhausts its own limit, not commit.
  if (meta.memory && !lives && ctx.commitLimit && ctx.commit) {
    const seconds = (ctx.commitLimit - (lastNumber(ctx.commit) ?? 0)) / verdict.slopePerSecond;
    if (Number.isFinite(seconds)) evidence.projected_commit_exhaustion_hours = round(Math.max(0, seconds) / 3600, 1);
  }
  const name = track.instance || track.labels.pool || '';
  const subject = name ? `${meta.what} ${name}` : meta.what;
  const message = lives
    ? `${subject} climbed at ${rate} in each of its last ${lives.lives} ${verdict.shape === 'masked_by_reboots' ? 'boots' : 'lives'} (${lives.restartsPerHour >= 1 ? `${round(lives.restartsPerHour, 1)} restarts an hour` : `one every ${round(lives.meanLifeSeconds / 3600, 1)} h`}) and fell back only when ${verdict.shape === 'masked_by_reboots' ? 'the host rebooted' : 'the process restarted'}: a leak ${verdict.shape === 'masked_by_reboots' ? 'the reboots' : 'the restarts'} hide. ${ADVICE[track.metric]}`
    : `${subject} grew steadily at ${rate} over the last ${duration(verdict.scaleSeconds)} (confidence ${Math.round(verdict.confidence * 100)}%) and did not come back; a reboot would only hide it. ${ADVICE[track.metric]}`;
  out.push({ counter: track.counter, instance: track.instance, finding: 'leak', severity, evidence, message });
}

const duration = (seconds: number): string => (seconds >= 5400 ? `${round(seconds / 3600, 1)} h` : `${Math.round(seconds / 60)} min`);

function timeBelow(track: Track, threshold: number): number {
  let total = 0;
  for (let i = 1; i < track.values.length; i++) {
    if (track.values[i - 1]! < threshold) total += track.times[i]! - track.times[i - 1]!;
  }
  if (track.values[track.values.length - 1]! < threshold && track.values.length > 1) {
    total += track.times[track.times.length - 1]! - track.times[track.times.length - 2]!;
  }
  return total;
}

/** The CPU count an export of the agent's own metrics carries. */
function countCpus(tracks: readonly Track[]): number | undefined {
  return lastNumber(tracks.find((t) => t.metric === 'contention_cpus'));
}

function lastNumber(track: Track | undefined): number | undefined {
  if (!track) return undefined;
  for (let i = track.values.length - 1; i >= 0; i--) if (!Number.isNaN(track.values[i]!)) return track.values[i]!;
  return undefined;
}

const rank = (f: Finding): number => (f.severity === 'critical' ? 10 : 0) + (f.finding === 'exhaustion' ? 3 : f.finding === 'leak' ? 2 : 1);
const round = (n: number, digits: number): number => Number(n.toFixed(digits));
const fmt = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(2));
const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;
