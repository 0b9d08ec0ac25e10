// npm run bench:series — series per host at the default configuration, and what remote write sends.
//
// Starts the built agent with the embedded defaults (only the listen address and a remote_write to a
// loopback receiver added), on this host's real /proc, and counts the series a scrape serves, by
// family, after BENCH_SECONDS (default 60 s, twelve samples at the 5 s default interval). The leak
// detector exports its series only after detection.min_window (30 min by default); a second agent,
// identical but for a 40 s window (min 20 s), shows them at their default cap (detection.max_exported
// and the suspects) without waiting half an hour. The receiver decodes every request, so the bytes
// per sample on the wire and the series pushed per sample are measured, not estimated.
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { CLI, freePort, sleep, startAndWait, stop } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WriteRequest = protobuf
  .parse('syntax = "proto3"; message WriteRequest { repeated TimeSeries timeseries = 1; } message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; } message Label { string name = 1; string value = 2; } message Sample { double value = 1; int64 timestamp = 2; }')
  .root.lookupType('WriteRequest');

function receiver() {
  const stats = { requests: 0, bytes: 0, samples: 0, series: new Set() };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const message = WriteRequest.toObject(WriteRequest.decode(snappy.uncompress(new Uint8Array(body))), { longs: Number });
      stats.requests++;
      stats.bytes += body.length;
      for (const ts of message.timeseries ?? []) {
        stats.samples += ts.samples.length;
        stats.series.add(ts.labels.map((l) => `${l.name}=${l.value}`).join(','));
      }
      res.writeHead(204).end();
    });
  });
  return { server, stats };
}

function families(text) {
  const counts = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)[0];
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

async function run(label, detection) {
  const port = await freePort();
  const rw = receiver();
  const rwPort = await freePort();
  await new Promise((r) => rw.server.listen(rwPort, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'bench-series-'));
  const config = join(dir, 'agent.yaml');
  writeFileSync(
    config,
    [
      ...(detection ? [`detection: { window: ${detection.window}, min_window: ${detection.min} }`] : []),
      'remote_write:',
      `  - url: http://127.0.0.1:${rwPort}/api/v1/write`,
      `    disk_queue: { dir: ${join(dir, 'queue')} }`,
      '',
    ].join('\n'),
  );
  const proc = await startAndWait(process.execPath, [CLI, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`], `http://127.0.0.1:${port}/-/ready`);
  await sleep(SECONDS * 1000);
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  stop(proc);
  rw.server.close();
  const counts = families(text);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const remoteWriteOwn = [...counts].filter(([n]) => n.startsWith('contention_remote_write_')).reduce((a, [, c]) => a + c, 0);
  console.log(`\n${label}`);
  console.log(`  series served by a scrape: ${total} (${total - remoteWriteOwn} without the ${remoteWriteOwn} remote_write health series this run adds)`);
  const top = [...counts].sort((a, b) => b[1] - a[1]);
  for (const [name, n] of top) console.log(`    ${String(n).padStart(5)}  ${name}`);
  const s = rw.stats;
  console.log(`  remote write: ${s.requests} requests, ${s.samples} samples, ${s.series.size} distinct series, ${(s.bytes / Math.max(1, s.samples)).toFixed(2)} bytes per sample on the wire (snappy), ${(s.bytes / Math.max(1, s.requests) / 1024).toFixed(1)} KiB per request`);
  return { total, withoutRemote: total - remoteWriteOwn, bytesPerSample: s.bytes / Math.max(1, s.samples) };
}

const base = await run(`defaults, after ${SECONDS} s (no leak-detector series yet: min_window is 30 min)`);
const withDetection = await run(`defaults but a 40 s detection window (min 20 s), after ${SECONDS} s: the detector's series at their default cap`, { window: '40s', min: '20s' });
console.log(`\nseries per host: ${base.withoutRemote} at start, ${withDetection.withoutRemote} once the detector reports; ${withDetection.bytesPerSample.toFixed(2)} bytes per pushed sample`);
