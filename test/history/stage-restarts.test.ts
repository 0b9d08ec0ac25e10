import { describe, expect, it } from 'vitest';
import { createHistoryStage } from '../../agent/history/stage.js';
import type { ProcessRow } from '../../agent/process/table.js';
import { processRow, sampleOf, testHistory } from '../helpers/builders.js';

const T0 = 1_700_000_000_000;
const sink = { set() {}, publish() {} };

/** Feeds the stage one sample per table and gives the restart count of each group after the last. */
function restartsAfter(tables: ProcessRow[][]): Record<string, number> {
  const history = testHistory();
  const stage = createHistoryStage(history, { watchedProcesses: () => [] });
  tables.forEach((rows, i) => stage.recordMeasured(sampleOf(T0 + i * 5000, {}, { processes: { rows, timestamp: T0 + i * 5000, top: [] } }), sink));
  const at = T0 + (tables.length - 1) * 5000;
  return Object.fromEntries(history.select('process_group:restarts', 0, Infinity).filter((s) => s.points.at(-1)?.t === at).map((s) => [s.labels.group, s.points.at(-1)!.v]));
}

const p = (pid: number, group: string, startTime = T0 + pid) => processRow({ pid, startTime, processGroup: group });

describe('restart counting in the history stage', () => {
  it('counts a member gone and a new one come in the same sample, once per sample', () => {
    expect(restartsAfter([[p(1, 'web'), p(2, 'web')], [p(1, 'web'), p(3, 'web')], [p(1, 'web'), p(4, 'web')]])).toEqual({ web: 2 });
  });

  it('counts a pid reused by a new process (a new start time) as a restart', () => {
    expect(restartsAfter([[p(1, 'web')], [p(1, 'web', T0 + 99)]])).toEqual({ web: 1 });
  });

  it('does not count a group that only grows or only shrinks, nor a new group', () => {
    expect(restartsAfter([[p(1, 'web')], [p(1, 'web'), p(2, 'web'), p(5, 'db')], [p(2, 'web'), p(5, 'db')]])).toEqual({ web: 0, db: 0 });
  });

  it('counts a move between groups as one leaving and one coming, in each group', () => {
    // pid 2 moves from web to db while db loses pid 3 and web gains pid 4.
    expect(restartsAfter([[p(1, 'web'), p(2, 'web'), p(3, 'db')], [p(1, 'web'), p(4, 'web'), p(2, 'db')]])).toEqual({ web: 1, db: 1 });
  });

  it('carries on from the history when a group comes back, and drops a group that is gone', () => {
    expect(restartsAfter([[p(1, 'web')], [p(2, 'web')], [p(9, 'db')], [p(3, 'web'), p(9, 'db')]])).toEqual({ web: 1, db: 0 });
  });
});
