// npm run bench:processes — the agent's process table against Debian's process-exporter, side by side.
//
// For each count of idle processes (many `sleep`s, forked in batches and all killed at the end, even on
// failure), both exporters run at once over the same window at the same resolution: the agent with only
// its processes collector, sampling every INTERVAL seconds, and process-exporter (every process grouped
// by name), which reads /proc when it is scraped. Each is scraped once per INTERVAL, as Prometheus would.
// CPU is what each process used over the window (from /proc/PID/stat), divided per cycle (one sample and
// one scrape) and scaled to a 15 s resolution. The agent's one full process sample is also timed in this
// process (CPU and wall) so its cost is seen apart from the rest of the agent.
//
// Environment: BENCH_COUNTS (default 500,2000,5000), BENCH_INTERVAL seconds (default 5: the cost per cycle
// does not depend on the gap, and a shorter gap gives more cycles in the same time), BENCH_CYCLES
// (default 12), BENCH_PE_ARGS (extra process-exporter flags), BENCH_JSON (file to write the results to).
import { closeSync, mkdtempSync, openSync, readSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, hwmBytes, cpuSeconds, ensureDebian, freePort, percentile, rssBytes, scrapeTimed, seriesCount, sleep, startAndWait, stop } from './lib.mjs';
import { growIdleTo, killAtExit, killIdle } from './idle.mjs';

const COUNTS = (process.env.BENCH_COUNTS ?? '500,2000,5000').split(',').map(Number);
const INTERVAL = Number(process.env.BENCH_INTERVAL ?? 5);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 12);
const PE_ARGS = (process.env.BENCH_PE_ARGS ?? '').split(' ').filter(Boolean);
const RESOLUTION = 15;
const DIRECT_SAMPLES = 5;

const { COLLECTOR_NAMES } = await import(CLI.replace('cli.js', 'collectors/names.js'));
const { processesCollector } = await import(CLI.replace('cli.js', 'collectors/processes.js'));
const { configSchema } = await import(CLI.replace('cli.js', 'config/schema.js'));

// ---- exporters ------------------------------------------------------------------------------------

const processExporter = ensureDebian('prometheus-process-exporter', 'prometheus-process-exporter');
const dir = mkdtempSync(join(tmpdir(), 'bench-processes-'));
const agentConfig = join(dir, 'agent.yaml');
writeFileSync(agentConfig, `sampling:\n  interval: ${INTERVAL}s\n  queue_interval: ${INTERVAL}s\n`);
const peConfig = join(dir, 'process-exporter.yaml');
writeFileSync(peConfig, `process_names:\n  - name: "{{.Comm}}"\n    cmdline:\n      - '.+'\n`);

async function startAgent() {
  const port = await freePort();
  const others = COLLECTOR_NAMES.filter((n) => n !== 'processes').map((n) => `--no-collector.${n}`);
  const args = [CLI, `--config.file=${agentConfig}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', '--collector.processes', ...others];
  const proc = await startAndWait(process.execPath, args, `http://127.0.0.1:${port}/-/ready`);
  killAtExit(proc);
  return { proc, url: `http://127.0.0.1:${port}/metrics` };
}

async function startProcessExporter() {
  const port = await freePort();
  const args = [`-config.path=${peConfig}`, `-web.listen-address=127.0.0.1:${port}`, ...PE_ARGS];
  const proc = await startAndWait(processExporter, args, `http://127.0.0.1:${port}/metrics`, 60000);
  killAtExit(proc);
  return { proc, url: `http://127.0.0.1:${port}/metrics` };
}

/** Reads one series' value from a text exposition. */
function valueOf(text, series) {
  const at = text.indexOf(`\n${series} `);
  if (at === -1) return undefined;
  return Number(text.slice(at + series.length + 2, text.indexOf('\n', at + 1)));
}

function sumOf(text, family) {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${family}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** One full process sample in this process: CPU and wall of the collector's update, median of a few. */
async function directSample() {
  const config = configSchema.parse({});
  const collector = processesCollector.create({ config, procfs: '/proc', sysfs: '/sys', queueWatch: undefined });
  const sink = { set() {}, publish() {} };
  // The first sample reads every exe and cmdline once; the next few let the JIT settle.
  for (let i = 0; i < 3; i++) await collector.update(sink);
  const cpu = [];
  const wall = [];
  for (let i = 0; i < DIRECT_SAMPLES; i++) {
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    await collector.update(sink);
    wall.push(Number(process.hrtime.bigint() - w0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { cpuMs: percentile(cpu, 50), wallMs: percentile(wall, 50), floorMs: kernelFloor() };
}

/**
 * The floor the issue names: CPU to open, read and close /proc/PID/stat and /proc/PID/status of every
 * process and do nothing with them, median of a few, measured at the same moment so the sample's cost
 * can be read against what the machine gives right now.
 */
function kernelFloor() {
  const buffer = Buffer.allocUnsafe(64 * 1024);
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  const cpu = [];
  for (let i = 0; i < DIRECT_SAMPLES; i++) {
    const c0 = process.cpuUsage();
    for (const pid of pids) {
      for (const file of ['stat', 'status']) {
        try {
          const fd = openSync(`/proc/${pid}/${file}`, 'r');
          readSync(fd, buffer, 0, buffer.length, null);
          closeSync(fd);
        } catch {
          // exited meanwhile
        }
      }
    }
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return percentile(cpu, 50);
}

async function measure(count) {
  await growIdleTo(count);
  const agent = await startAgent();
  const pe = await startProcessExporter();
  try {
    // Warm up: the agent's first sample reads every exe and cmdline; process-exporter's first scrape
    // builds its tracking state. Neither is what a steady 15 s loop costs.
    await scrapeTimed(pe.url);
    await sleep(INTERVAL * 1000 + 1000);
    await scrapeTimed(agent.url);

    const cpu0 = { agent: cpuSeconds(agent.proc.pid), pe: cpuSeconds(pe.proc.pid) };
    const t0 = Date.now();
    const lat = { agent: [], pe: [] };
    const collectorMs = new Map(); // sample timestamp -> processes collector wall ms
    let last = { agent: '', pe: '' };
    for (let i = 0; i < CYCLES; i++) {
      await sleep(Math.max(0, t0 + i * INTERVAL * 1000 - Date.now()));
      const a = await scrapeTimed(agent.url);
      const p = await scrapeTimed(pe.url);
      if (a.status !== 200 || p.status !== 200) throw new Error(`scrape failed: agent ${a.status}, process-exporter ${p.status}`);
      lat.agent.push(a.ms);
      lat.pe.push(p.ms);
      const stamp = valueOf(a.text, 'contention_last_sample_timestamp_seconds');
      const took = valueOf(a.text, 'contention_collector_duration_seconds{collector="processes"}');
      if (stamp !== undefined && took !== undefined) collectorMs.set(stamp, took * 1000);
      last = { agent: a.text, pe: p.text };
    }
    await sleep(Math.max(0, t0 + CYCLES * INTERVAL * 1000 - Date.now()));
    const window = (Date.now() - t0) / 1000;
    const cycles = window / INTERVAL;
    const cpu = { agent: cpuSeconds(agent.proc.pid) - cpu0.agent, pe: cpuSeconds(pe.proc.pid) - cpu0.pe };
    const direct = await directSample();

    const row = (name, key, proc) => ({
      name,
      cpuPerCycle: cpu[key] / cycles,
      corePercentAt15s: (cpu[key] / cycles / RESOLUTION) * 100,
      p50: percentile(lat[key], 50),
      p99: percentile(lat[key], 99),
      rssMB: rssBytes(proc.pid) / 2 ** 20,
      hwmMB: hwmBytes(proc.pid) / 2 ** 20,
      series: seriesCount(last[key]),
    });
    return {
      count,
      processes: sumOf(last.agent, 'contention_process_group_processes'),
      window,
      scrapes: CYCLES,
      agent: { ...row('contention-agent', 'agent', agent.proc), collectorWallMs: percentile([...collectorMs.values()], 50), direct },
      pe: row('process-exporter', 'pe', pe.proc),
    };
  } finally {
    await stop(agent.proc);
    await stop(pe.proc);
  }
}

const results = [];
try {
  for (const count of COUNTS) {
    results.push(await measure(count));
    const r = results.at(-1);
    console.error(`${count}: agent ${r.agent.cpuPerCycle.toFixed(3)} s/cycle, process-exporter ${r.pe.cpuPerCycle.toFixed(3)} s/cycle`);
  }
} finally {
  await killIdle();
}

const f = (x, d = 1) => x.toFixed(d);
console.log(`\n${CYCLES} cycles per count, one every ${INTERVAL} s (one agent sample and one scrape of each exporter per cycle);`);
console.log(`CPU per cycle scaled to a ${RESOLUTION} s resolution; process-exporter ${[`-config.path (every process by {{.Comm}})`, ...PE_ARGS].join(' ')}\n`);
console.log('| idle processes | processes read | exporter | CPU s per cycle | % of a core at 15 s | scrape p50 ms | scrape p99 ms | RSS MB (peak) | series |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  for (const e of [r.agent, r.pe]) {
    console.log(`| ${r.count} | ${r.processes} | ${e.name} | ${f(e.cpuPerCycle, 3)} | ${f(e.corePercentAt15s, 2)} | ${f(e.p50, 2)} | ${f(e.p99, 2)} | ${f(e.rssMB)} (${f(e.hwmMB)}) | ${e.series} |`);
  }
}
console.log('\n| idle processes | agent CPU / process-exporter CPU | one process sample: CPU ms | wall ms | wall ms in the agent (contention_collector_duration_seconds) | floor: read stat+status of every pid, CPU ms |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  const d = r.agent.direct;
  console.log(`| ${r.count} | ${f(r.agent.cpuPerCycle / r.pe.cpuPerCycle, 3)} (1/${f(r.pe.cpuPerCycle / r.agent.cpuPerCycle)}) | ${f(d.cpuMs)} | ${f(d.wallMs)} | ${f(r.agent.collectorWallMs)} | ${f(d.floorMs)} |`);
}
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ interval: INTERVAL, cycles: CYCLES, peArgs: PE_ARGS, results }, null, 2));
