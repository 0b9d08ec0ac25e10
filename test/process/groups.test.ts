import { describe, expect, it } from 'vitest';
import { compileCriteria, criteriaSchema } from '../../agent/process/criteria.js';
import { createGroupCpu, createGrouping, groupProcesses, topBy, topSet, type Named } from '../../agent/process/groups.js';
import type { ProcessRates, ProcessRow } from '../../agent/process/table.js';
import { processRow } from '../helpers/builders.js';

/** A small deterministic generator, so a failure replays. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const criteria = compileCriteria(criteriaSchema.parse([{ name: 'db', include: [{ name: 'postgres' }] }, { name: 'web', include: [{ cmdline: 'serve' }] }]));
const NAMES = ['postgres', 'nginx', 'python3', 'java', 'node', 'sleep', 'bash'];

const sortedGroups = (groups: ReturnType<typeof groupProcesses>['groups']) => [...groups].sort((a, b) => (a.group < b.group ? -1 : 1));

describe('the grouping of a sampling loop', () => {
  it('gives the same groups, totals and rows as grouping each sample from scratch, while rows come, go, change and stay', () => {
    const next = random(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    const make = (pid: number): Named => {
      const comm = pick(NAMES);
      return processRow({ pid, comm, displayName: comm, cmdline: next() < 0.2 ? `${comm} serve` : comm, privateBytes: Math.floor(next() * 2 ** 30), workingSetBytes: Math.floor(next() * 2 ** 31), virtualBytes: Math.floor(next() * 2 ** 40), handles: Math.floor(next() * 500), threads: 1 + Math.floor(next() * 50) });
    };
    const grouping = createGrouping(criteria, 3);
    let rows: Named[] = Array.from({ length: 60 }, (_, i) => make(100 + i));
    let rates: ProcessRates[] = rows.map(() => ({ cpu: 0, privateGrowth: 0 }));
    let nextPid = 1000;
    for (let sample = 0; sample < 200; sample++) {
      const incremental = grouping(rows, rates);
      const scratch = groupProcesses(rows, criteria, 3, rates);
      expect(sortedGroups(incremental.groups)).toEqual(sortedGroups(scratch.groups));
      expect(incremental.rows.map((r) => [r.pid, r.processGroup, r.criteria])).toEqual(scratch.rows.map((r) => [r.pid, r.processGroup, r.criteria]));
      // The next sample: most rows carried (the same objects), some read again (changed or not),
      // some gone, some new; now and then a name's bytes jump, so the kept unmatched names change.
      const kept: Named[] = [];
      const keptRates: ProcessRates[] = [];
      rows.forEach((r, i) => {
        const roll = next();
        if (roll < 0.05) return; // gone
        if (roll < 0.2) {
          kept.push({ ...r, privateBytes: roll < 0.1 ? r.privateBytes : Math.floor(next() * 2 ** 32), handles: r.handles + 1 });
          keptRates.push({ cpu: next(), privateGrowth: 0 });
        } else if (roll < 0.25) {
          kept.push(make(r.pid)); // read again as something else (an exec)
          keptRates.push({ cpu: 0, privateGrowth: 0 });
        } else {
          kept.push(r);
          keptRates.push(rates[i]!);
        }
      });
      const arriving = Math.floor(next() * 4);
      for (let i = 0; i < arriving; i++) {
        kept.push(make(nextPid++));
        keptRates.push({ cpu: 0, privateGrowth: 0 });
      }
      rows = kept;
      rates = keptRates;
    }
  });

  it('keeps every criteria as a group, empty or not, and drops a name group when its last process goes', () => {
    const grouping = createGrouping(criteria, 5);
    const nginx = processRow({ pid: 1, comm: 'nginx', displayName: 'nginx', privateBytes: 100, handles: 3 });
    const first = grouping([nginx]).groups;
    expect(sortedGroups(first).map((g) => [g.group, g.processes, g.privateBytes, g.handles])).toEqual([['db', 0, 0, 0], ['nginx', 1, 100, 3], ['web', 0, 0, 0]]);
    expect(sortedGroups(grouping([]).groups).map((g) => g.group)).toEqual(['db', 'web']);
  });
});

describe('the top set', () => {
  const row = (pid: number, over: Partial<ProcessRow>) => processRow({ pid, privateBytes: 0, handles: 0, threads: 0, ...over });

  it('is the union of the top K by each measure, ties broken by pid, zero rates not top', () => {
    const rows = [
      row(1, { privateBytes: 50, rates: { cpu: 0, privateGrowth: 0 } }),
      row(2, { privateBytes: 90, rates: { cpu: 0.5, privateGrowth: 0 } }),
      row(3, { privateBytes: 90, handles: 9, rates: { cpu: 0, privateGrowth: 0 } }),
      row(4, { threads: 40, rates: { cpu: 0.5, privateGrowth: 10, ioRead: 5 } }),
      row(5, { privateBytes: 10, rates: { cpu: 0, privateGrowth: 0 } }),
    ];
    expect(topBy(rows, 'privateBytes', 2).map((r) => r.pid)).toEqual([2, 3]);
    expect(topBy(rows, 'cpu', 1).map((r) => r.pid)).toEqual([2]);
    expect(topBy(rows, 'growth', 3).map((r) => r.pid)).toEqual([4]);
    expect(topBy(rows, 'cpu', 0)).toEqual([]);
    expect(topSet(rows, 1, 0).map((r) => r.pid)).toEqual([2, 3, 4]);
  });

  it('picks what sorting every row would pick, on a large random table', () => {
    const next = random(7);
    const rows = Array.from({ length: 3000 }, (_, i) =>
      row(i + 1, { privateBytes: Math.floor(next() * 100), handles: Math.floor(next() * 20), threads: Math.floor(next() * 5), rates: { cpu: next() < 0.9 ? 0 : Math.floor(next() * 10) / 10, privateGrowth: next() < 0.95 ? 0 : next() } }),
    );
    const bySorting = (of: (r: ProcessRow) => number, k: number) => rows.filter((r) => of(r) > 0).sort((a, b) => of(b) - of(a) || a.pid - b.pid).slice(0, k).map((r) => r.pid);
    expect(topBy(rows, 'cpu', 8).map((r) => r.pid)).toEqual(bySorting((r) => r.rates.cpu, 8));
    expect(topBy(rows, 'handles', 8).map((r) => r.pid)).toEqual(bySorting((r) => r.handles, 8));
    expect(topBy(rows, 'privateBytes', 8).map((r) => r.pid)).toEqual(bySorting((r) => r.privateBytes, 8));
    const union = new Set([...bySorting((r) => r.rates.cpu, 8), ...bySorting((r) => r.privateBytes, 8), ...bySorting((r) => r.rates.privateGrowth, 8), ...bySorting((r) => r.handles, 8), ...bySorting((r) => r.threads, 8)]);
    expect(topSet(rows, 8, 0).map((r) => r.pid)).toEqual([...union].sort((a, b) => a - b));
  });
});

describe('the group CPU counter', () => {
  it('adds only what each process used since it was last seen, a carried row adding nothing', () => {
    const groupCpu = createGroupCpu();
    const a = processRow({ pid: 1, cpuSeconds: 5, processGroup: 'app' });
    expect(groupCpu([a]).get('app')).toBe(5);
    expect(groupCpu([a]).get('app')).toBe(5);
    expect(groupCpu([{ ...a, cpuSeconds: 7 }]).get('app')).toBe(7);
    // A reused pid (another start time) counts from zero; the counter never goes back.
    expect(groupCpu([{ ...a, startTime: a.startTime + 1, cpuSeconds: 1 }]).get('app')).toBe(8);
  });
});
