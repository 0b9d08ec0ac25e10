// npm run bench:scrape — the agent under concurrent scrape load on loopback.
//
// CLIENTS clients, each on its own kept-alive connection, GET /metrics back to back for SECONDS
// seconds, once plain and once with gzip. Scrapes are served from the exposition rendered once per
// sample, so the figures show what serving costs, and the agent's sample count over the window shows
// that load does not cause samples. The load generator runs in this process on the same two cores,
// so requests/s is a floor, bounded by the client as much as by the agent.
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { CLI, cpuSeconds, freePort, percentile, rssBytes, sleep, startAndWait, stop } from './lib.mjs';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const MAX_REQUESTS_PER_CLIENT = 1_000_000;

function getOnce(agent, url, headers) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        let bytes = 0;
        res.on('data', (c) => (bytes += c.length));
        res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`status ${res.statusCode}`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function client(url, headers, until, latencies, n) {
  // Each client from its own loopback address, as scrapers on different hosts are: the agent admits
  // at most 16 connections from one address.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: `127.0.${Math.floor(n / 250)}.${2 + (n % 250)}` });
  let bytes = 0;
  for (let i = 0; i < MAX_REQUESTS_PER_CLIENT && Date.now() < until; i++) {
    const start = process.hrtime.bigint();
    bytes += await getOnce(agent, url, headers);
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  agent.destroy();
  return bytes;
}

async function lastSampleTimestamp(url, headers) {
  const text = await (await fetch(url, { headers: { authorization: headers.authorization ?? '' } })).text();
  return Number(/^contention_last_sample_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
}

async function phase(name, proc, url, headers) {
  const rssBefore = rssBytes(proc.pid);
  const cpu0 = cpuSeconds(proc.pid);
  const sample0 = await lastSampleTimestamp(url, headers);
  let rssPeak = rssBefore;
  const watch = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(proc.pid))), 250);
  const latencies = [];
  const started = Date.now();
  const bytes = (await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(url, headers, started + SECONDS * 1000, latencies, n)))).reduce((a, b) => a + b, 0);
  const elapsed = (Date.now() - started) / 1000;
  clearInterval(watch);
  const cpu = cpuSeconds(proc.pid) - cpu0;
  const samples = Math.round(((await lastSampleTimestamp(url, headers)) - sample0) / INTERVAL_S);
  return {
    name,
    requests: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mbPerSecond: bytes / elapsed / 2 ** 20,
    cpuPercent: (cpu / elapsed) * 100,
    rssBeforeMB: rssBefore / 2 ** 20,
    rssPeakMB: rssPeak / 2 ** 20,
    rssAfterMB: rssBytes(proc.pid) / 2 ** 20,
    samples,
  };
}

const INTERVAL_S = 5;
const dir = mkdtempSync(join(tmpdir(), 'bench-scrape-'));
const config = join(dir, 'agent.yaml');
writeFileSync(config, `sampling:\n  interval: ${INTERVAL_S}s\n`);
// Basic auth as the exporter-toolkit's users: bcrypt at cost 10, checked once and then cached.
const webConfig = join(dir, 'web.yml');
writeFileSync(webConfig, `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('bench', 10)}\n`);
const authorization = `Basic ${Buffer.from('prometheus:bench').toString('base64')}`;

async function withAgent(extraArgs, headers, run) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = await startAndWait(process.execPath, [CLI, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, ...extraArgs], `${base}/-/healthy`, 30000, headers);
  try {
    while ((await fetch(`${base}/-/ready`, { headers })).status !== 200) await sleep(100);
    await sleep(2 * INTERVAL_S * 1000); // a couple of samples, so start-up work has settled
    return await run(proc, `${base}/metrics`);
  } finally {
    await stop(proc);
  }
}

const results = [];
await withAgent([], {}, async (proc, url) => {
  const body = await (await fetch(url)).text();
  console.error(`exposition: ${body.length} bytes, ${body.split('\n').filter((l) => l && !l.startsWith('#')).length} series`);
  results.push(await phase('plain', proc, url, {}));
  results.push(await phase('gzip', proc, url, { 'accept-encoding': 'gzip' }));
});
await withAgent([`--web.config.file=${webConfig}`], { authorization }, async (proc, url) => {
  results.push(await phase('gzip + basic auth', proc, url, { 'accept-encoding': 'gzip', authorization }));
});

console.log(`${CLIENTS} clients for ${SECONDS} s each, sampling every ${INTERVAL_S} s, Node ${process.version}\n`);
console.log('| encoding | requests | requests/s | p50 ms | p99 ms | MiB/s served | agent CPU | RSS before | RSS peak | RSS after | samples taken |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.requests} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.mbPerSecond.toFixed(1)} | ${r.cpuPercent.toFixed(0)}% | ${r.rssBeforeMB.toFixed(1)} MiB | ${r.rssPeakMB.toFixed(1)} MiB | ${r.rssAfterMB.toFixed(1)} MiB | ${r.samples} in ${SECONDS} s |`,
  );
}
