// Soak: the default agent under churn for SOAK_SECONDS (default 3600): short-lived processes, 20
// scrape clients, a SIGHUP every minute and a dead Alertmanager. It prints the agent's RSS, fds and
// threads over time, the samples it skipped, and what its own leak detector says of its own process
// (a criteria matches the agent, so it is judged like any process).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CLI, freePort, rssBytes, sleep } from './lib.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 3600);
const CLIENTS = 20;
const dir = mkdtempSync(join(tmpdir(), 'ca-soak-'));
const port = await freePort();
const deadAlertmanager = await freePort(); // nothing listens there
const config = join(dir, 'agent.yaml');
// The agent's command line holds the config path, whose directory name is unique: its criteria matches that.
const token = basename(dir);
// Defaults, plus a receiver that is down and a criteria for the agent itself.
writeFileSync(
  config,
  `alerting:\n  alertmanagers: ["http://127.0.0.1:${deadAlertmanager}"]\ncriteria:\n  - name: agent\n    include: [{ cmdline: "${token}" }]\n`,
);
const agent = spawn(process.execPath, [CLI, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
agent.stderr.on('data', (c) => (stderr = (stderr + c).slice(-20_000)));

const get = (path) =>
  new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });

const value = (body, name, labels = '') => {
  const line = body.split('\n').find((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

for (let i = 0; i < 300; i++) {
  if ((await get('/-/ready')).status === 200) break;
  await sleep(100);
}
const started = Date.now();
const until = started + SECONDS * 1000;
const fds = () => readdirSync(`/proc/${agent.pid}/fd`).length;
const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))[1]);
const points = [];
let scrapes = 0;
let failedScrapes = 0;
let children = 0;
let reloads = 0;

const churn = (async () => {
  while (Date.now() < until) {
    const c = spawn('sleep', ['0.2'], { stdio: 'ignore' });
    children++;
    c.on('error', () => undefined);
    await sleep(100);
  }
})();
const scrapers = Array.from({ length: CLIENTS }, async () => {
  while (Date.now() < until) {
    const r = await get('/metrics');
    scrapes++;
    if (r.status !== 200) failedScrapes++;
    await sleep(1000);
  }
});
const hups = (async () => {
  while (Date.now() < until) {
    await sleep(Math.min(60_000, Math.max(0, until - Date.now())));
    if (Date.now() < until) {
      agent.kill('SIGHUP');
      reloads++;
    }
  }
})();
let lastTs = 0;
let skipped = 0;
let interval = 5;
const watch = (async () => {
  while (Date.now() < until) {
    const r = await get('/metrics');
    if (r.status === 200) {
      const ts = value(r.body, 'contention_last_sample_timestamp_seconds');
      interval = value(r.body, 'contention_sample_interval_seconds') ?? interval;
      if (lastTs && ts - lastTs > interval * 1.5) skipped += Math.round((ts - lastTs) / interval) - 1;
      if (ts) lastTs = ts;
    }
    points.push({ t: Math.round((Date.now() - started) / 1000), rssMiB: +(rssBytes(agent.pid) / 2 ** 20).toFixed(1), fds: fds(), threads: threads() });
    await sleep(Math.min(interval * 1000, 10_000));
  }
})();
await Promise.all([churn, hups, watch, ...scrapers]);

const final = await get('/metrics');
const own = (name) => final.body.split('\n').filter((l) => l.startsWith(name) && l.includes('subject="agent"'));
agent.kill('SIGTERM');
const first = points.slice(0, Math.max(1, Math.floor(points.length / 10)));
const last = points.slice(-Math.max(1, Math.floor(points.length / 10)));
const mean = (xs, k) => +(xs.reduce((s, p) => s + p[k], 0) / xs.length).toFixed(1);
const summary = {
  seconds: SECONDS,
  clients: CLIENTS,
  scrapes,
  failedScrapes,
  shortLivedProcesses: children,
  reloads,
  skippedSamples: skipped,
  rssMiB: { firstTenth: mean(first, 'rssMiB'), lastTenth: mean(last, 'rssMiB'), max: Math.max(...points.map((p) => p.rssMiB)) },
  fds: { firstTenth: mean(first, 'fds'), lastTenth: mean(last, 'fds'), max: Math.max(...points.map((p) => p.fds)) },
  threads: { firstTenth: mean(first, 'threads'), lastTenth: mean(last, 'threads') },
  historyBytes: value(final.body, 'contention_history_bytes'),
  historySeries: value(final.body, 'contention_history_series'),
  ownLeakVerdicts: own('contention_leak_suspected'),
  ownTrendConfidence: own('contention_trend_confidence'),
};
console.log(JSON.stringify({ summary, points }, null, 1));
if (stderr.includes('Error')) console.error(stderr.slice(-4000));
process.exit(0);
