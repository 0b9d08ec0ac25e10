// npm run bench:analyze — a 24 h PerfMon log at 15 s with 200 counters (5,760 rows × 200 columns),
// analysed by the built CLI: wall time and peak RSS. Targets: under 3 s, under 300 MB.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './lib.mjs';

const ROWS = 24 * 240;
const MiB = 2 ** 20;
const paths = [
  '\\Memory\\Free System Page Table Entries', '\\Memory\\Pool Paged Bytes', '\\Memory\\Pool Nonpaged Bytes',
  '\\Memory\\Committed Bytes', '\\Memory\\Commit Limit', '\\Memory\\Available Bytes', '\\System\\Processor Queue Length',
  ...Array.from({ length: 8 }, (_, k) => `\\Processor(${k})\\% Processor Time`),
  ...Array.from({ length: 4 }, (_, k) => `\\PhysicalDisk(${k} C:)\\Current Disk Queue Length`),
];
for (let p = 0; paths.length < 200; p++) {
  for (const c of ['Private Bytes', 'Handle Count', 'Thread Count', 'Working Set']) paths.push(`\\Process(svchost#${p})\\${c}`);
}
paths.length = 200;
// Realistic levels per counter, with noise; one process leaks private bytes steadily.
const LEAKING = paths.indexOf('\\Process(svchost#3)\\Private Bytes');
const value = (col, i) => {
  const x = Math.sin((i + 1) * 12.9898 + col * 78.233) * 43758.5453;
  const n = x - Math.floor(x);
  const path = paths[col];
  if (col === LEAKING) return Math.round(300 * MiB + i * 20000 + MiB * n);
  if (path.endsWith('Free System Page Table Entries')) return Math.round(150000 + 2000 * n);
  if (path.endsWith('Commit Limit')) return 8192 * MiB;
  if (path.endsWith('Queue Length')) return n < 0.9 ? 0 : 3;
  if (path.endsWith('% Processor Time')) return (40 + 30 * n).toFixed(3);
  if (path.endsWith('Count')) return Math.round(500 + 20 * n);
  return Math.round((200 + 20 * n) * MiB);
};
const pad = (v) => String(v).padStart(2, '0');
const lines = [`"(PDH-CSV 4.0) (Coordinated Universal Time)(0)",${paths.map((p) => `"\\\\BENCH${p}"`).join(',')}`];
for (let i = 0; i < ROWS; i++) {
  const d = new Date(Date.UTC(2026, 10, 24) + i * 15000);
  const stamp = `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.000`;
  lines.push(`"${stamp}",${paths.map((_, c) => `"${i === 0 ? ' ' : value(c, i)}"`).join(',')}`);
}
const file = join(mkdtempSync(join(tmpdir(), 'bench-analyze-')), 'day.csv');
writeFileSync(file, `${lines.join('\r\n')}\r\n`);

const runs = [];
for (let r = 0; r < 3; r++) {
  const start = process.hrtime.bigint();
  const out = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'analyze', file, '--json'], { encoding: 'utf8', maxBuffer: 64 * MiB });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (out.status !== 1) throw new Error(`expected findings (exit 1), got ${out.status}: ${out.stderr}`);
  runs.push({ seconds, rssMB: Number(out.stderr.trim().split('\n').pop()) / 1024, findings: JSON.parse(out.stdout).length });
}
const best = runs.reduce((a, b) => (a.seconds < b.seconds ? a : b));
console.log(`\n${ROWS} rows × ${paths.length} counters, ${(statSync(file).size / MiB).toFixed(1)} MiB`);
console.log('| run | wall s | peak RSS MB | findings |');
console.log('|---|---|---|---|');
runs.forEach((r, i) => console.log(`| ${i + 1} | ${r.seconds.toFixed(2)} | ${r.rssMB.toFixed(0)} | ${r.findings} |`));
console.log(`\nbest ${best.seconds.toFixed(2)} s (target < 3 s), peak RSS ${Math.max(...runs.map((r) => r.rssMB)).toFixed(0)} MB (target < 300 MB)`);
