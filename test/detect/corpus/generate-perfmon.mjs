// Writes the corpus's synthetic PerfMon logs (relog's PDH-CSV layout: quoted cells, local times,
// a blank first row, CRLF) and their labels into test/detect/corpus/perfmon/. Deterministic: the
// same files every run, so the committed corpus can be regenerated and diffed.
//
//   node test/detect/corpus/generate-perfmon.mjs
//
// Each log has one labelled counter (the subject) and the counters a field engineer's collector set
// has beside it: the process's Elapsed Time and the host's System Up Time, from which analyze reads
// restarts and reboots.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = fileURLToPath(new URL('./perfmon/', import.meta.url));
const MB = 1e6;
const H = 3600;

const noise = (seed) => (i) => {
  const x = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
};
const pad = (n) => String(n).padStart(2, '0');
const stamp = (ms, bias) => {
  const l = new Date(ms - bias * 60_000);
  return `${pad(l.getUTCMonth() + 1)}/${pad(l.getUTCDate())}/${l.getUTCFullYear()} ${pad(l.getUTCHours())}:${pad(l.getUTCMinutes())}:${pad(l.getUTCSeconds())}.${String(l.getUTCMilliseconds()).padStart(3, '0')}`;
};
const fmt = (v) => (Number.isNaN(v) ? ' ' : Number.isInteger(v) ? String(v) : v.toFixed(3));

/**
 * A scenario: `value(s, i)` at s seconds since the log's start; `life(s)` the seconds since the
 * current process life began (restarts), `boot(s)` since the host booted (reboots), `gap(s)` true
 * where the collector was not running (a reboot's downtime: no row).
 */
const PROCESS = (name) => `\\Process(${name})\\Private Bytes`;
const scenarios = [];
const add = (s) => scenarios.push({ interval: 15, hours: 4, host: 'WEB01', ...s });

// ---- leaks --------------------------------------------------------------------------------------
for (const [rate, base, seed] of [[50, 200, 1], [20, 400, 2], [200, 300, 3], [1000, 500, 4]]) {
  add({ name: `leak-steady-${rate}mb-h`, label: 'leak', shape: 'steady', counter: PROCESS('w3wp'), value: (s, n) => base * MB + (rate * MB * s) / H + 4 * MB * n(s) , seed, hours: rate >= 1000 ? 1 : 4 });
}
add({ name: 'leak-slow-5mb-h-day', label: 'leak', shape: 'slow', counter: PROCESS('sqlservr'), interval: 60, hours: 24, seed: 5, value: (s, n) => 300 * MB + (5 * MB * s) / H + 2 * MB * n(s) });
add({ name: 'leak-slow-8pct-day-2days', label: 'leak', shape: 'slow', counter: PROCESS('svchost'), interval: 120, hours: 48, seed: 6, value: (s, n) => 500 * MB * (1 + (0.08 * s) / 86_400) + 3 * MB * n(s) });
add({ name: 'leak-sawtooth-rising-floor', label: 'leak', shape: 'sawtooth-rising', counter: PROCESS('java'), hours: 6, seed: 7, value: (s) => 400 * MB + ((s % 600) / 600) * 150 * MB + (30 * MB * s) / H });
add({ name: 'leak-sawtooth-rising-floor-fast-gc', label: 'leak', shape: 'sawtooth-rising', counter: PROCESS('dotnet'), hours: 3, seed: 8, value: (s) => 250 * MB + ((s % 90) / 90) * 60 * MB + (25 * MB * s) / H });
add({ name: 'leak-late-onset-day', label: 'leak', shape: 'late-onset', counter: PROCESS('w3wp'), interval: 60, hours: 24, seed: 9, value: (s, n) => 300 * MB + 3 * MB * n(s) + (s > 20 * H ? (40 * MB * (s - 20 * H)) / H : 0) });
add({ name: 'leak-late-onset-4h', label: 'leak', shape: 'late-onset', counter: PROCESS('app'), hours: 4, seed: 10, value: (s, n) => 200 * MB + 2 * MB * n(s) + (s > 3 * H ? (60 * MB * (s - 3 * H)) / H : 0) });
add({ name: 'leak-handles-300-h', label: 'leak', shape: 'handles', counter: '\\Process(w3wp)\\Handle Count', seed: 11, value: (s, n) => Math.round(2000 + (300 * s) / H + 20 * n(s)) });
add({ name: 'leak-handles-40-h-day', label: 'leak', shape: 'handles', counter: '\\Process(lsass)\\Handle Count', interval: 60, hours: 24, seed: 12, value: (s, n) => Math.round(3000 + (40 * s) / H + 15 * n(s)) });
add({ name: 'leak-threads-60-h', label: 'leak', shape: 'threads', counter: '\\Process(svchost#3)\\Thread Count', seed: 13, value: (s, n) => Math.round(80 + (60 * s) / H + 2 * n(s)) });
add({ name: 'leak-nonpaged-pool-10mb-h', label: 'leak', shape: 'pool', counter: '\\Memory\\Pool Nonpaged Bytes', interval: 60, hours: 12, seed: 14, value: (s, n) => 180 * MB + (10 * MB * s) / H + 0.5 * MB * n(s) });
add({ name: 'leak-paged-pool-4mb-h', label: 'leak', shape: 'pool', counter: '\\Memory\\Pool Paged Bytes', interval: 60, hours: 24, seed: 15, value: (s, n) => 400 * MB + (4 * MB * s) / H + 1 * MB * n(s) });
add({ name: 'leak-commit-150mb-h', label: 'leak', shape: 'commit', counter: '\\Memory\\Committed Bytes', hours: 6, seed: 16, value: (s, n) => 6000 * MB + (150 * MB * s) / H + 30 * MB * n(s) });
add({ name: 'leak-with-rare-spikes', label: 'leak', shape: 'spikes', counter: PROCESS('node'), hours: 4, seed: 17, value: (s, n) => 150 * MB + (30 * MB * s) / H + MB * n(s) + (Math.floor(s / 15) % 97 === 13 ? 400 * MB : 0) });
add({ name: 'leak-under-daily-cycle', label: 'leak', shape: 'daily-cycle', counter: PROCESS('w3wp#1'), interval: 120, hours: 72, seed: 18, value: (s, n) => 800 * MB + 200 * MB * Math.max(0, Math.sin((2 * Math.PI * s) / 86_400)) + (8 * MB * s) / H + 5 * MB * n(s) });
add({ name: 'leak-noisy-slow', label: 'leak', shape: 'noisy', counter: PROCESS('python'), interval: 60, hours: 24, seed: 19, value: (s, n) => 300 * MB + (3 * MB * s) / H + 15 * MB * n(s) });
add({ name: 'leak-staircase', label: 'leak', shape: 'staircase', counter: PROCESS('worker'), hours: 6, seed: 20, value: (s, n) => 200 * MB + Math.floor(s / 600) * 6 * MB + MB * n(s) });
add({ name: 'leak-after-warm-up', label: 'leak', shape: 'warm-up-then-leak', counter: PROCESS('java#1'), hours: 6, seed: 21, value: (s, n) => 300 * MB + 400 * MB * (1 - Math.exp(-s / 1200)) + (25 * MB * s) / H + 2 * MB * n(s) });
// Restarts: the per-life climb a recycling policy hides (IIS every few hours, PHP-FPM's max_requests).
add({ name: 'leak-masked-by-recycling-3h', label: 'leak', shape: 'masked-by-restarts', counter: PROCESS('w3wp'), interval: 60, hours: 24, seed: 22, life: (s) => s % (3 * H), value: (s, n, life) => 250 * MB + (100 * MB * life) / H + 3 * MB * n(s) });
add({ name: 'leak-masked-by-max-requests-20min', label: 'leak', shape: 'masked-by-restarts', counter: PROCESS('php-cgi'), hours: 6, seed: 23, life: (s) => s % 1200, value: (s, n, life) => 40 * MB + (300 * MB * life) / H + MB * n(s) });
add({ name: 'leak-handles-masked-by-restarts', label: 'leak', shape: 'masked-by-restarts', counter: '\\Process(service)\\Handle Count', interval: 60, hours: 24, seed: 24, life: (s) => s % (4 * H), value: (s, n, life) => Math.round(800 + (250 * life) / H + 10 * n(s)) });
// Reboots: kernel pool growth a nightly reboot resets; System Up Time restarts and rows stop for the downtime.
add({ name: 'leak-pool-masked-by-nightly-reboots', label: 'leak', shape: 'masked-by-reboots', counter: '\\Memory\\Pool Nonpaged Bytes', interval: 120, hours: 96, seed: 25, boot: (s) => (s + 2 * H) % 86_400, gap: (s) => (s + 2 * H) % 86_400 < 300, value: (s, n, _life, boot) => 150 * MB + (12 * MB * boot) / H + MB * n(s) });
add({ name: 'leak-commit-masked-by-weekly-reboots', label: 'leak', shape: 'masked-by-reboots', counter: '\\Memory\\Committed Bytes', interval: 300, hours: 24 * 9, seed: 26, boot: (s) => (s + 12 * H) % (3 * 86_400), gap: (s) => (s + 12 * H) % (3 * 86_400) < 600, value: (s, n, _life, boot) => 4000 * MB + (30 * MB * boot) / H + 20 * MB * n(s) });

// ---- healthy ------------------------------------------------------------------------------------
for (const [level, amp, seed] of [[500, 50, 31], [200, 5, 32], [1200, 120, 33]]) {
  add({ name: `healthy-noisy-flat-${level}mb`, label: 'healthy', shape: 'flat', counter: PROCESS('svchost'), seed, value: (s, n) => level * MB + amp * MB * n(s) });
}
add({ name: 'healthy-gc-sawtooth-10min', label: 'healthy', shape: 'gc-sawtooth', counter: PROCESS('java'), hours: 6, seed: 34, value: (s) => 400 * MB + ((s % 600) / 600) * 200 * MB });
add({ name: 'healthy-gc-sawtooth-1min', label: 'healthy', shape: 'gc-sawtooth', counter: PROCESS('dotnet'), hours: 2, seed: 35, value: (s, n) => 300 * MB + ((s % 60) / 60) * 80 * MB + MB * n(s) });
add({ name: 'healthy-gc-sawtooth-2h-old-gen', label: 'healthy', shape: 'gc-sawtooth', counter: PROCESS('java#2'), interval: 60, hours: 24, seed: 36, value: (s, n) => 1000 * MB + ((s % 7200) / 7200) * 600 * MB + 5 * MB * n(s) });
add({ name: 'healthy-warm-up-plateau', label: 'healthy', shape: 'warm-up', counter: PROCESS('w3wp'), hours: 4, seed: 37, value: (s, n) => 100 * MB + 300 * MB * (1 - Math.exp(-s / 900)) + MB * n(s) });
add({ name: 'healthy-warm-up-plateau-day', label: 'healthy', shape: 'warm-up', counter: PROCESS('sqlservr'), interval: 60, hours: 24, seed: 38, value: (s, n) => 2000 * MB + 6000 * MB * (1 - Math.exp(-s / (3 * H))) + 10 * MB * n(s) });
add({ name: 'healthy-warm-up-logarithmic', label: 'healthy', shape: 'warm-up-log', counter: PROCESS('elastic'), interval: 60, hours: 24, seed: 39, value: (s, n) => 500 * MB + 60 * MB * Math.log1p(s / 300) + 2 * MB * n(s) });
add({ name: 'healthy-warm-up-logarithmic-4h', label: 'healthy', shape: 'warm-up-log', counter: PROCESS('redis'), hours: 4, seed: 40, value: (s, n) => 100 * MB + 30 * MB * Math.log1p(s / 60) + 0.5 * MB * n(s) });
add({ name: 'healthy-plateau-after-fill', label: 'healthy', shape: 'plateau', counter: PROCESS('cache'), interval: 60, hours: 12, seed: 41, value: (s, n) => 200 * MB + Math.min(s, 2 * H) * (300 * MB / (2 * H)) + 2 * MB * n(s) });
add({ name: 'healthy-daily-cycle-3days', label: 'healthy', shape: 'daily-cycle', counter: PROCESS('w3wp'), interval: 120, hours: 72, seed: 42, value: (s, n) => 800 * MB + 300 * MB * Math.max(0, Math.sin((2 * Math.PI * s) / 86_400)) + 5 * MB * n(s) });
add({ name: 'healthy-daily-cycle-handles', label: 'healthy', shape: 'daily-cycle', counter: '\\Process(w3wp)\\Handle Count', interval: 120, hours: 72, seed: 43, value: (s, n) => Math.round(2000 + 800 * (0.5 + 0.5 * Math.sin((2 * Math.PI * s) / 86_400 - 1)) + 20 * n(s)) });
add({ name: 'healthy-deploy-step', label: 'healthy', shape: 'step', counter: PROCESS('app'), hours: 4, seed: 44, value: (s, n) => (s < 2 * H ? 200 : 320) * MB + MB * n(s) });
add({ name: 'healthy-two-deploy-steps-a-day-apart', label: 'healthy', shape: 'steps', counter: PROCESS('app'), interval: 120, hours: 60, seed: 45, value: (s, n) => (200 + (s > 12 * H ? 80 : 0) + (s > 36 * H ? 80 : 0)) * MB + MB * n(s) });
add({ name: 'healthy-step-near-end', label: 'healthy', shape: 'step', counter: PROCESS('app#1'), hours: 4, seed: 46, value: (s, n) => (s < 3.5 * H ? 200 : 280) * MB + MB * n(s) });
add({ name: 'healthy-rare-spikes', label: 'healthy', shape: 'spikes', counter: PROCESS('node'), hours: 4, seed: 47, value: (s, n) => 150 * MB + MB * n(s) + (Math.floor(s / 15) % 89 === 7 ? 500 * MB : 0) });
add({ name: 'healthy-busy-steady', label: 'healthy', shape: 'busy', counter: PROCESS('sqlservr#1'), hours: 6, seed: 48, value: (s, n) => 3000 * MB + 200 * MB * n(s) });
add({ name: 'healthy-falling', label: 'healthy', shape: 'falling', counter: PROCESS('app'), hours: 4, seed: 49, value: (s, n) => 900 * MB - (20 * MB * s) / H + MB * n(s) });
add({ name: 'healthy-faint-drift', label: 'healthy', shape: 'drift', counter: PROCESS('svchost#2'), interval: 60, hours: 24, seed: 50, value: (s, n) => 1000 * MB + (0.3 * MB * s) / H + MB * n(s) });
add({ name: 'healthy-threads-pool-flat', label: 'healthy', shape: 'flat', counter: '\\Process(w3wp)\\Thread Count', hours: 4, seed: 51, value: (s, n) => Math.round(60 + 10 * n(s)) });
add({ name: 'healthy-pool-flat', label: 'healthy', shape: 'flat', counter: '\\Memory\\Pool Nonpaged Bytes', interval: 60, hours: 24, seed: 52, value: (s, n) => 200 * MB + 2 * MB * n(s) });
add({ name: 'healthy-restarts-flat-lives', label: 'healthy', shape: 'restarts-healthy', counter: PROCESS('w3wp'), interval: 60, hours: 24, seed: 53, life: (s) => s % (3 * H), value: (s, n) => 250 * MB + 3 * MB * n(s) });
add({ name: 'healthy-restarts-warm-up-each-life', label: 'healthy', shape: 'restarts-warm-up', counter: PROCESS('w3wp#1'), interval: 60, hours: 24, seed: 54, life: (s) => s % (3 * H), value: (s, n, life) => 150 * MB + 200 * MB * (1 - Math.exp(-life / 600)) + 2 * MB * n(s) });
add({ name: 'healthy-restarts-gc-sawtooth', label: 'healthy', shape: 'restarts-gc-sawtooth', counter: PROCESS('php-cgi'), hours: 6, seed: 55, life: (s) => s % 1200, value: (s, n, life) => 40 * MB + ((life % 120) / 120) * 30 * MB + MB * n(s) });
add({ name: 'healthy-reboots-flat-pool', label: 'healthy', shape: 'reboots-healthy', counter: '\\Memory\\Pool Nonpaged Bytes', interval: 120, hours: 96, seed: 56, boot: (s) => (s + 2 * H) % 86_400, gap: (s) => (s + 2 * H) % 86_400 < 300, value: (s, n) => 150 * MB + 1 * MB * n(s) });
add({ name: 'healthy-commit-daily-cycle', label: 'healthy', shape: 'daily-cycle', counter: '\\Memory\\Committed Bytes', interval: 120, hours: 72, seed: 57, value: (s, n) => 6000 * MB + 2000 * MB * Math.max(0, Math.sin((2 * Math.PI * s) / 86_400 + 1)) + 20 * MB * n(s) });
add({ name: 'healthy-memory-released', label: 'healthy', shape: 'step-down', counter: PROCESS('app'), hours: 4, seed: 58, value: (s, n) => (s < 1 * H ? 600 : 300) * MB + MB * n(s) });
add({ name: 'healthy-handles-sawtooth', label: 'healthy', shape: 'gc-sawtooth', counter: '\\Process(w3wp)\\Handle Count', hours: 4, seed: 59, value: (s, n) => Math.round(2000 + ((s % 900) / 900) * 400 + 10 * n(s)) });
add({ name: 'healthy-warm-up-then-deploy-step', label: 'healthy', shape: 'warm-up-step', counter: PROCESS('api'), hours: 6, seed: 60, value: (s, n) => 100 * MB + 150 * MB * (1 - Math.exp(-s / 600)) + (s > 4 * H ? 90 * MB : 0) + MB * n(s) });

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const labels = [];
const bias = 480;
const start = Date.UTC(2026, 10, 20, 8, 0, 0);
for (const sc of scenarios) {
  const n = noise(sc.seed);
  const isProcess = sc.counter.startsWith('\\Process(');
  const instance = isProcess ? /\\Process\(([^)]+)\)/.exec(sc.counter)[1] : undefined;
  const columns = [sc.counter, ...(isProcess ? [`\\Process(${instance})\\Elapsed Time`] : []), '\\System\\System Up Time'];
  const lines = [[`(PDH-CSV 4.0) (Pacific Standard Time)(${bias})`, ...columns.map((c) => `\\\\${sc.host}${c}`)]];
  const rows = Math.round((sc.hours * H) / sc.interval);
  for (let i = 0; i < rows; i++) {
    const s = i * sc.interval;
    if (sc.gap?.(s)) continue;
    const life = sc.life ? sc.life(s) : s + 3 * H;
    const boot = sc.boot ? sc.boot(s) : s + 5 * 86_400;
    const t = start + s * 1000 + 100 + (i % 7) * 3;
    const v = Math.round(sc.value(s, (x) => n(Math.round(x / sc.interval)), life, boot));
    lines.push([stamp(t, bias), ...(i === 0 ? columns.map(() => ' ') : [fmt(v), ...(isProcess ? [fmt(life)] : []), fmt(boot)])]);
  }
  writeFileSync(join(OUT, `${sc.name}.csv`), `${lines.map((cells) => cells.map((c) => `"${c}"`).join(',')).join('\r\n')}\r\n`);
  labels.push({ file: `${sc.name}.csv`, counter: `\\\\${sc.host}${sc.counter}`, label: sc.label, shape: sc.shape });
}
writeFileSync(join(OUT, 'labels.json'), `${JSON.stringify(labels, null, 1)}\n`);
process.stdout.write(`${scenarios.length} logs (${labels.filter((l) => l.label === 'leak').length} leaking) in ${OUT}\n`);

