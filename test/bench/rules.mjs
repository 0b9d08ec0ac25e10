// What local rule evaluation costs per sample once history is full: the shipped rules on an hour of
// 5 s samples of a host with 30 process groups, kernel pools and tables, commit, CPU, disks and PSI.
// Prints the rules stage's time per sample; the leak detector's cost is bench:detect's.
import { createAgentHistory } from '../../dist/agent/agent.js';
import { createHistoryStage } from '../../dist/agent/history/stage.js';
import { configSchema } from '../../dist/agent/config/schema.js';
import { expandRuleFiles, loadRuleFiles } from '../../dist/agent/rules/load.js';
import { createRules } from '../../dist/agent/rules/stage.js';
import { percentile } from './lib.mjs';

const config = configSchema.parse({ rules: { enabled: true } });
const loaded = loadRuleFiles(expandRuleFiles([], '.').files);
if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
const history = createAgentHistory(config);
const rules = createRules(loaded.groups, history, { target: { job: config.rules.job, instance: 'bench' } });
// Recording is the history stage's; it is timed with the rules, as the sample pays for both.
const recorder = createHistoryStage(history, { watchedProcesses: () => [] });
const sink = { set() {}, publish() {} };
const T0 = Date.now() - 3 * 3_600_000;
const STEP = config.sampling.interval * 1000;
const each = (n, f) => Array.from({ length: n }, (_, k) => f(k));
const families = (i) =>
  new Map([
    ['contention_process_group_private_bytes', each(30, (g) => ({ labels: { group: `g${g}` }, value: 1e8 + i * g * 1000 + Math.random() * 1e5 }))],
    ['contention_kernel_pool_bytes', ['slab_unreclaimable', 'slab_reclaimable', 'kernel_stack', 'page_tables', 'vmalloc'].map((pool) => ({ labels: { pool }, value: 1e7 + i }))],
    ['contention_kernel_table_free_entries', ['file_handles', 'pids', 'threads'].map((table) => ({ labels: { table }, value: 1e5 - i }))],
    ['contention_kernel_table_size_entries', ['file_handles', 'pids', 'threads'].map((table) => ({ labels: { table }, value: 2e5 }))],
    ['contention_memory_commit_bytes', [{ labels: {}, value: 1e9 + i * 1000 }]],
    ['contention_memory_commit_limit_bytes', [{ labels: {}, value: 4e9 }]],
    ['contention_memory_commit_limit_enforced', [{ labels: {}, value: 0 }]],
    ['contention_memory_available_bytes', [{ labels: {}, value: 1e9 - i * 1000 }]],
    ['contention_memory_physical_bytes', [{ labels: {}, value: 2e9 }]],
    ['contention_cpus', [{ labels: {}, value: 2 }]],
    ['contention_cpu_queue_length', [{ labels: {}, value: i % 5 }]],
    ['contention_disk_queue_weighted_seconds_total', ['sda', 'sdb', 'nvme0n1'].map((device) => ({ labels: { device }, value: i * 0.3 }))],
    ['contention_pressure_stalled_seconds_total', ['cpu', 'memory', 'io'].flatMap((resource) => ['some', 'full'].map((scope) => ({ labels: { resource, scope }, value: i * 0.01 })))],
  ]);
const collectors = ['cpu', 'memory', 'kernel_tables', 'kernel_pools', 'disk_queue', 'pressure', 'processes'].map((name) => ({ name, status: 'ok', durationSeconds: 0 }));

// Three hours: the longest range of the shipped rules (2 h) reaches into the downsampled buckets.
const samples = Math.round((3 * 3600) / config.sampling.interval);
const times = [];
let cpuAtFull;
for (let i = 0; i < samples; i++) {
  // CPU time says more than wall time on a shared machine: counted over the samples with full history.
  if (i === samples - 360) cpuAtFull = process.cpuUsage();
  const sample = { timestamp: T0 + i * STEP, families: families(i), collectors, facts: {} };
  const start = process.hrtime.bigint();
  recorder.recordMeasured(sample, sink);
  rules.stage.run(sample, sink);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const cpu = process.cpuUsage(cpuAtFull);
const full = times.slice(-360);
const count = loaded.groups.reduce((n, g) => n + g.rules.length, 0);
console.log(`history and rules stages (${count} rules), full history: median ${percentile(full, 50).toFixed(1)} ms, p95 ${percentile(full, 95).toFixed(1)} ms per sample`);
console.log(`CPU (user + system, garbage collection included): ${((cpu.user + cpu.system) / 1000 / 360).toFixed(1)} ms per sample`);
console.log(`history: ${history.stats().series} series`);
