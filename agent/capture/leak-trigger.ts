import type { Alert } from '../alerts/alert.js';
import type { ProcessRow } from '../process/table.js';

export interface LeakCaptureTarget {
  /** The criteria group the leak was flagged for. */
  readonly group: string;
  readonly row: ProcessRow;
  /** The alert's subject, for the record. */
  readonly subject: string;
}

/**
 * Which processes to dump for leaks flagged now: for each criteria group with a firing LeakSuspected
 * (about the group, or about one of its processes) that was not dumped within the period, one
 * process: the one the alert names, or the group's largest by private bytes. Groups named after an
 * unmatched process (no criteria) are never dumped automatically.
 */
export function leakCaptureTargets(
  alerts: readonly Alert[],
  rows: readonly ProcessRow[],
  criteria: ReadonlySet<string>,
  lastCaptured: ReadonlyMap<string, number>,
  now: number,
  periodMs: number,
): LeakCaptureTarget[] {
  const out: LeakCaptureTarget[] = [];
  const seen = new Set<string>();
  for (const a of alerts) {
    if (a.state !== 'firing' || a.labels.alertname !== 'LeakSuspected') continue;
    const kind = a.labels.subject_kind;
    const group = a.labels.group;
    if ((kind !== 'process' && kind !== 'process_group') || !group || !criteria.has(group) || seen.has(group)) continue;
    const last = lastCaptured.get(group);
    if (last !== undefined && now - last < periodMs) continue;
    const members = rows.filter((r) => r.processGroup === group);
    const named = kind === 'process' ? members.find((r) => String(r.pid) === a.labels.pid) : undefined;
    const row = named ?? members.reduce<ProcessRow | undefined>((big, r) => (!big || r.privateBytes > big.privateBytes ? r : big), undefined);
    if (!row) continue;
    seen.add(group);
    out.push({ group, row, subject: a.labels.subject ?? group });
  }
  return out;
}
