import type { Agent } from '../agent.js';
import type { Alert } from '../alerts/alert.js';
import type { CaptureRecord } from '../capture/capture.js';
import type { Judged } from '../detect/leak-stage.js';
import { assessSaturation, type Condition } from '../detect/saturation.js';
import type { SeriesSource } from '../history/source.js';
import type { MetricName } from '../metrics/catalog.js';
import { seriesOf, valueOf, type Sample } from '../metrics/sample.js';
import { topBy } from '../process/groups.js';
import { aboutOf, actionOf, outcomeOf, type AuditEntry } from '../policy/audit.js';

/** One line of the page's recent policy actions. */
export interface PolicyActionView {
  readonly time: number;
  readonly policy: string;
  readonly criteria: string;
  readonly pid: number;
  readonly name: string;
  readonly measure: string;
  readonly action: string;
  readonly outcome: string;
}

/** The page's line for one recorded policy decision. */
export function policyActionView(e: AuditEntry): PolicyActionView {
  const about = aboutOf(e);
  return { time: e.time, policy: e.policy, criteria: e.kind === 'activate' ? '' : e.criteria, pid: about.pid, name: about.name, measure: about.measure, action: actionOf(e), outcome: outcomeOf(e) };
}

/** One process dump as the page lists it. */
export interface CaptureView {
  readonly time: number;
  readonly trigger: string;
  readonly pid: number;
  readonly name: string;
  readonly criteria?: string;
  readonly outcome: string;
  readonly reason?: string;
  readonly file?: string;
  readonly bytes?: number;
  readonly seconds?: number;
}

export const captureView = (c: CaptureRecord): CaptureView => ({
  time: c.time, trigger: c.trigger, pid: c.pid, name: c.name, criteria: c.criteria, outcome: c.outcome, reason: c.reason, file: c.file, bytes: c.bytes, seconds: c.seconds,
});

/** What the page is built from: the latest samples and what the parts that own the facts say. */
export interface StateInput {
  readonly sample: Sample;
  readonly previous?: Sample;
  readonly history?: SeriesSource;
  /** The detector's current suspects and times to exhaustion. */
  readonly suspects?: readonly Judged[];
  readonly judging?: { readonly historySeconds: number; readonly neededSeconds: number };
  readonly exhaustion?: ReadonlyArray<{ readonly resource: string; readonly seconds: number }>;
  /** Pending and firing alerts of every source. */
  readonly alerts?: readonly Alert[];
  readonly activePolicy?: string;
  readonly policyActions?: readonly AuditEntry[];
  /** The agent's recent process dumps, newest first. */
  readonly captures?: readonly CaptureRecord[];
  readonly exposeCmdline: boolean;
  readonly now: number;
}

export interface ChartView {
  readonly id: string;
  readonly title: string;
  readonly unit: 'bytes' | 'count' | 'ratio' | 'seconds';
  /** Shared time axis in Unix seconds, then one value array per series (null for gaps). */
  readonly times: number[];
  readonly series: Array<{ label: string; values: Array<number | null> }>;
}

/** One process of the sample's top set, every figure filled (I/O absent only where the OS refuses it). */
export interface ProcessView {
  readonly pid: string;
  /** Display name: the script, module, jar or app pool an interpreter or host runs, else the process name. */
  readonly name: string;
  readonly group: string;
  /** systemd unit or container, when known. */
  readonly unit?: string;
  /** CPUs used since the previous sample (1 = one CPU). */
  readonly cpu: number;
  readonly privateBytes: number;
  readonly growthPerSecond: number;
  readonly handles: number;
  readonly threads: number;
  readonly ioReadPerSecond?: number;
  readonly ioWritePerSecond?: number;
  /** Only with `web.expose_cmdline`: command lines and user names can carry secrets. */
  readonly cmdline?: string;
  readonly user?: string;
}

export interface LeakView {
  readonly subjectKind: string;
  readonly subject: string;
  readonly resource: string;
  readonly growthPerSecond?: number;
  readonly unit: 'bytes' | 'count';
  readonly confidence?: number;
  /** growing, masked_by_restarts or masked_by_reboots. */
  readonly shape: string;
}

/** What the page shows; every field comes from what the sampler and the parts already produced. */
export interface State {
  readonly generatedAt: number;
  readonly sampleTimestamp: number;
  readonly sampleIntervalSeconds?: number;
  readonly host: Readonly<Record<string, string>>;
  readonly conditions: Condition[];
  readonly leaks: LeakView[];
  readonly exhaustion: Array<{ resource: string; seconds: number }>;
  readonly alerts: Array<{ alertname: string; severity: string; state: string; activeAt: number; summary: string; subject?: string }>;
  readonly activePolicy?: string;
  readonly policyActions: readonly PolicyActionView[];
  readonly captures: readonly CaptureView[];
  /** The top set's largest by private bytes, and its busiest by CPU: complete rows from the process table. */
  readonly topProcesses: ProcessView[];
  readonly topByCpu: ProcessView[];
  /** How much history leak judgement has, and needs before it can say anything. */
  readonly judging?: { readonly historySeconds: number; readonly neededSeconds: number };
  readonly failedCollectors: Array<{ name: string; error?: string }>;
  readonly charts: ChartView[];
}

const HOUR_MS = 3_600_000;
const TOP_PROCESSES = 10;

/** Builds the page's state from the latest sample and, when present, history, alerts and policy actions. */
export function buildState(input: StateInput): State {
  const { sample } = input;
  const host = seriesOf(sample, 'contention_host_info')[0]?.labels ?? {};
  return {
    generatedAt: input.now,
    sampleTimestamp: sample.timestamp,
    sampleIntervalSeconds: valueOf(sample, 'contention_sample_interval_seconds'),
    host: { hostname: host.hostname ?? '', os: host.os ?? '', kernel: host.kernel ?? '', cpus: String(valueOf(sample, 'contention_cpus') ?? '') },
    conditions: assessSaturation(sample, input.previous),
    leaks: (input.suspects ?? []).map(leakView),
    exhaustion: [...(input.exhaustion ?? [])].sort((a, b) => a.seconds - b.seconds),
    alerts: (input.alerts ?? [])
      .filter((a) => a.state !== 'resolved')
      .map((a) => ({
        alertname: a.labels.alertname ?? '',
        severity: a.labels.severity ?? '',
        state: a.state,
        activeAt: a.activeAt,
        summary: a.annotations.summary ?? '',
        subject: a.labels.subject,
      }))
      .sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.activeAt - b.activeAt),
    activePolicy: input.activePolicy,
    policyActions: (input.policyActions ?? []).map(policyActionView),
    captures: (input.captures ?? []).map(captureView),
    topProcesses: processViews(sample, 'privateBytes', input.exposeCmdline),
    topByCpu: processViews(sample, 'cpu', input.exposeCmdline),
    judging: input.judging,
    failedCollectors: sample.collectors.filter((c) => c.status === 'failed').map((c) => ({ name: c.name, error: c.error })),
    charts: input.history ? charts(input.history, input.now) : [],
  };
}

/** Families that other parts of the agent add; read by name so the page works with or without them. */
function familyValues(sample: Sample, name: string) {
  return seriesOf(sample, name as MetricName);
}

const leakView = (j: Judged): LeakView => ({
  subjectKind: j.kind,
  subject: j.subject,
  resource: j.resource,
  growthPerSecond: j.suspected?.slopePerSecond ?? j.verdict.slopePerSecond,
  unit: j.unit,
  confidence: j.suspected?.confidence ?? j.verdict.confidence,
  shape: j.suspected?.shape ?? 'growing',
});

/** The page's state, built at most once per sample however often it is polled. */
export function createPageState(agent: Pick<Agent, 'sampler' | 'history' | 'detector' | 'delivery' | 'policy' | 'config'> & Partial<Pick<Agent, 'captures'>>): () => State | undefined {
  let cached: { sample: Sample; state: State } | undefined;
  let previous: Sample | undefined;
  return () => {
    const sample = agent.sampler.latest()?.sample;
    if (!sample) return undefined;
    if (cached?.sample !== sample) {
      if (cached && cached.sample.timestamp < sample.timestamp) previous = cached.sample;
      cached = {
        sample,
        state: buildState({
          sample,
          previous,
          history: agent.history,
          suspects: agent.detector.suspects(),
          judging: agent.detector.judging(sample.timestamp),
          exhaustion: agent.detector.exhaustion(),
          alerts: agent.delivery.active(),
          activePolicy: agent.policy.activePolicy(),
          policyActions: agent.policy.recentActions(),
          captures: agent.captures?.recent() ?? [],
          exposeCmdline: agent.config().web.expose_cmdline,
          now: Date.now(),
        }),
      };
    }
    return cached.state;
  };
}

/**
 * The top processes by a measure, from the process table's top set (the processes collector owns it):
 * every row complete, named by display name. Command lines and users only when exposeCmdline is set.
 */
function processViews(sample: Sample, by: 'privateBytes' | 'cpu', exposeCmdline: boolean): ProcessView[] {
  const table = sample.facts.processes;
  const rows = table?.top ?? [];
  return topBy(rows, by, TOP_PROCESSES).map((r) => ({
    pid: String(r.pid),
    name: r.displayName,
    group: r.processGroup,
    ...(r.unit ? { unit: r.unit } : {}),
    cpu: r.rates.cpu,
    privateBytes: r.privateBytes,
    growthPerSecond: r.rates.privateGrowth,
    handles: r.handles,
    threads: r.threads,
    ioReadPerSecond: r.rates.ioRead,
    ioWritePerSecond: r.rates.ioWrite,
    ...(exposeCmdline ? { cmdline: r.cmdline, user: r.user } : {}),
  }));
}

interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly unit: ChartView['unit'];
  readonly metric: string;
  readonly label: (labels: Readonly<Record<string, string>>) => string;
  readonly keep?: (labels: Readonly<Record<string, string>>) => boolean;
  readonly limit?: number;
}

const CHARTS: readonly ChartSpec[] = [
  { id: 'cpu_queue', title: 'CPU queue (peak per sample)', unit: 'count', metric: 'contention_cpu_queue_length_peak', label: () => 'waiting threads' },
  { id: 'disk_queue', title: 'Disk queue (peak per sample)', unit: 'count', metric: 'contention_disk_queue_length_peak', label: (l) => l.device ?? '' },
  { id: 'available', title: 'Available memory', unit: 'bytes', metric: 'contention_memory_available_bytes', label: () => 'available' },
  { id: 'pools', title: 'Kernel pools', unit: 'bytes', metric: 'contention_kernel_pool_bytes', label: (l) => l.pool ?? '', keep: (l) => ['slab_unreclaimable', 'paged', 'nonpaged', 'vmalloc'].includes(l.pool ?? '') },
  { id: 'groups', title: 'Process groups: private bytes', unit: 'bytes', metric: 'contention_process_group_private_bytes', label: (l) => l.group ?? '', limit: 5 },
];

function charts(history: SeriesSource, now: number): ChartView[] {
  const views: ChartView[] = [];
  for (const spec of CHARTS) {
    let series = history.select(spec.metric, now - HOUR_MS, now).filter((s) => !spec.keep || spec.keep(s.labels));
    if (series.length === 0) continue;
    if (spec.limit) {
      const last = (pts: readonly { v: number }[]) => pts[pts.length - 1]?.v ?? 0;
      series = [...series].sort((a, b) => last(b.points) - last(a.points)).slice(0, spec.limit);
    }
    // One time axis for all series of a chart: the union of their timestamps, in seconds.
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    views.push({
      id: spec.id,
      title: spec.title,
      unit: spec.unit,
      times: times.map((t) => t / 1000),
      series: series.map((s) => {
        const values: Array<number | null> = new Array(times.length).fill(null);
        for (const p of s.points) values[index.get(p.t)!] = p.v;
        return { label: spec.label(s.labels), values };
      }),
    });
  }
  return views;
}

const severityRank = (s: string): number => (s === 'critical' ? 2 : s === 'warning' ? 1 : 0);
