// npm run bench:host — the agent's host sampling against node_exporter's scrape, side by side in one run.
//
// Both serve the same scrape load: SCRAPES scrapes, one every GAP_MS. node_exporter reads the host on
// every scrape; the agent samples on its own clock, here set to the scrape gap so that it takes as many
// samples as node_exporter answers scrapes. CPU is what each process used over the window.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cpuSeconds, ensureDebian, freePort, percentile, rssBytes, scrapeLoop, sleep, startAndWait, stop } from './lib.mjs';

const SCRAPES = 100;
const GAP_MS = 200;

const { COLLECTOR_NAMES } = await import(`${CLI.replace('cli.js', 'collectors/names.js')}`);
const hostOnly = COLLECTOR_NAMES.filter((name) => !['kernel_tables', 'kernel_pools', 'memory', 'cpu', 'disk_queue', 'pressure', 'host_info'].includes(name));

async function measure(name, proc, url) {
  await sleep(1500); // let start-up work settle
  const cpu0 = cpuSeconds(proc.pid);
  const latencies = await scrapeLoop(url, SCRAPES, GAP_MS);
  const cpu = cpuSeconds(proc.pid) - cpu0;
  const bytes = (await (await fetch(url)).text()).length;
  return {
    name,
    cpuPer100: (cpu * 100) / SCRAPES,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rssMB: rssBytes(proc.pid) / 2 ** 20,
    bytes,
  };
}

const nodeExporter = ensureDebian('prometheus-node-exporter', 'prometheus-node-exporter');
const results = [];

{
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-host-'));
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, `sampling:\n  interval: ${GAP_MS}ms\n  queue_interval: ${GAP_MS}ms\n`);
  const args = [CLI, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...hostOnly.map((n) => `--no-collector.${n}`)];
  const agent = await startAndWait(process.execPath, args, `http://127.0.0.1:${port}/-/ready`);
  try {
    results.push(await measure(`contention-agent (host collectors, sampling every ${GAP_MS} ms)`, agent, `http://127.0.0.1:${port}/metrics`));
  } finally {
    await stop(agent);
  }
}
{
  const port = await freePort();
  const ne = await startAndWait(nodeExporter, [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], `http://127.0.0.1:${port}/metrics`);
  try {
    results.push(await measure('node_exporter (default collectors, reads on every scrape)', ne, `http://127.0.0.1:${port}/metrics`));
  } finally {
    await stop(ne);
  }
}

console.log(`\n${SCRAPES} scrapes, one every ${GAP_MS} ms\n`);
console.log('| exporter | CPU s per 100 scrapes | scrape p50 ms | scrape p99 ms | RSS MB | exposition bytes |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.name} | ${r.cpuPer100.toFixed(3)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.rssMB.toFixed(1)} | ${r.bytes} |`);
}
const [agent, ne] = results;
console.log(`\nagent CPU / node_exporter CPU = ${(agent.cpuPer100 / ne.cpuPer100).toFixed(2)}`);
