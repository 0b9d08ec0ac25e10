import { loadavg, uptime } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { assessSaturation, type Condition } from '../detect/saturation.js';
import type { Sample } from '../metrics/sample.js';
import { createOneShotSampler } from '../agent.js';
import { currentPlatform } from '../platform/platform.js';
import { fetchAgentState, remoteReport, remoteSeverities } from './snapshot-from.js';
import { figureTable, renderReport, type SnapshotReport } from './snapshot-report.js';

/** How long snapshot watches between its two samples: long enough for rates and queue peaks. */
const WATCH_SECONDS = 2;

/** Nagios plugin exit statuses, so a monitoring system can run snapshot as a check. */
export const EXIT = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;

/** 2 with any critical finding, 1 with warnings, 3 when nothing was found but a collector failed (the verdict is incomplete), else 0. */
export function exitStatus(conditions: readonly Pick<Condition, 'severity'>[], failedCollectors: number): number {
  if (conditions.some((c) => c.severity === 'critical')) return EXIT.critical;
  if (conditions.length > 0) return EXIT.warning;
  return failedCollectors > 0 ? EXIT.unknown : EXIT.ok;
}

/** Prints a running agent's verdicts, leak suspects and alerts (`snapshot --from URL`). */
export async function snapshotFrom(url: string, json: boolean): Promise<number> {
  try {
    const state = await fetchAgentState(url);
    const report = remoteReport(state, url, Date.now());
    const status = exitStatus(remoteSeverities(state, report), report.failed.length);
    process.stdout.write(json ? `${JSON.stringify({ status: ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][status], ...state }, null, 2)}\n` : renderReport(report));
    return status;
  } catch (err) {
    process.stderr.write(`contention-agent snapshot: ${(err as Error).message}\n`);
    return EXIT.unknown;
  }
}

/** Samples twice, a moment apart, and prints what is exhausted or saturated now, worst first, and who causes it. */
export async function snapshot(config: Config, log: Logger, json: boolean): Promise<number> {
  const runtime = createOneShotSampler(config, currentPlatform(), log);
  try {
    const first = await runtime.sampler.sampleOnce();
    await sleep(WATCH_SECONDS * 1000);
    const second = await runtime.sampler.sampleOnce();
    const report = localReport(second, first);
    process.stdout.write(json ? `${JSON.stringify(jsonReport(report, second), null, 2)}\n` : renderReport(report));
    return exitStatus(report.conditions, report.failed.length);
  } catch (err) {
    process.stderr.write(`contention-agent snapshot: ${(err as Error).message}\n`);
    return EXIT.unknown;
  } finally {
    runtime.stop();
  }
}

function localReport(sample: Sample, previous: Sample): SnapshotReport {
  const host = [...(sample.families.get('contention_host_info') ?? [])][0]?.labels ?? {};
  const load = loadavg();
  return {
    source: 'this host, sampled twice 2 s apart',
    host: { hostname: host.hostname ?? '', os: host.os ?? '', kernel: host.kernel ?? '', uptimeSeconds: uptime(), load: [load[0]!, load[1]!, load[2]!] },
    timestamp: sample.timestamp,
    conditions: assessSaturation(sample, previous),
    figures: figureTable(sample, previous),
    failed: sample.collectors.filter((c) => c.status === 'failed').map((c) => ({ name: c.name, error: c.error })),
    notes: [],
  };
}

/** The raw figures stay under --json, with the findings, their culprits and the failed collectors. */
function jsonReport(report: SnapshotReport, sample: Sample) {
  const figures: Record<string, Array<{ labels: Record<string, string>; value: number }>> = {};
  for (const [name, series] of sample.families) {
    if (name.startsWith('contention_collector_') || name === 'contention_host_info') continue;
    figures[name] = series.map((s) => ({ labels: { ...s.labels }, value: s.value }));
  }
  return {
    timestamp: new Date(report.timestamp).toISOString(),
    host: report.host,
    status: ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][exitStatus(report.conditions, report.failed.length)],
    conditions: report.conditions,
    figures,
    failed: report.failed,
    notes: report.notes,
  };
}
