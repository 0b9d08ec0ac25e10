import { matchingCriteria, type CompiledCriteria } from './criteria.js';
import { groupNameOf } from './display-name.js';
import type { RawProcess } from './read-table.js';
import type { ProcessRates, ProcessRow } from './table.js';

export const OTHER_GROUP = 'other';

const NO_RATES: ProcessRates = { cpu: 0, privateGrowth: 0 };

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
 * Puts every process in one group: the first criteria it matches; otherwise its display name (less
 * any trailing instance counter), for the `maxUnmatched` names holding the most private bytes;
 * otherwise "other". Every criteria is a group even when nothing matches it, so its series do not
 * come and go.
 */
export function groupProcesses(
  processes: readonly Named[],
  criteria: readonly CompiledCriteria[],
  maxUnmatched: number,
  /** Each process's rates, in the same order; zero when not given. */
  rates?: readonly ProcessRates[],
): { rows: ProcessRow[]; groups: GroupTotals[] } {
  const matched = processes.map((p) => {
    const c = matchingCriteria(criteria, p);
    return { p, criteria: c, name: c.length === 0 ? groupNameOf(p.displayName) : '' };
  });
  const unmatchedBytes = new Map<string, number>();
  for (const { p, criteria: c, name } of matched) {
    if (c.length === 0) unmatchedBytes.set(name, (unmatchedBytes.get(name) ?? 0) + p.privateBytes);
  }
  const kept = new Set(
    [...unmatchedBytes.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, maxUnmatched)
      .map(([name]) => name),
  );
  const criteriaNames = new Set(criteria.map((c) => c.name));
  const rows: ProcessRow[] = matched.map(({ p, criteria: c, name }, i) => ({
    // Before the spread, as keys added after one take V8 off its fast clone path.
    rates: rates?.[i] ?? NO_RATES,
    criteria: c,
    processGroup: c[0] ?? (kept.has(name) && !criteriaNames.has(name) ? name : OTHER_GROUP),
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

/** What the top set ranks processes by; each picks its own top K. */
export const MEASURES = {
  cpu: (r: ProcessRow) => r.rates.cpu,
  privateBytes: (r: ProcessRow) => r.privateBytes,
  growth: (r: ProcessRow) => r.rates.privateGrowth,
  handles: (r: ProcessRow) => r.handles,
  threads: (r: ProcessRow) => r.threads,
  io: (r: ProcessRow) => (r.rates.ioRead ?? 0) + (r.rates.ioWrite ?? 0),
} as const;

export type Measure = keyof typeof MEASURES;

/** The k rows largest by a measure (ties broken by pid for a stable choice); rows at zero are not "top". */
export function topBy(rows: readonly ProcessRow[], measure: Measure, k: number): ProcessRow[] {
  const of = MEASURES[measure];
  if (k <= 0) return [];
  // One pass with a small sorted buffer: k is small and a host has thousands of rows.
  const best: ProcessRow[] = [];
  const worse = (a: ProcessRow, b: ProcessRow) => of(b) - of(a) || a.pid - b.pid;
  for (const r of rows) {
    if (!(of(r) > 0) && measure !== 'privateBytes') continue;
    if (best.length === k && worse(r, best[k - 1]!) >= 0) continue;
    let i = best.length < k ? best.length : k - 1;
    best[i] = r;
    while (i > 0 && worse(best[i]!, best[i - 1]!) < 0) {
      [best[i], best[i - 1]] = [best[i - 1]!, best[i]!];
      i--;
    }
  }
  return best;
}

/**
 * The one top set of a sample: the union of the top K by every measure, and the processes of any
 * criteria (the largest `criteriaMax` by private bytes), each once, in pid order. At most
 * 6 × K + criteriaMax rows, whatever the host runs.
 */
export function topSet(rows: readonly ProcessRow[], k: number, criteriaMax: number): ProcessRow[] {
  const chosen = new Map<number, ProcessRow>();
  for (const measure of Object.keys(MEASURES) as Measure[]) for (const r of topBy(rows, measure, k)) chosen.set(r.pid, r);
  const watched = rows.filter((r) => r.criteria.length > 0);
  if (watched.length > criteriaMax) watched.sort((a, b) => b.privateBytes - a.privateBytes || a.pid - b.pid);
  for (const r of watched.slice(0, criteriaMax)) chosen.set(r.pid, r);
  return [...chosen.values()].sort((a, b) => a.pid - b.pid);
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
