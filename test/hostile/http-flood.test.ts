import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExposition, startAgent, type RunningAgent, waitFor, writeConfig } from '../helpers/agent.js';

const agents: RunningAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a.stop();
});

/** One GET from a chosen loopback source address, on a fresh connection. */
function get(port: number, path: string, opts: { from: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: opts.from, headers: opts.headers, agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('wrong passwords cannot exhaust the agent', () => {
  it('100 clients guessing from one address are limited; a scraper from another is served every time and samples go on', async () => {
    // Cost 10, as htpasswd -nBC 10 makes it.
    const web = writeConfig(`basic_auth_users:\n  prom: ${bcrypt.hashSync('secret', 10)}\n`, 'web.yml');
    const config = writeConfig(`sampling:\n  interval: 1s\n  queue_interval: 1s\nweb:\n  config_file: ${web}\n`);
    const agent = await startAgent([`--config.file=${config}`], {
      ready: async (port) => (await fetch(`http://127.0.0.1:${port}/-/ready`, { headers: basic('prom', 'secret') })).status === 200,
    });
    agents.push(agent);
    const statuses = new Map<number, number>();
    const until = Date.now() + 8_000;
    const attacker = async (n: number): Promise<void> => {
      for (let i = 0; i < 400 && Date.now() < until; i++) {
        const { status } = await get(agent.port, '/metrics', { from: '127.0.0.1', headers: basic('prom', `guess-${n}-${i}`) }).catch(() => ({ status: -1 }));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    const scrapes: number[] = [];
    let lastSample = 0;
    const scraper = async (): Promise<void> => {
      for (let i = 0; i < 40 && Date.now() < until; i++) {
        const res = await get(agent.port, '/metrics', { from: '127.0.0.2', headers: basic('prom', 'secret') });
        scrapes.push(res.status);
        if (res.status === 200) lastSample = parseExposition(res.body).find((s) => s.name === 'contention_last_sample_timestamp_seconds')!.value * 1000;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const started = Date.now();
    await Promise.all([scraper(), ...Array.from({ length: 100 }, (_, n) => attacker(n))]);
    expect(scrapes.length).toBeGreaterThanOrEqual(2);
    expect(scrapes.every((s) => s === 200), JSON.stringify(scrapes)).toBe(true);
    // Past the burst, the guessing address is refused without a verification.
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0);
    // 10 at once, then one per 2 s over the 8 s, and no more than the pending bound in flight.
    expect(statuses.get(401) ?? 0).toBeLessThanOrEqual(10 + 5 + 16);
    // The sampler went on while they guessed: the last scrape saw a sample taken well into the flood.
    expect(lastSample).toBeGreaterThan(started + 4_000);
  });
});

describe('one address cannot take every connection', () => {
  it('600 half-sent requests from one address leave a scraper from another served, and are closed', async () => {
    const agent = await startAgent([`--config.file=${writeConfig('sampling:\n  interval: 1s\n  queue_interval: 1s\n')}`]);
    agents.push(agent);
    const sockets: Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 600; i++) {
      const s = connect({ host: '127.0.0.1', port: agent.port, localAddress: '127.0.0.1' });
      s.on('error', () => undefined);
      s.resume();
      s.on('close', () => closed++);
      s.on('connect', () => s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n'));
      sockets.push(s);
    }
    try {
      await waitFor(() => sockets.every((s) => !s.connecting), 10_000, 'the 600 connections to be accepted or refused');
      const res = await get(agent.port, '/metrics', { from: '127.0.0.2' });
      expect(res.status).toBe(200);
      // All but the per-address allowance were closed at once; the rest when they sent no request in time.
      await waitFor(() => closed >= 600 - 16, 5_000, 'connections past the per-address limit to be closed');
      await waitFor(() => closed === 600, 9_000, 'the idle half-sent connections to be closed').catch((e) => { throw new Error(`${e.message}: ${closed} closed`); });
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
