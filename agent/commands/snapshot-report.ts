import type { Condition } from '../detect/saturation.js';
import { seriesOf, valueOf, type Sample } from '../metrics/sample.js';
import { topBy } from '../process/groups.js';
import { formatBytes as bytes } from '../text/bytes.js';

/** What snapshot prints, from this host's two samples or from a running agent's state. */
export interface SnapshotReport {
  /** Where the verdict comes from: this host's samples, or an agent's URL. */
  readonly source: string;
  readonly host: { hostname: string; os: string; kernel: string; uptimeSeconds?: number; load?: readonly [number, number, number]; cpus?: number };
  readonly timestamp: number;
  readonly conditions: readonly Condition[];
  /** Sections of label, value rows, in plain units. */
  readonly figures: ReadonlyArray<{ section: string; rows: ReadonlyArray<readonly [string, string]> }>;
  readonly failed: ReadonlyArray<{ name: string; error?: string }>;
  /** Lines said after the findings: leak suspects, how much more history judging needs. */
  readonly notes: readonly string[];
}

const pct = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`;
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** The figures an operator reads first, in units, from a sample (and the one before it, for rates). */
export function figureTable(sample: Sample, previous?: Sample): SnapshotReport['figures'] {
  const out: Array<{ section: string; rows: Array<readonly [string, string]> }> = [];
  const section = (name: string, rows: Array<readonly [string, string]>) => void (rows.length > 0 && out.push({ section: name, rows }));

  const cpus = valueOf(sample, 'contention_cpus');
  const util = valueOf(sample, 'contention_cpu_utilization_ratio');
  const queue = valueOf(sample, 'contention_cpu_queue_length');
  const peak = valueOf(sample, 'contention_cpu_queue_length_peak');
  const cpu: Array<readonly [string, string]> = [];
  if (util !== undefined) cpu.push(['busy', `${pct(util)}${cpus ? ` of ${cpus} CPUs` : ''}`]);
  if (queue !== undefined) cpu.push(['run queue', `${queue} waiting now, peak ${peak ?? queue}${cpus ? ` (${(Math.max(queue, peak ?? 0) / cpus).toFixed(1)} per CPU)` : ''}`]);
  const blocked = valueOf(sample, 'contention_cpu_blocked_tasks');
  if (blocked !== undefined) cpu.push(['blocked on I/O', `${blocked} tasks`]);
  section('CPU', cpu);

  const memory: Array<readonly [string, string]> = [];
  const available = valueOf(sample, 'contention_memory_available_bytes');
  const physical = valueOf(sample, 'contention_memory_physical_bytes');
  if (available !== undefined && physical) memory.push(['available', `${bytes(available)} of ${bytes(physical)} (${pct(available / physical)})`]);
  const commit = valueOf(sample, 'contention_memory_commit_bytes');
  const limit = valueOf(sample, 'contention_memory_commit_limit_bytes');
  if (commit !== undefined && limit) {
    memory.push(['commit', `${bytes(commit)} of ${bytes(limit)} (${pct(commit / limit)})${valueOf(sample, 'contention_memory_commit_limit_enforced') === 1 ? '' : ', limit not enforced'}`]);
  }
  const oom = valueOf(sample, 'contention_oom_kills_total');
  if (oom !== undefined) memory.push(['OOM kills since boot', count(oom)]);
  section('Memory', memory);

  if (previous) {
    const seconds = (sample.timestamp - previous.timestamp) / 1000;
    const rows: Array<readonly [string, string]> = [];
    for (const { labels, value } of seriesOf(sample, 'contention_pressure_stalled_seconds_total')) {
      const before = valueOf(previous, 'contention_pressure_stalled_seconds_total', labels);
      if (before === undefined || seconds <= 0) continue;
      rows.push([`${labels.resource} ${labels.scope}`, `${pct(Math.max(0, value - before) / seconds)} of the time stalled`]);
    }
    section('Pressure (over the last seconds)', rows);
  }

  section(
    'Kernel tables',
    seriesOf(sample, 'contention_kernel_table_free_entries').map(({ labels, value }) => {
      const size = valueOf(sample, 'contention_kernel_table_size_entries', { table: labels.table! });
      return [labels.table!, size ? `${count(value)} of ${count(size)} free (${pct(value / size)})` : `${count(value)} free`] as const;
    }),
  );

  section(
    'Kernel pools',
    seriesOf(sample, 'contention_kernel_pool_bytes').map(({ labels, value }) => {
      const max = valueOf(sample, 'contention_kernel_pool_limit_bytes', { pool: labels.pool! });
      // A limit larger than memory (Linux's vmalloc window, 32 TiB) cannot be reached: not worth a figure.
      const reachable = max !== undefined && physical !== undefined && max <= physical;
      return [labels.pool!, reachable ? `${bytes(value)} of ${bytes(max)}` : bytes(value)] as const;
    }),
  );

  section(
    'Disk queues',
    seriesOf(sample, 'contention_disk_queue_length').map(({ labels, value }) => [
      labels.device!,
      `${value} in flight, peak ${valueOf(sample, 'contention_disk_queue_length_peak', { device: labels.device! }) ?? value}`,
    ] as const),
  );

  section(
    'Filesystems',
    seriesOf(sample, 'contention_filesystem_size_bytes').map(({ labels, value }) => {
      const avail = valueOf(sample, 'contention_filesystem_avail_bytes', labels) ?? 0;
      const files = valueOf(sample, 'contention_filesystem_files', labels);
      const free = valueOf(sample, 'contention_filesystem_files_free', labels);
      const inodes = files ? `, inodes ${pct((free ?? 0) / files)} free` : '';
      return [labels.mountpoint!, `${bytes(avail)} of ${bytes(value)} available (${value > 0 ? pct(avail / value) : '-'})${inodes}`] as const;
    }),
  );

  section(
    'cgroups with a limit',
    seriesOf(sample, 'contention_cgroup_memory_limit_bytes')
      .filter((s) => s.labels.limit === 'max')
      .map(({ labels, value }) => {
        const used = valueOf(sample, 'contention_cgroup_memory_bytes', { cgroup: labels.cgroup! }) ?? 0;
        return [labels.cgroup!, `memory ${bytes(used)} of ${bytes(value)} (${pct(used / value)})`] as const;
      })
      .slice(0, 10),
  );

  const rows = sample.facts.processes?.rows ?? [];
  const fds = seriesOf(sample, 'contention_host_info')[0]?.labels.os === 'windows' ? 'handles' : 'fds';
  section(
    'Busiest processes (CPU)',
    topBy(rows, 'cpu', 5).map((r) => [
      `${r.displayName} [${r.pid}]`,
      `${(r.rates.cpu * 100).toFixed(0)}% CPU, ${bytes(r.privateBytes)} private, ${count(r.handles)} ${fds}, ${r.threads} threads`,
    ] as const),
  );
  section(
    'Largest processes (private bytes)',
    topBy(rows, 'privateBytes', 5).map((r) => [
      `${r.displayName} [${r.pid}]`,
      `${bytes(r.privateBytes)} private${r.rates.privateGrowth > 0 ? `, +${bytes(r.rates.privateGrowth)}/s` : ''}`,
    ] as const),
  );
  return out;
}

/** The text an operator reads: header, findings worst first with who causes each, then the figures in units. */
export function renderReport(report: SnapshotReport): string {
  const lines: string[] = [];
  const h = report.host;
  const head = [h.hostname || 'this host', [h.os, h.kernel].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  const extra = [
    h.uptimeSeconds !== undefined ? `up ${formatDuration(h.uptimeSeconds)}` : '',
    h.load ? `load ${h.load.map((l) => l.toFixed(2)).join(' ')}` : '',
  ].filter(Boolean);
  lines.push(`${head}${extra.length ? ` — ${extra.join(', ')}` : ''}`);
  lines.push(`${new Date(report.timestamp).toISOString()} (${report.source})`, '');

  if (report.conditions.length === 0) {
    lines.push('Nothing is saturated or near a limit right now.');
  } else {
    lines.push('Saturated or near a limit now, worst first:');
    for (const c of report.conditions) {
      lines.push(`  ${c.severity.toUpperCase().padEnd(8)} ${c.subject}: ${c.value} (threshold ${c.threshold})`);
      lines.push(`           ${c.message}`);
      for (const who of c.culprits ?? []) {
        lines.push(`           - pid ${who.pid} ${who.name}${who.unit ? ` (${who.unit})` : ''}: ${who.figure}`);
      }
      if ((c.culprits ?? []).length === 0 && c.culpritNote) lines.push(`           (${c.culpritNote})`);
    }
  }
  for (const f of report.failed) lines.push(`  collector ${f.name} failed: ${f.error ?? 'unknown error'}`);
  if (report.notes.length > 0) lines.push('', ...report.notes);

  for (const { section, rows } of report.figures) {
    lines.push('', `${section}:`);
    const width = Math.min(40, Math.max(...rows.map(([label]) => label.length)));
    for (const [label, value] of rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
