// Shared measuring pieces for the benchmarks: process CPU and RSS from /proc, latency percentiles,
// starting the built agent and Debian exporters on loopback.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${ROOT}dist/agent/cli.js`;
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / HZ;
}

/** Peak resident set size in bytes (VmHWM), start-up included. */
export function hwmBytes(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Resident set size in bytes. */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Installs a Debian package when its binary is missing (benchmarks only; tests never install). */
export function ensureDebian(binary, pkg) {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim();
  } catch {
    console.error(`installing ${pkg}...`);
    execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`], { stdio: 'inherit' });
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim();
  }
}

/** Starts a command and waits until `url` answers 200. */
export async function startAndWait(cmd, args, url, timeoutMs = 30000, headers = {}) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (c) => (err += c));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${cmd} exited: ${err}`);
    try {
      if ((await fetch(url, { headers })).ok) return proc;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  proc.kill('SIGKILL');
  throw new Error(`${cmd} did not answer ${url} in time: ${err}`);
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET over a kept-alive connection, as Prometheus scrapes; resolves with the body length. */
export function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: keepAlive, headers }, (res) => {
        let length = 0;
        res.on('data', (c) => (length += c.length));
        res.on('end', () => resolve(length));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/**
 * One timed scrape as Prometheus makes it (kept-alive, gzip); the body is decoded after the clock
 * stops, so decoding is not counted against the exporter.
 */
export function scrapeTimed(url) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    http
      .get(url, { agent: keepAlive, headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          const raw = Buffer.concat(chunks);
          const text = (res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
          resolve({ ms, status: res.statusCode, text });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Series in a text exposition: every line that is neither blank nor a comment. */
export function seriesCount(text) {
  let n = 0;
  for (const line of text.split('\n')) if (line !== '' && line[0] !== '#') n++;
  return n;
}

/** Scrapes `url` `count` times, one every `gapMs`, returning per-scrape latencies in ms. */
export async function scrapeLoop(url, count, gapMs) {
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await get(url, { 'accept-encoding': 'gzip' });
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    await sleep(gapMs);
  }
  return latencies;
}

export function stop(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', resolve);
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
  });
}
