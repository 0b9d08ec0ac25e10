import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeLog } from '../../agent/analyze/judge.js';
import { readPdhCsv } from '../../agent/analyze/pdh-csv.js';
import { pdhTracks } from '../../agent/analyze/pdh-tracks.js';
import { assessTrend } from '../../agent/detect/trend.js';
import { noise, pdhCsv, type Column } from './pdh-log.js';

const MiB = 2 ** 20;
const ROWS_4H = 4 * 240; // four hours at 15 s

async function judge(columns: Column[], rows = ROWS_4H, cpus?: number) {
  const file = join(mkdtempSync(join(tmpdir(), 'ca-judge-')), 'log.csv');
  writeFileSync(file, pdhCsv({ rows, columns }));
  const { tracks, ignored, cpus: logged } = pdhTracks(await readPdhCsv(file));
  return { ...judgeLog(tracks, { trend: assessTrend, cpus: cpus ?? logged }), ignored };
}

const flat = (level: number, seed: number, amplitude = 0.01): Column['value'] => {
  const n = noise(seed);
  return (i) => level * (1 + amplitude * n(i));
};

describe('analyze judges a PerfMon log as a field engineer would', () => {
  it('finds the one w3wp instance that leaks among three of the same name', async () => {
    const n = noise(1);
    const { findings, healthy } = await judge([
      { path: '\\Process(w3wp)\\Private Bytes', value: flat(400 * MiB, 2) },
      { path: '\\Process(w3wp#1)\\Private Bytes', value: (i) => 300 * MiB + i * 0.25 * MiB + 4 * MiB * n(i) },
      { path: '\\Process(w3wp#2)\\Private Bytes', value: flat(350 * MiB, 3) },
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ counter: '\\\\WEB01\\Process(w3wp#1)\\Private Bytes', instance: 'w3wp#1', finding: 'leak' });
    expect(Number(findings[0]!.evidence.confidence)).toBeGreaterThan(0.99);
    expect(healthy.map((h) => h.instance)).toEqual(expect.arrayContaining(['w3wp', 'w3wp#2']));
  });

  it('finds a slow nonpaged pool leak over hours and projects commit exhaustion', async () => {
    const n = noise(4);
    const { findings } = await judge([
      { path: '\\Memory\\Pool Nonpaged Bytes', value: (i) => 200 * MiB + i * 40_000 + 0.5 * MiB * n(i) },
      { path: '\\Memory\\Committed Bytes', value: (i) => 6000 * MiB + i * 2 * MiB },
      { path: '\\Memory\\Commit Limit', value: () => 8192 * MiB },
    ]);
    const kinds = findings.map((f) => `${f.finding}:${f.counter.split('\\').pop()}`);
    expect(kinds).toContain('leak:Pool Nonpaged Bytes');
    const commit = findings.find((f) => f.counter.endsWith('Committed Bytes'))!;
    expect(commit.finding).toBe('leak');
    expect(commit.severity).toBe('critical'); // under 24 h to the limit at this rate
    expect(Number(commit.evidence.projected_commit_exhaustion_hours)).toBeLessThan(24);
  });

  it('tells a sawtooth with a rising floor (leak) from one with a flat floor', async () => {
    const { findings } = await judge([
      { path: '\\Process(java)\\Private Bytes', value: (i) => 500 * MiB + (i % 60) * 3 * MiB + i * 0.1 * MiB },
      { path: '\\Process(java#1)\\Private Bytes', value: (i) => 500 * MiB + (i % 60) * 3 * MiB },
    ]);
    expect(findings.map((f) => f.instance)).toEqual(['java']);
  });

  it('calls neither a warm-up plateau nor a one-time step a leak', async () => {
    const n = noise(5);
    const { findings } = await judge([
      { path: '\\Process(sqlservr)\\Private Bytes', value: (i) => 1000 * MiB + 3000 * MiB * (1 - Math.exp(-i / 60)) + 2 * MiB * n(i) },
      { path: '\\Process(app)\\Private Bytes', value: (i) => (i < 500 ? 200 * MiB : 600 * MiB) + MiB * n(i) },
    ]);
    expect(findings).toEqual([]);
  });

  it('flags Free System PTEs under 10,000 even briefly at the end, as critical exhaustion', async () => {
    const { findings } = await judge([{ path: '\\Memory\\Free System Page Table Entries', value: (i) => (i < ROWS_4H - 3 ? 180_000 - i : 9_500) }]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ finding: 'exhaustion', severity: 'critical' });
    expect(findings[0]!.evidence.minimum_free_entries).toBe(9500);
  });

  it('calls a CPU queue above 2 per CPU held for 10 minutes saturation, and short bursts nothing', async () => {
    const cpu = (k: number): Column => ({ path: `\\Processor(${k})\\% Processor Time`, value: () => 90 });
    const sustained = await judge([cpu(0), cpu(1), { path: '\\System\\Processor Queue Length', value: (i) => (i >= 100 && i < 140 ? 9 : 1) }]);
    expect(sustained.findings).toHaveLength(1);
    expect(sustained.findings[0]).toMatchObject({ finding: 'saturation' });
    expect(sustained.findings[0]!.evidence.threshold).toBe(4);
    const bursts = await judge([cpu(0), cpu(1), { path: '\\System\\Processor Queue Length', value: (i) => (i % 40 < 8 ? 20 : 0) }]);
    expect(bursts.findings).toEqual([]);
  });

  it('calls a disk queue held above 2 saturation', async () => {
    const { findings } = await judge([{ path: '\\PhysicalDisk(0 C:)\\Current Disk Queue Length', value: (i) => (i > 600 && i < 650 ? 12 : 1) }]);
    expect(findings[0]).toMatchObject({ finding: 'saturation', instance: '0 C:' });
  });

  it('finds nothing on a busy but healthy server, and lists what it ignored', async () => {
    const { findings, healthy, ignored } = await judge([
      { path: '\\Memory\\Free System Page Table Entries', value: flat(40_000, 6) },
      { path: '\\Memory\\Pool Nonpaged Bytes', value: flat(900 * MiB, 7, 0.05) },
      { path: '\\Process(sqlservr)\\Private Bytes', value: flat(20_000 * MiB, 8, 0.1) },
      { path: '\\System\\Processor Queue Length', value: (i) => (i % 7 === 0 ? 3 : 1) },
      { path: '\\Processor(_Total)\\% Processor Time', value: flat(85, 9, 0.1) },
      { path: '\\Network Interface(eth0)\\Bytes Total/sec', value: flat(1e8, 10) },
    ]);
    expect(findings).toEqual([]);
    expect(healthy.length).toBe(5);
    expect(ignored).toEqual(['\\\\WEB01\\Network Interface(eth0)\\Bytes Total/sec']);
  });
});
