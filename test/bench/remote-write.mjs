// npm run bench:remote-write — what pushing costs the agent, and that it never holds up sampling.
//
// Three agents with the embedded defaults run side by side on this host for BENCH_SECONDS (default
// 120): one without remote_write (the peer), one pushing to a live loopback receiver, one pushing to a
// port where nothing listens (every request fails and the disk queue grows). Reported per agent: CPU
// seconds and the ratio to the peer, resident memory, the samples taken (the sampler's own count),
// the longest gap between samples and the age of the served sample at the end. Timings are ratios
// in the same run, on a shared machine: read them against the peer, not as absolutes.
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cpuSeconds, freePort, rssBytes, sleep, startAndWait, stop } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);

const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
const live = await freePort();
await new Promise((r) => receiver.listen(live, '127.0.0.1', r));
const dead = await freePort();

async function start(name, remote) {
  const dir = mkdtempSync(join(tmpdir(), `bench-rw-${name}-`));
  const lines = remote ? ['remote_write:', `  - url: http://127.0.0.1:${remote}/api/v1/write`, `    disk_queue: { dir: ${join(dir, 'queue')} }`] : [];
  writeFileSync(join(dir, 'agent.yaml'), `${lines.join('\n')}\n`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startAndWait(process.execPath, [CLI, `--config.file=${join(dir, 'agent.yaml')}`, `--web.listen-address=127.0.0.1:${port}`], `${url}/-/ready`);
  return { name, proc, url, cpu0: cpuSeconds(proc.pid), times: [] };
}

const metric = (text, name, labels = '') => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels}`) && !l.startsWith('#'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

const agents = [await start('no remote_write (peer)'), await start('pushing to a live receiver', live), await start('pushing to nothing (outage)', dead)];
const until = Date.now() + SECONDS * 1000;
while (Date.now() < until) {
  for (const a of agents) {
    const t = metric(await (await fetch(`${a.url}/metrics`)).text(), 'contention_last_sample_timestamp_seconds');
    if (t !== undefined && a.times.at(-1) !== t) a.times.push(t);
  }
  await sleep(1000);
}
// Every figure read at one moment, before any agent stops.
const texts = await Promise.all(agents.map(async (a) => (await fetch(`${a.url}/metrics`)).text()));
const read = agents.map((a, i) => ({ cpu: cpuSeconds(a.proc.pid) - a.cpu0, rss: rssBytes(a.proc.pid), text: texts[i], at: Date.now() / 1000 }));
const peerCpu = read[0].cpu;
console.log(`${SECONDS} s at the default 5 s interval:`);
for (const [i, a] of agents.entries()) {
  const { cpu, rss, text, at } = read[i];
  const gaps = a.times.slice(1).map((t, j) => t - a.times[j]);
  const age = at - metric(text, 'contention_last_sample_timestamp_seconds');
  const sent = metric(text, 'contention_remote_write_samples_sent_total');
  const queued = metric(text, 'contention_remote_write_queue_samples');
  const failures = metric(text, 'contention_remote_write_failures_total');
  console.log(
    `  ${a.name.padEnd(30)} cpu ${cpu.toFixed(2)} s (${(cpu / peerCpu).toFixed(2)}× the peer), rss ${(rss / 2 ** 20).toFixed(0)} MiB, ` +
      `${a.times.length} samples, longest gap ${Math.max(...gaps).toFixed(2)} s, served sample ${age.toFixed(1)} s old` +
      (sent === undefined ? '' : `; sent ${sent}, queued ${queued}, failed requests ${failures}`),
  );
  stop(a.proc);
}
receiver.close();
