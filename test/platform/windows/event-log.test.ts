import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../agent/alerts/alert.js';
import {
  EVENT_IDS,
  EVENTLOG_ERROR_TYPE,
  EVENTLOG_INFORMATION_TYPE,
  EVENTLOG_WARNING_TYPE,
  eventEntry,
  MAX_EVENT_TEXT,
  type PolicyEvent,
} from '../../../agent/platform/windows/event-log.js';

const ptes: Alert = {
  labels: { alertname: 'FreeSystemPTEsLow', severity: 'critical', table: 'system_ptes' },
  annotations: {
    summary: 'Free System PTEs at 8,412',
    description: 'Below 10,000 for 10 minutes; the host hangs when they run out.',
    runbook_url: 'docs/runbooks/FreeSystemPTEsLow.md',
  },
  activeAt: Date.UTC(2026, 10, 24, 3, 0),
  state: 'firing',
  source: 'rules',
};

const stop: PolicyEvent = { policy: 'w3wp-private-bytes', action: 'stop', outcome: 'stopped', pid: 5124, name: 'w3wp', reason: 'private bytes 6.2 GiB > 6 GiB for 5m' };

describe('what the Application log records', () => {
  it('a firing critical alert is an error with its summary, description, labels and runbook', () => {
    expect(eventEntry({ kind: 'alert', alert: ptes })).toEqual({
      type: EVENTLOG_ERROR_TYPE,
      id: EVENT_IDS.alertFiringCritical,
      text: [
        'Alert FreeSystemPTEsLow firing (severity critical, from the alert rules).',
        'Free System PTEs at 8,412',
        'Below 10,000 for 10 minutes; the host hangs when they run out.',
        'Labels: table=system_ptes',
        'Runbook: docs/runbooks/FreeSystemPTEsLow.md',
      ].join('\r\n'),
    });
  });

  it('a warning alert is a warning, another severity information, a resolution information', () => {
    const warning = { ...ptes, labels: { ...ptes.labels, severity: 'warning' } };
    expect(eventEntry({ kind: 'alert', alert: warning })).toMatchObject({ type: EVENTLOG_WARNING_TYPE, id: 2002 });
    expect(eventEntry({ kind: 'alert', alert: { ...ptes, labels: { alertname: 'X', severity: 'info' } } })).toMatchObject({ type: EVENTLOG_INFORMATION_TYPE, id: 2003 });
    const resolved = eventEntry({ kind: 'alert', alert: { ...ptes, state: 'resolved', resolvedAt: ptes.activeAt + 60_000, source: 'detector' } })!;
    expect(resolved).toMatchObject({ type: EVENTLOG_INFORMATION_TYPE, id: 2010 });
    expect(resolved.text).toMatch(/^Alert FreeSystemPTEsLow resolved \(severity critical, from the leak detector\)\./);
  });

  it('a pending alert is not recorded: it is not yet true', () => {
    expect(eventEntry({ kind: 'alert', alert: { ...ptes, state: 'pending' } })).toBeUndefined();
  });

  it('a stopped process is a warning naming the policy, the process and why', () => {
    expect(eventEntry({ kind: 'policy', decision: stop })).toEqual({
      type: EVENTLOG_WARNING_TYPE,
      id: 3001,
      text: 'Policy w3wp-private-bytes: stop w3wp (pid 5124): stopped.\r\nReason: private bytes 6.2 GiB > 6 GiB for 5m',
    });
  });

  it('each outcome of a stop or trim has its own type and ID', () => {
    const entry = (outcome: string) => eventEntry({ kind: 'policy', decision: { ...stop, outcome } })!;
    expect([entry('trimmed'), entry('mismatch'), entry('gone'), entry('failed'), entry('dry_run')].map((e) => [e.type, e.id])).toEqual([
      [EVENTLOG_INFORMATION_TYPE, 3002],
      [EVENTLOG_INFORMATION_TYPE, 3010],
      [EVENTLOG_INFORMATION_TYPE, 3011],
      [EVENTLOG_ERROR_TYPE, 3020],
      [EVENTLOG_INFORMATION_TYPE, 3003],
    ]);
    expect(entry('mismatch').text).toContain('the pid now belongs to another process');
    expect(entry('dry_run').text).toBe('Policy w3wp-private-bytes: stop w3wp (pid 5124): dry_run.\r\nReason: private bytes 6.2 GiB > 6 GiB for 5m');
  });

  it('keeps IDs distinct, so filters can rely on them', () => {
    const ids = Object.values(EVENT_IDS);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('cuts text longer than ReportEventW takes, and says so', () => {
    const long = eventEntry({ kind: 'policy', decision: { ...stop, reason: 'x'.repeat(40_000) } })!;
    expect(long.text).toHaveLength(MAX_EVENT_TEXT);
    expect(long.text.endsWith('[cut]')).toBe(true);
  });
});

describe.runIf(process.platform !== 'win32')('the event log off Windows', () => {
  it('reports once that it cannot write, and never throws to the caller', async () => {
    const { openEventLog } = await import('../../../agent/platform/windows/event-log.js');
    const errors: Error[] = [];
    const log = openEventLog((err) => errors.push(err));
    log.write({ kind: 'policy', decision: stop });
    log.write({ kind: 'alert', alert: ptes });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(errors.map((e) => e.message)).toEqual([`the Windows API is not available on ${process.platform}`]);
    // Each event the log could not take is counted, and the counts reach the metrics.
    expect(log.stats()).toEqual({ written: 0, failed: 2 });
    const set: Array<[string, number]> = [];
    const { eventLogMetricsStage } = await import('../../../agent/platform/windows/event-log.js');
    await eventLogMetricsStage(log).run({} as never, { set: (metric: string, _labels: unknown, value: number) => void set.push([metric, value]) } as never);
    expect(set).toEqual([
      ['contention_event_log_writes_total', 0],
      ['contention_event_log_write_failures_total', 2],
    ]);
    log.close();
  });
});
