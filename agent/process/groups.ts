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
  return createGrouping(criteria, maxUnmatched)(processes, rates);
}

/**
 * groupProcesses for a sampling loop: what a row matches is worked out once per row object, and a
 * row carried over unchanged (the same object, the same rates and group) gives back the same grouped
 * row, so a host of idle processes costs no matching and no copies each sample.
 */
export function createGrouping(criteria: readonly CompiledCriteria[], maxUnmatched: number) {
  const criteriaNames = new Set(criteria.map((c) => c.name));
  // By pid: the row object last seen, what it matched and its grouped copy (Maps by pid, not WeakMaps
  // by row, which V8's collector pays for on every mark), updated in place and swept of pids gone.
  type Match = { p: Named; criteria: string[]; name: string; row?: ProcessRow; call: number };
  const cache = new Map<number, Match>();
  let calls = 0;
  return (processes: readonly Named[], rates?: readonly ProcessRates[]): { rows: ProcessRow[]; groups: GroupTotals[] } => {
    const call = ++calls;
    const matched = processes.map((p) => {
      let m = cache.get(p.pid);
      if (m === undefined || m.p !== p) {
        const c = matchingCriteria(criteria, p);
        cache.set(p.pid, (m = { p, criteria: c, name: c.length === 0 ? groupNameOf(p.displayName) : '', call }));
      } else m.call = call;
      return m;
    });
    if (cache.size > processes.length) cache.forEach((m, pid) => m.call !== call && cache.delete(pid));
    const unmatchedBytes = new Map<string, number>();
    for (let i = 0; i < processes.length; i++) {
      const m = matched[i]!;
      if (m.criteria.length === 0) unmatchedBytes.set(m.name, (unmatchedBytes.get(m.name) ?? 0) + processes[i]!.privateBytes);
    }
    const kept = new Set(
      [...unmatchedBytes.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, maxUnmatched)
        .map(([name]) => name),
    );
    const rows: ProcessRow[] = processes.map((p, i) => {
      const m = matched[i]!;
      const r = rates?.[i] ?? NO_RATES;
      const processGroup = m.criteria[0] ?? (kept.has(m.name) && !criteriaNames.has(m.name) ? m.name : OTHER_GROUP);
      let row = m.row;
      if (row === undefined || row.rates !== r || row.processGroup !== processGroup) m.row = row = grouped(p, r, m.criteria, processGroup);
      return row;
    });

    const totals = new Map<string, { group: string; privateBytes: number; workingSetBytes: number; virtualBytes: number; handles: number; threads: number; processes: number }>();
    const empty = (group: string) => ({ group, privateBytes: 0, workingSetBytes: 0, virtualBytes: 0, handles: 0, threads: 0, processes: 0 });
    for (const name of criteriaNames) totals.set(name, empty(name));
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      let t = totals.get(r.processGroup);
      if (t === undefined) totals.set(r.processGroup, (t = empty(r.processGroup)));
      t.privateBytes += r.privateBytes;
      t.workingSetBytes += r.workingSetBytes;
      t.virtualBytes += r.virtualBytes;
      t.handles += r.handles;
      t.threads += r.threads;
      t.processes += 1;
    }
    return { rows, groups: [...totals.values()] };
  };
}

type Grouped = { -readonly [K in keyof ProcessRow]: ProcessRow[K] };

/**
 * A row with its rates, criteria and group. A row never grouped before (just read, seen by nobody
 * downstream yet) gets them in place: one object per process reading, not a copy per stage, which
 * was most of the agent's garbage on a big host. A row already grouped (carried over into another
 * group, or with other rates) is copied, so what an earlier sample published never changes.
 */
function grouped(p: Named, rates: ProcessRates, criteria: readonly string[], processGroup: string): ProcessRow {
  if ((p as Partial<ProcessRow>).processGroup !== undefined) return { ...p, rates, criteria, processGroup };
  const row = p as Named & Partial<Grouped>;
  row.rates = rates;
  row.criteria = criteria;
  row.processGroup = processGroup;
  return row as ProcessRow;
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
  // Indexed loops and a plain swap: this runs once per sample, often in V8's unoptimized tiers, where
  // for-of and destructuring allocate an object per step.
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    if (!(of(r) > 0) && measure !== 'privateBytes') continue;
    if (best.length === k && worse(r, best[k - 1]!) >= 0) continue;
    let i = best.length < k ? best.length : k - 1;
    best[i] = r;
    while (i > 0 && worse(best[i]!, best[i - 1]!) < 0) {
      const swap = best[i]!;
      best[i] = best[i - 1]!;
      best[i - 1] = swap;
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
  // By pid, with the start time that tells a reused pid apart: no key string per row per sample;
  // updated in place and swept of pids gone.
  const last = new Map<number, { startTime: number; cpu: number; tick: number }>();
  const totals = new Map<string, { seconds: number; seenAt: number }>();
  let tick = 0;
  return (rows: readonly ProcessRow[]): Map<string, number> => {
    tick++;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const before = last.get(r.pid);
      let delta: number;
      if (before === undefined) {
        delta = r.cpuSeconds;
        last.set(r.pid, { startTime: r.startTime, cpu: r.cpuSeconds, tick });
      } else {
        delta = before.startTime !== r.startTime ? r.cpuSeconds : Math.max(0, r.cpuSeconds - before.cpu);
        before.startTime = r.startTime;
        before.cpu = r.cpuSeconds;
        before.tick = tick;
      }
      let t = totals.get(r.processGroup);
      if (t === undefined) totals.set(r.processGroup, (t = { seconds: 0, seenAt: tick }));
      t.seconds += delta;
      t.seenAt = tick;
    }
    if (last.size > rows.length) last.forEach((l, pid) => l.tick !== tick && last.delete(pid));
    const out = new Map<string, number>();
    for (const [group, t] of totals) {
      if (t.seenAt === tick) out.set(group, t.seconds);
      else if (tick - t.seenAt > forgetAfter) totals.delete(group);
    }
    return out;
  };
}
