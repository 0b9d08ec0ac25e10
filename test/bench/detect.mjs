// What the leak detector costs per sample once history is full: an hour of 5 s samples of a host with
// 300 processes (30 of them matched into 10 groups), 30 groups, pools, tables, commit and per-CPU
// counters, judged with the default config. Prints the time per sample of the history stage (which
// records) and the detector stage (which judges) together, and the history size.
import { createAgentHistory } from '../../dist/agent/agent.js';
import { createLeakDetector } from '../../dist/agent/detect/leak-stage.js';
import { createHistoryStage } from '../../dist/agent/history/stage.js';
import { configSchema } from '../../dist/agent/config/schema.js';
import { percentile } from './lib.mjs';

const config = configSchema.parse({});
const history = createAgentHistory(config);
const detector = createLeakDetector(history, config);
const recorder = createHistoryStage(history, { watchedProcesses: (rows) => detector.watchedProcesses(rows) });
const sink = { set() {}, publish() {} };
const T0 = Date.now() - 3_600_000;
const STEP = config.sampling.interval * 1000;

const rows = (i) =>
  Array.from({ length: 300 }, (_, k) => ({
    pid: 100 + k, startTime: 1, comm: `p${k}`, processGroup: k < 30 ? `g${k % 10}` : `p${k}`, criteria: k < 30 ? [`g${k % 10}`] : [],
    privateBytes: 1e6 * (k + 1) + i * (k % 7) * 100, handles: 10 + (k % 5), threads: 3,
  }));
const each = (n, f) => Array.from({ length: n }, (_, k) => f(k));
const families = (i) =>
  new Map([
    ['contention_process_group_private_bytes', each(30, (g) => ({ labels: { group: `g${g}` }, value: 1e8 + i * g * 1000 + Math.random() * 1e5 }))],
    ['contention_process_group_handles', each(30, (g) => ({ labels: { group: `g${g}` }, value: 100 + (i % 10) }))],
    ['contention_process_group_threads', each(30, (g) => ({ labels: { group: `g${g}` }, value: 10 }))],
    ['contention_kernel_pool_bytes', ['slab_unreclaimable', 'slab_reclaimable', 'kernel_stack', 'page_tables', 'vmalloc'].map((pool) => ({ labels: { pool }, value: 1e7 + i }))],
    ['contention_kernel_table_free_entries', ['file_handles', 'pids', 'threads'].map((table) => ({ labels: { table }, value: 1e5 - i }))],
    ['contention_kernel_table_size_entries', ['file_handles', 'pids', 'threads'].map((table) => ({ labels: { table }, value: 2e5 }))],
    ['contention_memory_commit_bytes', [{ labels: {}, value: 1e9 + i * 1000 }]],
    ['contention_memory_available_bytes', [{ labels: {}, value: 1e9 - i * 1000 }]],
    ['contention_cpu_seconds_total', each(64, (c) => ({ labels: { cpu: String(c >> 3), mode: String(c & 7) }, value: i }))],
  ]);

const samples = Math.round(3600 / config.sampling.interval);
const times = [];
for (let i = 0; i < samples; i++) {
  const sample = { timestamp: T0 + i * STEP, families: families(i), collectors: [], facts: { processes: { rows: rows(i), timestamp: T0 + i * STEP } } };
  const start = process.hrtime.bigint();
  recorder.recordMeasured(sample, sink);
  detector.stage.run(sample, sink);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const full = times.slice(-120);
const stats = history.stats();
console.log(`history and detector stages, full hour of history: median ${percentile(full, 50).toFixed(1)} ms, p95 ${percentile(full, 95).toFixed(1)} ms per sample`);
console.log(`history: ${stats.series} series, ${(stats.bytes / 1e6).toFixed(1)} MB of typed arrays, ${stats.dropped} refused`);
