import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor, type RunningAgent } from '../helpers/agent.js';
import { freePort } from '../helpers/servers.js';
import { decodeBody } from './proto.js';

/** A loopback remote-write receiver that records each request's instance label. */
async function receiver() {
  const instances: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const ts of decodeBody(Buffer.concat(chunks)).timeseries.slice(0, 1)) instances.push(ts.labels.find((l) => l.name === 'instance')!.value);
      res.writeHead(204).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}/api/v1/write`, instances, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('remote_write across a reload', () => {
  let agent: RunningAgent | undefined;
  afterAll(async () => agent?.stop());

  it('moves to a new endpoint and new labels on SIGHUP, and keeps the running ones when the new endpoint cannot start', async () => {
    const [a, b] = await Promise.all([receiver(), receiver()]);
    const dir = mkdtempSync(join(tmpdir(), 'ca-rw-reload-'));
    const file = join(dir, 'agent.yaml');
    const config = (url: string, instance: string, tls = '') =>
      `sampling: { interval: 1s }\nrules: { instance: ${instance} }\nremote_write:\n  - url: ${url}\n    name: central\n    disk_queue: { dir: ${join(dir, 'queue')} }\n    queue_config: { batch_send_deadline: 1s }\n${tls}`;
    writeFileSync(file, config(a.url, 'before'));
    agent = await startAgent([`--config.file=${file}`]);
    await waitFor(() => a.instances.length > 0, 20_000, 'pushes to the first receiver');

    writeFileSync(file, config(b.url, 'after'));
    agent.proc.kill('SIGHUP');
    await agent.waitForLog(/remote_write reconfigured" endpoints=central/);
    await waitFor(() => b.instances.includes('after'), 20_000, 'pushes to the second receiver with the new labels');
    const atA = a.instances.length;

    // A TLS file that does not exist: the reload keeps pushing to the second receiver.
    writeFileSync(file, config(b.url.replace('http:', 'https:'), 'broken', `    tls_config: { ca_file: ${join(dir, 'missing.crt')} }\n`));
    agent.proc.kill('SIGHUP');
    await agent.waitForLog(/remote_write reload failed; keeping the running endpoints/);
    const atB = b.instances.length;
    await waitFor(() => b.instances.length > atB + 1, 20_000, 'still pushing to the second receiver');
    // What was still queued at the switch went to the new endpoint with its old labels, then only the new.
    const firstAfter = b.instances.indexOf('after');
    expect(b.instances.slice(0, firstAfter).every((i) => i === 'before')).toBe(true);
    expect(b.instances.slice(firstAfter).every((i) => i === 'after')).toBe(true);
    expect(a.instances.length).toBe(atA);
    expect(a.instances.every((i) => i === 'before')).toBe(true);
    await Promise.all([a.close(), b.close()]);
  }, 90_000);
});
