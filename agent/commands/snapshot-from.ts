import type { Condition } from '../detect/saturation.js';
import { formatBytes as bytes } from '../text/bytes.js';
import { formatDuration, type SnapshotReport } from './snapshot-report.js';

/** What snapshot --from reads of a running agent's /api/v1/state: only the fields it uses, each optional. */
interface RemoteState {
  sampleTimestamp?: number;
  host?: { hostname?: string; os?: string; kernel?: string; cpus?: string };
  conditions?: Condition[];
  leaks?: Array<{ subjectKind?: string; subject?: string; resource?: string; growthPerSecond?: number; unit?: string; confidence?: number }>;
  exhaustion?: Array<{ resource?: string; seconds?: number }>;
  alerts?: Array<{ alertname?: string; severity?: string; state?: string; summary?: string }>;
  topProcesses?: Array<{ pid?: string; name?: string; group?: string; cpu?: number; privateBytes?: number; handles?: number; threads?: number }>;
  failedCollectors?: Array<{ name: string; error?: string }>;
  /** How much history the leak judgement has, and how much it needs. */
  judging?: { historySeconds?: number; neededSeconds?: number };
}

const MAX_BODY = 8 * 1024 * 1024;
const TIMEOUT_MS = 10_000;

/**
 * Asks a running agent for its verdicts instead of sampling here: its conditions, leak suspects,
 * times to exhaustion and alerts come from its own history, so trends are in. Credentials in the URL
 * (https://user:pass@host/) are sent as basic auth. The answer is bounded in size and time.
 */
export async function fetchAgentState(base: string): Promise<RemoteState> {
  let url: URL;
  try {
    url = new URL('/api/v1/state', base);
  } catch {
    throw new Error(`--from: not a URL: ${base}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--from: expected an http or https URL, got ${url.protocol}`);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (url.username || url.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
  if (!res.ok) throw new Error(`--from: ${url.href} answered ${res.status} ${res.statusText}`);
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_BODY) throw new Error(`--from: the state is ${length} bytes, more than ${MAX_BODY}`);
  const text = await res.text();
  if (text.length > MAX_BODY) throw new Error(`--from: the state is more than ${MAX_BODY} bytes`);
  try {
    return JSON.parse(text) as RemoteState;
  } catch {
    throw new Error(`--from: ${url.href} did not answer JSON (is it a contention-agent?)`);
  }
}

const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

/** The report snapshot prints from an agent's state. */
export function remoteReport(state: RemoteState, source: string, now: number): SnapshotReport {
  const notes: string[] = [];
  const firing = (state.alerts ?? []).filter((a) => a.state === 'firing');
  const pending = (state.alerts ?? []).filter((a) => a.state === 'pending');
  if (firing.length > 0) notes.push('Alerts firing:', ...firing.map((a) => `  ${(a.severity ?? '').toUpperCase().padEnd(8)} ${a.alertname}: ${a.summary ?? ''}`));
  if (pending.length > 0) notes.push('Alerts pending (condition met, not yet for long enough):', ...pending.map((a) => `  ${a.alertname}: ${a.summary ?? ''}`));
  const leaks = state.leaks ?? [];
  if (leaks.length > 0) {
    notes.push('Leak suspects, worst first:');
    for (const l of leaks) {
      const rate = l.growthPerSecond === undefined ? '' : l.unit === 'bytes' ? ` +${bytes(l.growthPerSecond)}/s` : ` +${l.growthPerSecond.toFixed(3)}/s`;
      notes.push(`  ${l.subjectKind} ${l.subject} ${l.resource}${rate}${l.confidence === undefined ? '' : ` (confidence ${pct(l.confidence)})`}`);
    }
  } else if (state.judging?.neededSeconds !== undefined && (state.judging.historySeconds ?? 0) < state.judging.neededSeconds) {
    const more = state.judging.neededSeconds - (state.judging.historySeconds ?? 0);
    notes.push(`No leak suspected yet, but judging needs ${formatDuration(more)} more history (it has ${formatDuration(state.judging.historySeconds ?? 0)} of the ${formatDuration(state.judging.neededSeconds)} needed).`);
  } else {
    notes.push('No leak suspected.');
  }
  for (const e of state.exhaustion ?? []) notes.push(`Runs out at its steady growth rate: ${e.resource} in ${formatDuration(e.seconds ?? 0)}`);
  const rows = (state.topProcesses ?? []).map((p) => [
    `${p.name ?? '?'} [${p.pid ?? '?'}]`,
    [p.cpu === undefined ? '' : `${(p.cpu * 100).toFixed(0)}% CPU`, p.privateBytes === undefined ? '' : `${bytes(p.privateBytes)} private`, p.handles === undefined ? '' : `${p.handles} handles`, p.threads === undefined ? '' : `${p.threads} threads`]
      .filter(Boolean)
      .join(', '),
  ] as const);
  const age = state.sampleTimestamp === undefined ? undefined : (now - state.sampleTimestamp) / 1000;
  return {
    source: `the agent at ${source}${age !== undefined ? `, its sample ${formatDuration(age)} old` : ''}`,
    host: { hostname: state.host?.hostname ?? '', os: state.host?.os ?? '', kernel: state.host?.kernel ?? '' },
    timestamp: state.sampleTimestamp ?? now,
    conditions: state.conditions ?? [],
    figures: rows.length > 0 ? [{ section: 'Top processes', rows }] : [],
    failed: state.failedCollectors ?? [],
    notes,
  };
}

/** Firing alerts count as findings of their severity for the exit status. */
export function remoteSeverities(state: RemoteState, report: SnapshotReport): Array<{ severity: 'critical' | 'warning' }> {
  return [
    ...report.conditions.map((c) => ({ severity: c.severity })),
    ...(state.alerts ?? []).filter((a) => a.state === 'firing').map((a) => ({ severity: a.severity === 'critical' ? ('critical' as const) : ('warning' as const) })),
  ];
}
