// npm run bench:collectors — what each collector of the default configuration costs per sample, in
// this process, with N idle processes on the host; and, with BENCH_BASE (the dist/agent directory of
// another build), the processes collector of that build timed in turn with this one's, at the same
// moment, so the ratio holds on a busy machine.
//
// Environment: BENCH_PROCESSES (default 2000 idle `sleep`s, forked in one detached shell and killed at
// the end), BENCH_SAMPLES (default 20, after 3 warm-up samples), BENCH_BASE.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { CLI, percentile, sleep } from './lib.mjs';

const N = Number(process.env.BENCH_PROCESSES ?? 2000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const BASE = process.env.BENCH_BASE;

const agentDir = CLI.replace(/cli\.js$/, '');
const { configSchema } = await import(`${agentDir}config/schema.js`);
const { enabledCollectors } = await import(`${agentDir}collectors/registry.js`);
const { startQueueWatch } = await import(`${agentDir}sampler/queue-watch.js`);

const shell = spawn('bash', ['-c', `ulimit -Su "$(ulimit -Hu)" 2>/dev/null; for i in $(seq ${N}); do sleep 1800 & done; echo ready; wait`], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
const killAll = () => {
  try {
    process.kill(-shell.pid, 'SIGKILL');
  } catch {
    // gone
  }
};
process.on('exit', killAll);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));
await new Promise((resolve) => shell.stdout.once('data', resolve));
await sleep(1000);
const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;

const config = configSchema.parse({});
const queueWatch = startQueueWatch('/proc', 1);
const ctx = { config, procfs: '/proc', sysfs: '/sys', queueWatch };
const sink = { set() {}, publish() {} };

async function timeUpdate(collector) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await collector.update(sink);
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

const mine = enabledCollectors(config).map((spec) => {
  try {
    return { name: spec.name, collector: spec.create(ctx) };
  } catch (err) {
    return { name: spec.name, error: err.message };
  }
});
let base;
if (BASE) {
  const { processesCollector } = await import(`${BASE.replace(/\/$/, '')}/collectors/processes.js`);
  const { configSchema: baseSchema } = await import(`${BASE.replace(/\/$/, '')}/config/schema.js`);
  base = processesCollector.create({ ...ctx, config: baseSchema.parse({}) });
}

const results = new Map();
const record = (name, r) => void (results.get(name) ?? results.set(name, []).get(name)).push(r);
for (let i = 0; i < 3 + SAMPLES; i++) {
  for (const m of mine) {
    if (!m.collector) continue;
    try {
      const r = await timeUpdate(m.collector);
      if (i >= 3) record(m.name, r);
    } catch (err) {
      m.failed = err.message;
    }
  }
  if (base) {
    const r = await timeUpdate(base);
    if (i >= 3) record('processes (base build)', r);
  }
}

console.log(`${pids} processes on the host (${N} idle added), ${SAMPLES} samples after 3 warm-up, median (p90) per sample:`);
console.log('| collector | CPU ms | wall ms |');
console.log('|---|---|---|');
for (const [name, rs] of results) {
  const cpu = rs.map((r) => r.cpuMs);
  const wall = rs.map((r) => r.wallMs);
  console.log(`| ${name} | ${percentile(cpu, 50).toFixed(2)} (${percentile(cpu, 90).toFixed(2)}) | ${percentile(wall, 50).toFixed(2)} (${percentile(wall, 90).toFixed(2)}) |`);
}
for (const m of mine) if (m.error || m.failed) console.log(`${m.name}: ${m.error ?? m.failed}`);
if (base) {
  const med = (name) => percentile(results.get(name).map((r) => r.cpuMs), 50);
  console.log(`processes collector: this build / base build CPU = ${(med('processes') / med('processes (base build)')).toFixed(2)}`);
}
queueWatch.stop();
killAll();
process.exit(0);
