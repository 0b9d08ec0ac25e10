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
 * groupProcesses for a sampling loop. What a row matches is worked out once per row object, and the
 * group totals and the per-name bytes that choose the unmatched groups are kept across calls and moved
 * only by the rows that changed: a row carried over unchanged (the same object, the same rates and
 * group) gives back the same grouped row and costs one look-up, so a host of idle processes costs no
 * matching, no copies and no sums each sample. Every figure is a whole number, so the kept sums are
 * exact.
 */
export function createGrouping(criteria: readonly CompiledCriteria[], maxUnmatched: number) {
  const criteriaNames = new Set(criteria.map((c) => c.name));
  type Totals = { group: string; privateBytes: number; workingSetBytes: number; virtualBytes: number; handles: number; threads: number; processes: number };
  // By pid: the row object last seen, what it matched, its grouped copy and what it adds to its
  // group's totals and its name's bytes (Maps by pid, not WeakMaps by row, which V8's collector pays
  // for on every mark), updated in place and swept of pids gone.
  type Member = { p: Named; criteria: string[]; name: string; row?: ProcessRow; call: number; counted: Totals | undefined; keptAt: number };
  const cache = new Map<number, Member>();
  const totals = new Map<string, Totals>();
  const nameBytes = new Map<string, { bytes: number; members: number }>();
  for (const name of criteriaNames) totals.set(name, emptyTotals(name));
  let kept = new Set<string>();
  let keptVersion = 0;
  let namesChanged = true;
  let calls = 0;
  const members: Member[] = [];

  const add = (t: Totals, p: Named): void => {
    t.privateBytes += p.privateBytes;
    t.workingSetBytes += p.workingSetBytes;
    t.virtualBytes += p.virtualBytes;
    t.handles += p.handles;
    t.threads += p.threads;
    t.processes += 1;
  };
  const subtract = (t: Totals, p: Named): void => {
    t.privateBytes -= p.privateBytes;
    t.workingSetBytes -= p.workingSetBytes;
    t.virtualBytes -= p.virtualBytes;
    t.handles -= p.handles;
    t.threads -= p.threads;
    t.processes -= 1;
    if (t.processes === 0 && !criteriaNames.has(t.group)) totals.delete(t.group);
  };
  // An unmatched member's private bytes count towards its name, which may make the name a group.
  const name = (m: Member): void => {
    if (m.criteria.length !== 0) return;
    const n = nameBytes.get(m.name);
    if (n === undefined) nameBytes.set(m.name, { bytes: m.p.privateBytes, members: 1 });
    else {
      n.bytes += m.p.privateBytes;
      n.members++;
    }
    namesChanged = true;
  };
  const unname = (m: Member): void => {
    if (m.criteria.length !== 0) return;
    const n = nameBytes.get(m.name)!;
    n.bytes -= m.p.privateBytes;
    if (--n.members === 0) nameBytes.delete(m.name);
    namesChanged = true;
  };
  const uncount = (m: Member): void => {
    if (m.counted !== undefined) subtract(m.counted, m.p);
    m.counted = undefined;
    unname(m);
  };

  return (processes: readonly Named[], rates?: readonly ProcessRates[]): { rows: ProcessRow[]; groups: GroupTotals[] } => {
    const call = ++calls;
    members.length = 0;
    for (let i = 0; i < processes.length; i++) {
      const p = processes[i]!;
      let m = cache.get(p.pid);
      if (m !== undefined && m.p === p) {
        m.call = call;
      } else {
        const was = m;
        const c = matchingCriteria(criteria, p);
        m = { p, criteria: c, name: c.length === 0 ? groupNameOf(p.displayName) : '', row: undefined, call, counted: undefined, keptAt: -1 };
        cache.set(p.pid, m);
        // Its figures leave its group's totals here and come back below; its name's bytes move only
        // when they changed (a process read again to the same name and bytes moves neither).
        if (was !== undefined && was.counted !== undefined) subtract(was.counted, was.p);
        const sameName = was !== undefined && was.criteria.length === 0 && c.length === 0 && was.name === m.name && was.p.privateBytes === p.privateBytes;
        if (!sameName) {
          if (was !== undefined) unname(was);
          name(m);
        }
      }
      members.push(m);
    }
    if (cache.size > processes.length) {
      cache.forEach((m, pid) => {
        if (m.call === call) return;
        uncount(m);
        cache.delete(pid);
      });
    }
    if (namesChanged) {
      const next = new Set(
        [...nameBytes.entries()]
          .sort((a, b) => b[1].bytes - a[1].bytes || (a[0] < b[0] ? -1 : 1))
          .slice(0, maxUnmatched)
          .map(([name]) => name),
      );
      if (next.size !== kept.size || [...next].some((name) => !kept.has(name))) {
        kept = next;
        keptVersion++;
      }
      namesChanged = false;
    }
    const rows: ProcessRow[] = [];
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      const r = rates?.[i] ?? NO_RATES;
      let row = m.row;
      if (row === undefined || row.rates !== r || m.keptAt !== keptVersion) {
        const processGroup = m.criteria[0] ?? (kept.has(m.name) && !criteriaNames.has(m.name) ? m.name : OTHER_GROUP);
        m.keptAt = keptVersion;
        if (row === undefined || row.rates !== r || row.processGroup !== processGroup) m.row = row = grouped(m.p, r, m.criteria, processGroup);
      }
      if (m.counted === undefined || m.counted.group !== row.processGroup) {
        // New, changed, or moved to another group (its name left or joined the kept ones).
        if (m.counted !== undefined) subtract(m.counted, m.p);
        let t = totals.get(row.processGroup);
        if (t === undefined) totals.set(row.processGroup, (t = emptyTotals(row.processGroup)));
        add(t, m.p);
        m.counted = t;
      }
      rows.push(row);
    }
    members.length = 0;
    // Copies: the kept totals move with the next call, and what a sample published never changes.
    const groups: GroupTotals[] = [];
    totals.forEach((t) => void groups.push({ ...t }));
    return { rows, groups };
  };
}

const emptyTotals = (group: string) => ({ group, privateBytes: 0, workingSetBytes: 0, virtualBytes: 0, handles: 0, threads: 0, processes: 0 });

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
  const best = newBest(k, measure === 'privateBytes');
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    const v = of(r);
    if (v >= best.floor) offer(best, r, v);
  }
  return best.rows;
}

/**
 * The k best rows seen so far by one measure, largest first (ties by pid). `floor` is the least value
 * that can still enter (0, or above 0 where zero does not count, until k are held; then the k-th), so
 * the loops over every row compare a number and call only for a row that may enter. Indexed loops and
 * a plain swap: this runs over every row of every sample, often in V8's unoptimized tiers, where
 * for-of and destructuring allocate an object per step.
 */
interface Best {
  readonly k: number;
  readonly rows: ProcessRow[];
  readonly values: number[];
  floor: number;
  floorPid: number;
}

const newBest = (k: number, zeroCounts: boolean): Best => ({ k: Math.max(0, k), rows: [], values: [], floor: k <= 0 ? Infinity : zeroCounts ? 0 : Number.MIN_VALUE, floorPid: -1 });

function offer(best: Best, r: ProcessRow, v: number): void {
  const { k, rows, values } = best;
  if (rows.length === k && (v < best.floor || (v === best.floor && r.pid > best.floorPid))) return;
  let i = rows.length < k ? rows.length : k - 1;
  rows[i] = r;
  values[i] = v;
  while (i > 0 && (values[i - 1]! < v || (values[i - 1] === v && rows[i - 1]!.pid > r.pid))) {
    rows[i] = rows[i - 1]!;
    values[i] = values[i - 1]!;
    rows[i - 1] = r;
    values[i - 1] = v;
    i--;
  }
  if (rows.length === k) {
    best.floor = values[k - 1]!;
    best.floorPid = rows[k - 1]!.pid;
  }
}

/**
 * The one top set of a sample: the union of the top K by every measure, and the processes of any
 * criteria (the largest `criteriaMax` by private bytes), each once, in pid order. At most
 * 6 × K + criteriaMax rows, whatever the host runs. One pass over the rows for every measure.
 */
export function topSet(rows: readonly ProcessRow[], k: number, criteriaMax: number): ProcessRow[] {
  const cpu = newBest(k, false);
  const privateBytes = newBest(k, true);
  const growth = newBest(k, false);
  const handles = newBest(k, false);
  const threads = newBest(k, false);
  const io = newBest(k, false);
  const watched = newBest(criteriaMax, true);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    const rates = r.rates;
    const c = rates.cpu;
    if (c >= cpu.floor) offer(cpu, r, c);
    const bytes = r.privateBytes;
    if (bytes >= privateBytes.floor) offer(privateBytes, r, bytes);
    const g = rates.privateGrowth;
    if (g >= growth.floor) offer(growth, r, g);
    const h = r.handles;
    if (h >= handles.floor) offer(handles, r, h);
    const t = r.threads;
    if (t >= threads.floor) offer(threads, r, t);
    if (rates.ioRead !== undefined || rates.ioWrite !== undefined) {
      const b = (rates.ioRead ?? 0) + (rates.ioWrite ?? 0);
      if (b >= io.floor) offer(io, r, b);
    }
    if (r.criteria.length > 0 && bytes >= watched.floor) offer(watched, r, bytes);
  }
  const chosen = new Map<number, ProcessRow>();
  for (const best of [cpu, privateBytes, growth, handles, threads, io, watched]) for (let i = 0; i < best.rows.length; i++) chosen.set(best.rows[i]!.pid, best.rows[i]!);
  return [...chosen.values()].sort((a, b) => a.pid - b.pid);
}

/**
 * Keeps each group's CPU counter monotonic although members come and go: each process adds only the
 * CPU it used since it was last seen, to the group it is in now. Groups unseen for `forgetAfter`
 * samples are dropped so the map stays bounded.
 */
export function createGroupCpu(forgetAfter = 720) {
  // By pid, with the start time that tells a reused pid apart and the row last counted: a row carried
  // over (the same object) used no CPU since, and costs one look-up. Updated in place and swept of
  // pids gone.
  type Total = { seconds: number; seenAt: number };
  const last = new Map<number, { row: ProcessRow; startTime: number; cpu: number; tick: number; total: Total }>();
  const totals = new Map<string, Total>();
  let tick = 0;
  return (rows: readonly ProcessRow[]): Map<string, number> => {
    tick++;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const before = last.get(r.pid);
      if (before !== undefined && before.row === r) {
        before.tick = tick;
        before.total.seenAt = tick;
        continue;
      }
      let t = totals.get(r.processGroup);
      if (t === undefined) totals.set(r.processGroup, (t = { seconds: 0, seenAt: tick }));
      if (before === undefined) {
        t.seconds += r.cpuSeconds;
        last.set(r.pid, { row: r, startTime: r.startTime, cpu: r.cpuSeconds, tick, total: t });
      } else {
        t.seconds += before.startTime !== r.startTime ? r.cpuSeconds : Math.max(0, r.cpuSeconds - before.cpu);
        before.row = r;
        before.startTime = r.startTime;
        before.cpu = r.cpuSeconds;
        before.tick = tick;
        before.total = t;
      }
      t.seenAt = tick;
    }
    if (last.size > rows.length) last.forEach((l, pid) => l.tick !== tick && last.delete(pid));
    const out = new Map<string, number>();
    totals.forEach((t, group) => {
      if (t.seenAt === tick) out.set(group, t.seconds);
      else if (tick - t.seenAt > forgetAfter) totals.delete(group);
    });
    return out;
  };
}
