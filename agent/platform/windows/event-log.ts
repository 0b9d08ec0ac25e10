/**
 * Policy decisions and alerts in the Windows Application log, under the agent's own event source,
 * so an administrator finds them where Windows tools look (Event Viewer, Get-WinEvent, SCOM, WEF).
 * The source is registered by the service installer (deploy/windows/install.ps1) with .NET's
 * EventLogMessages.dll as its message file, whose every message is "%1": the text the agent
 * writes is the whole description. What goes in the log (type, ID, text) is decided by pure
 * functions; writing runs only on Windows.
 */
import type { Alert } from '../../alerts/alert.js';
import type { Stage } from '../../metrics/sample.js';
import { loadWin32, type Pointer } from './ffi.js';

export const EVENT_SOURCE = 'contention-agent';

export const EVENTLOG_ERROR_TYPE = 0x0001;
export const EVENTLOG_WARNING_TYPE = 0x0002;
export const EVENTLOG_INFORMATION_TYPE = 0x0004;

/** Event IDs, stable so that subscriptions and filters can rely on them (docs/windows.md lists them). */
export const EVENT_IDS = {
  alertFiringCritical: 2001,
  alertFiringWarning: 2002,
  alertFiringOther: 2003,
  alertResolved: 2010,
  policyStopped: 3001,
  policyTrimmed: 3002,
  policyOther: 3003,
  policyMismatch: 3010,
  policyGone: 3011,
  policyFailed: 3020,
} as const;

/** A policy decision as the event log shows it; the policy engine fills it from its own records. */
export interface PolicyEvent {
  readonly policy: string;
  /** What the policy did or would do: `stop`, `trim`, or another action it knows. */
  readonly action: string;
  /** How it went: the outcomes of terminateVerified and trimWorkingSet, or the engine's own (`dry_run`). */
  readonly outcome: string;
  readonly pid: number;
  readonly name: string;
  /** Why the policy acted (the condition that held), in the engine's words. */
  readonly reason?: string;
}

export type LoggedEvent = { readonly kind: 'alert'; readonly alert: Alert } | { readonly kind: 'policy'; readonly decision: PolicyEvent };

export interface EventEntry {
  readonly type: number;
  readonly id: number;
  readonly text: string;
}

/** ReportEventW takes at most 31,839 characters per string; longer text is cut, saying so. */
export const MAX_EVENT_TEXT = 31_839;

/** The entry for an event, or undefined for what the log does not record (pending alerts: not yet true). */
export function eventEntry(event: LoggedEvent): EventEntry | undefined {
  return event.kind === 'alert' ? alertEntry(event.alert) : policyEntry(event.decision);
}

function alertEntry(a: Alert): EventEntry | undefined {
  if (a.state === 'pending') return undefined;
  const name = a.labels.alertname ?? 'unnamed';
  const severity = a.labels.severity ?? 'none';
  const labels = Object.entries(a.labels)
    .filter(([k]) => k !== 'alertname' && k !== 'severity')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const lines = [
    `Alert ${name} ${a.state} (severity ${severity}, from ${a.source === 'rules' ? 'the alert rules' : 'the leak detector'}).`,
    a.annotations.summary,
    a.annotations.description,
    labels && `Labels: ${labels}`,
    a.annotations.runbook_url && `Runbook: ${a.annotations.runbook_url}`,
  ];
  const text = lines.filter((l): l is string => Boolean(l)).join('\r\n');
  if (a.state === 'resolved') return { type: EVENTLOG_INFORMATION_TYPE, id: EVENT_IDS.alertResolved, text: cut(text) };
  if (severity === 'critical') return { type: EVENTLOG_ERROR_TYPE, id: EVENT_IDS.alertFiringCritical, text: cut(text) };
  if (severity === 'warning') return { type: EVENTLOG_WARNING_TYPE, id: EVENT_IDS.alertFiringWarning, text: cut(text) };
  return { type: EVENTLOG_INFORMATION_TYPE, id: EVENT_IDS.alertFiringOther, text: cut(text) };
}

const OUTCOME_TEXT: Readonly<Record<string, string>> = {
  stopped: 'stopped',
  trimmed: 'working set trimmed',
  mismatch: 'not acted on: the pid now belongs to another process (its start time differs from the decision)',
  gone: 'not acted on: the process had already exited',
  failed: 'failed',
};

function policyEntry(d: PolicyEvent): EventEntry {
  const what = OUTCOME_TEXT[d.outcome] ?? d.outcome;
  const text = cut(
    [`Policy ${d.policy}: ${d.action} ${d.name} (pid ${d.pid}): ${what}.`, d.reason && `Reason: ${d.reason}`]
      .filter((l): l is string => Boolean(l))
      .join('\r\n'),
  );
  switch (d.outcome) {
    // A process was ended: an administrator should see it among warnings.
    case 'stopped':
      return { type: EVENTLOG_WARNING_TYPE, id: EVENT_IDS.policyStopped, text };
    case 'trimmed':
      return { type: EVENTLOG_INFORMATION_TYPE, id: EVENT_IDS.policyTrimmed, text };
    case 'mismatch':
      return { type: EVENTLOG_INFORMATION_TYPE, id: EVENT_IDS.policyMismatch, text };
    case 'gone':
      return { type: EVENTLOG_INFORMATION_TYPE, id: EVENT_IDS.policyGone, text };
    case 'failed':
      return { type: EVENTLOG_ERROR_TYPE, id: EVENT_IDS.policyFailed, text };
    default:
      return { type: EVENTLOG_INFORMATION_TYPE, id: EVENT_IDS.policyOther, text };
  }
}

function cut(text: string): string {
  const note = '\r\n[cut]';
  return text.length <= MAX_EVENT_TEXT ? text : text.slice(0, MAX_EVENT_TEXT - note.length) + note;
}

export interface EventLog {
  /** Writes the event if it is one the log records; never throws (a failure is reported once to `onError`). */
  write(event: LoggedEvent): void;
  /** Events written so far, and events the log refused (or could not be opened for). */
  stats(): { readonly written: number; readonly failed: number };
  close(): void;
}

/** The event log's counts as metrics, once per sample. */
export function eventLogMetricsStage(log: Pick<EventLog, 'stats'>): Stage {
  return {
    name: 'event_log',
    run(_sample, sink) {
      const { written, failed } = log.stats();
      sink.set('contention_event_log_writes_total', {}, written);
      sink.set('contention_event_log_write_failures_total', {}, failed);
    },
  };
}

/**
 * The Application log under `source`. Opening is asynchronous (the API loads on first use); events
 * written before it is open wait for it, in order.
 */
export function openEventLog(onError: (err: Error) => void, source = EVENT_SOURCE): EventLog {
  let reported = false;
  const report = (err: Error): void => {
    if (reported) return;
    reported = true;
    onError(err);
  };
  let handle: Pointer | undefined;
  let closed = false;
  let written = 0;
  let failed = 0;
  const ready = loadWin32().then((api) => {
    const h = api.RegisterEventSourceW(null, source);
    if (!h) throw new Error(`RegisterEventSourceW ${source} failed: Win32 error ${api.GetLastError()}`);
    handle = h;
    return { api, handle: h };
  });
  ready.catch(report);
  return {
    write(event) {
      const entry = eventEntry(event);
      if (!entry || closed) return;
      void ready.then(
        ({ api, handle: h }) => {
          if (closed) return;
          if (api.ReportEventW(h, entry.type, 0, entry.id, null, 1, 0, [entry.text], null)) written++;
          else {
            failed++;
            report(new Error(`ReportEventW failed: Win32 error ${api.GetLastError()}`));
          }
        },
        () => void failed++,
      );
    },
    stats: () => ({ written, failed }),
    close() {
      closed = true;
      void ready.then(({ api }) => {
        if (handle) api.DeregisterEventSource(handle);
        handle = undefined;
      }, () => undefined);
    },
  };
}
