import { matchingCriteria, type CompiledCriteria } from './criteria.js';
import type { RawProcess } from './read-table.js';
import type { ProcessRow } from './table.js';

export const OTHER_GROUP = 'other';

export interface GroupTotals {
  readonly group: string;
  readonly privateBytes: number;
  readonly workingSetBytes: number;
  readonly virtualBytes: number;
  readonly handles: number;
  readonly threads: number;
  readonly processes: number;
}

export type Named = RawProcess & { user: string; group: string };

/**
 * Puts every process in one group: the first criteria it matches; otherwise its name, for the
 * `maxUnmatched` names holding the most private bytes; otherwise "other". Every criteria is a group
 * even when nothing matches it, so its series do not come and go.
 */
export function groupProcesses(
  processes: readonly Named[],
  criteria: readonly CompiledCriteria[],
  maxUnmatched: number,
): { rows: ProcessRow[]; groups: GroupTotals[] } {
  const matched = processes.map((p) => ({ p, criteria: matchingCriteria(criteria, p) }));
  const unmatchedBytes = new Map<string, number>();
  for (const { p, criteria: c } of matched) {
    if (c.length === 0) unmatchedBytes.set(p.comm, (unmatchedBytes.get(p.comm) ?? 0) + p.privateBytes);
  }
  const kept = new Set(
    [...unmatchedBytes.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, maxUnmatched)
      .map(([name]) => name),
  );
  const criteriaNames = new Set(criteria.map((c) => c.name));
  const rows: ProcessRow[] = matched.map(({ p, criteria: c }) => ({
    // Before the spread, as keys added after one take V8 off its fast clone path.
    criteria: c,
    processGroup: c[0] ?? (kept.has(p.comm) && !criteriaNames.has(p.comm) ? p.comm : OTHER_GROUP),
    ...p,
  }));

  const totals = new Map<string, { group: string; privateBytes: number; workingSetBytes: number; virtualBytes: number; handles: number; threads: number; processes: number }>();
  const empty = (group: string) => ({ group, privateBytes: 0, workingSetBytes: 0, virtualBytes: 0, handles: 0, threads: 0, processes: 0 });
  for (const name of criteriaNames) totals.set(name, empty(name));
  for (const r of rows) {
    const t = totals.get(r.processGroup) ?? empty(r.processGroup);
    t.privateBytes += r.privateBytes;
    t.workingSetBytes += r.workingSetBytes;
    t.virtualBytes += r.virtualBytes;
    t.handles += r.handles;
    t.threads += r.threads;
    t.processes += 1;
    totals.set(r.processGroup, t);
  }
  return { rows, groups: [...totals.values()] };
}

export type Measure = 'privateBytes' | 'handles' | 'threads';

/** The k rows largest by a measure (ties broken by pid for a stable choice). */
export function topBy(rows: readonly ProcessRow[], measure: Measure, k: number): ProcessRow[] {
  return [...rows].sort((a, b) => b[measure] - a[measure] || a.pid - b.pid).slice(0, k);
}

/**
 * Keeps each group's CPU counter monotonic although members come and go: each process adds only the
 * CPU it used since it was last seen, to the group it is in now. Groups unseen for `forgetAfter`
 * samples are dropped so the map stays bounded.
 */
export function createGroupCpu(forgetAfter = 720) {
  let last = new Map<string, number>();
  const totals = new Map<string, { seconds: number; seenAt: number }>();
  let tick = 0;
  return (rows: readonly ProcessRow[]): Map<string, number> => {
    tick++;
    const next = new Map<string, number>();
    for (const r of rows) {
      const key = `${r.pid}:${r.startTime}`;
      const before = last.get(key);
      const delta = before === undefined ? r.cpuSeconds : Math.max(0, r.cpuSeconds - before);
      next.set(key, r.cpuSeconds);
      const t = totals.get(r.processGroup) ?? { seconds: 0, seenAt: tick };
      t.seconds += delta;
      t.seenAt = tick;
      totals.set(r.processGroup, t);
    }
    last = next;
    for (const [group, t] of totals) if (tick - t.seenAt > forgetAfter) totals.delete(group);
    const present = new Set(rows.map((r) => r.processGroup));
    return new Map([...totals].filter(([g]) => present.has(g)).map(([g, t]) => [g, t.seconds]));
  };
}
