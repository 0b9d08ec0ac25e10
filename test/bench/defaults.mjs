// npm run bench:defaults — what users run: the agent on its embedded default configuration, beside
// Debian's process-exporter (every process grouped by name) and node_exporter (default collectors),
// all three at once in one window, at several process counts.
//
// For each count the bench forks idle processes up to that many in /proc (see idle.mjs), starts the
// three exporters, lets them settle (WARMUP seconds: the agent's first samples read every exe and
// cmdline), then scrapes each once every SCRAPE seconds, as Prometheus would, for WINDOW seconds. CPU is
// each process's utime + stime over the window; RSS is read every second, and the peak is the kernel's
// high-water mark (VmHWM), which includes start-up. The agent is started as its launcher starts it
// (the Node flags of deploy/package/contention-agent.sh) with a config that only moves its state
// directory and port away from the machine's.
//
// Environment: BENCH_COUNTS (processes in /proc, default 70,2800,10000; a count under what is running
// adds nothing), BENCH_WINDOW seconds (default 600: the agent's RSS climbs between V8's full
// collections for its first minutes, and a 3-minute window missed the peak it reached at about six),
// BENCH_SCRAPE seconds (default 15), BENCH_WARMUP seconds (default 40), BENCH_JSON (file to write the
// results to).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, hwmBytes, ROOT, cpuSeconds, ensureDebian, freePort, percentile, rssBytes, scrapeTimed, seriesCount, sleep, startAndWait, stop } from './lib.mjs';
import { growIdleTo, idleCount, killAtExit, killIdle, processCount } from './idle.mjs';

const COUNTS = (process.env.BENCH_COUNTS ?? '70,2800,10000').split(',').map(Number);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 600);
const SCRAPE = Number(process.env.BENCH_SCRAPE ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 40);

/** The Node flags the shipped launcher passes, so the bench runs the agent as a package does. */
export function launcherNodeFlags() {
  const launcher = readFileSync(join(ROOT, 'deploy/package/contention-agent.sh'), 'utf8');
  // The first exec line is the daemon's (run, the default command).
  const exec = /^\s*exec "\$here\/node\/bin\/node" (.*)"\$here\/dist\/agent\/cli\.js"/m.exec(launcher);
  if (!exec) throw new Error('deploy/package/contention-agent.sh: no exec line of the shape the bench reads');
  return exec[1].split(' ').filter(Boolean);
}

const processExporter = ensureDebian('prometheus-process-exporter', 'prometheus-process-exporter');
const nodeExporter = ensureDebian('prometheus-node-exporter', 'prometheus-node-exporter');
const dir = mkdtempSync(join(tmpdir(), 'bench-defaults-'));
const peConfig = join(dir, 'process-exporter.yaml');
writeFileSync(peConfig, `process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n      - '.+'\n`);
const nodeFlags = launcherNodeFlags();

async function startAgent() {
  const port = await freePort();
  const state = mkdtempSync(join(dir, 'state-'));
  const config = join(state, 'agent.yaml');
  writeFileSync(config, `paths:\n  state_dir: ${state}\n`);
  const args = [...nodeFlags, CLI, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
  const proc = await startAndWait(process.execPath, args, `http://127.0.0.1:${port}/-/ready`);
  killAtExit(proc);
  return { name: 'contention-agent (defaults)', proc, url: `http://127.0.0.1:${port}/metrics`, cleanup: () => rmSync(state, { recursive: true, force: true }) };
}

async function startProcessExporter() {
  const port = await freePort();
  const proc = await startAndWait(processExporter, [`-config.path=${peConfig}`, `-web.listen-address=127.0.0.1:${port}`], `http://127.0.0.1:${port}/metrics`, 60000);
  killAtExit(proc);
  return { name: 'process-exporter (by name)', proc, url: `http://127.0.0.1:${port}/metrics` };
}

async function startNodeExporter() {
  const port = await freePort();
  const proc = await startAndWait(nodeExporter, [`--web.listen-address=127.0.0.1:${port}`], `http://127.0.0.1:${port}/metrics`, 60000);
  killAtExit(proc);
  return { name: 'node_exporter (defaults)', proc, url: `http://127.0.0.1:${port}/metrics` };
}

async function measure(count) {
  await growIdleTo(idleCount() + Math.max(0, count - processCount()));
  const exporters = [await startAgent(), await startProcessExporter(), await startNodeExporter()];
  try {
    for (const e of exporters) await scrapeTimed(e.url); // process-exporter builds its state on the first
    await sleep(WARMUP * 1000);
    const processes = processCount();
    for (const e of exporters) {
      e.cpu0 = cpuSeconds(e.proc.pid);
      e.latencies = [];
      e.rssMax = 0;
    }
    const t0 = Date.now();
    const watch = setInterval(() => {
      for (const e of exporters) e.rssMax = Math.max(e.rssMax, rssBytes(e.proc.pid));
    }, 1000);
    try {
      for (let i = 0; i * SCRAPE < WINDOW; i++) {
        await sleep(Math.max(0, t0 + i * SCRAPE * 1000 - Date.now()));
        for (const e of exporters) {
          const s = await scrapeTimed(e.url);
          if (s.status !== 200) throw new Error(`${e.name}: scrape answered ${s.status}`);
          e.latencies.push(s.ms);
          e.series = seriesCount(s.text);
        }
      }
      await sleep(Math.max(0, t0 + WINDOW * 1000 - Date.now()));
    } finally {
      clearInterval(watch);
    }
    const minutes = (Date.now() - t0) / 60000;
    return {
      count,
      processes,
      minutes,
      exporters: exporters.map((e) => ({
        name: e.name,
        cpuSecondsPerMinute: (cpuSeconds(e.proc.pid) - e.cpu0) / minutes,
        rssMB: rssBytes(e.proc.pid) / 2 ** 20,
        rssMaxMB: e.rssMax / 2 ** 20,
        hwmMB: hwmBytes(e.proc.pid) / 2 ** 20,
        p50: percentile(e.latencies, 50),
        p99: percentile(e.latencies, 99),
        scrapes: e.latencies.length,
        series: e.series,
      })),
    };
  } finally {
    for (const e of exporters) {
      await stop(e.proc);
      e.cleanup?.();
    }
  }
}

const results = [];
try {
  for (const count of COUNTS) {
    const r = await measure(count);
    results.push(r);
    console.error(`${r.processes} processes: ${r.exporters.map((e) => `${e.name} ${((e.cpuSecondsPerMinute / 60) * 100).toFixed(2)}% of a core, ${e.hwmMB.toFixed(0)} MB peak`).join('; ')}`);
  }
} finally {
  await killIdle();
  rmSync(dir, { recursive: true, force: true });
}

const f = (x, d = 1) => x.toFixed(d);
console.log(`\nOne window per count: ${WARMUP} s to settle, then ${WINDOW} s with one scrape of each exporter every ${SCRAPE} s (kept-alive, gzip).`);
console.log(`Agent: embedded defaults, Node flags ${nodeFlags.join(' ') || '(none)'}; process-exporter: default flags, every process by {{.Comm}}; node_exporter: default collectors.\n`);
console.log('| processes | exporter | CPU s per minute | % of a core | RSS MB | max RSS MB in window | peak RSS MB (VmHWM) | scrape p50 ms | scrape p99 ms | series |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  for (const e of r.exporters) {
    console.log(`| ${r.processes} | ${e.name} | ${f(e.cpuSecondsPerMinute, 3)} | ${f((e.cpuSecondsPerMinute / 60) * 100, 2)} | ${f(e.rssMB)} | ${f(e.rssMaxMB)} | ${f(e.hwmMB)} | ${f(e.p50, 2)} | ${f(e.p99, 2)} | ${e.series} |`);
  }
}
console.log('\n| processes | agent CPU / process-exporter CPU | agent CPU / node_exporter CPU |');
console.log('|---|---|---|');
for (const r of results) {
  const [agent, pe, ne] = r.exporters;
  const ratio = (a, b) => `${f(a.cpuSecondsPerMinute / b.cpuSecondsPerMinute, 3)} (1/${f(b.cpuSecondsPerMinute / a.cpuSecondsPerMinute)})`;
  console.log(`| ${r.processes} | ${ratio(agent, pe)} | ${ratio(agent, ne)} |`);
}
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ window: WINDOW, scrape: SCRAPE, warmup: WARMUP, nodeFlags, results }, null, 2));
