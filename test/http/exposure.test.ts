import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startAgent, stopProcess, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';

const agents: RunningAgent[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all([...agents.map((a) => a.stop()), ...children.map((c) => stopProcess(c))]);
});

/** Every path the agent serves: the fixed ones, and each asset the page itself links to. */
function servedPaths(): string[] {
  const html = readFileSync(`${ROOT}/agent/http/page/index.html`, 'utf8');
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  return ['/', '/metrics', '/-/healthy', '/-/ready', '/api/v1/state', ...assets, '/no-such-path'];
}

describe('every endpoint is read-only', () => {
  it('POST, PUT, PATCH and DELETE get 405 on every path and change nothing', async () => {
    // A long interval: the first sample is the only one during the test, so anything that changed would be the requests' doing.
    const agent = await startAgent([`--config.file=${writeConfig('sampling:\n  interval: 10m\n  queue_interval: 1s\n')}`]);
    agents.push(agent);
    const metricsBefore = await (await fetch(`${agent.url}/metrics`)).text();
    const stateBefore = (await (await fetch(`${agent.url}/api/v1/state`)).json()) as { sampleTimestamp: number };
    const paths = servedPaths();
    expect(paths.length).toBeGreaterThan(7);
    for (const path of paths) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await fetch(`${agent.url}${path}`, { method, body: method === 'DELETE' ? undefined : '{"sampling":{"interval":"1s"}}' });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe('GET, HEAD');
        await res.arrayBuffer();
      }
      if (path !== '/no-such-path') expect((await fetch(`${agent.url}${path}`)).status, `GET ${path}`).toBe(200);
    }
    expect(await (await fetch(`${agent.url}/metrics`)).text()).toBe(metricsBefore);
    const stateAfter = (await (await fetch(`${agent.url}/api/v1/state`)).json()) as { sampleTimestamp: number };
    expect(stateAfter.sampleTimestamp).toBe(stateBefore.sampleTimestamp);
  });
});

describe('command lines and user names stay private unless web.expose_cmdline is set', () => {
  const secret = `s3cret-token-${process.pid}-${Date.now()}`;
  // Another user's process when the tests run as root, so the user name is one no other series carries.
  const asRoot = process.getuid?.() === 0;
  const userName = asRoot ? 'nobody' : userInfo().username;

  async function startSecretChild(): Promise<ChildProcess> {
    // Holds 1 GiB so it is among the page's top processes by private bytes on a busy machine.
    const script = `const b = Buffer.alloc(1024 * 1024 * 1024, 1); console.log('ready'); setInterval(() => b[0]++, 1000);`;
    const child = spawn(process.execPath, ['-e', script, '--', `--password=${secret}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`secret child exited with ${code}`)));
    });
    return child;
  }

  interface StateRow {
    pid: string;
    cmdline?: string;
    user?: string;
  }
  const stateOf = async (agent: RunningAgent) => (await (await fetch(`${agent.url}/api/v1/state`)).text());
  const rowOf = (state: string, pid: number) => (JSON.parse(state) as { topProcesses: StateRow[] }).topProcesses.find((p) => p.pid === String(pid));

  it('hidden by default: /metrics, /api/v1/state and the page carry neither', async () => {
    const child = await startSecretChild();
    const agent = await startAgent([`--config.file=${writeConfig('sampling:\n  interval: 1s\n')}`]);
    agents.push(agent);
    await waitFor(async () => rowOf(await stateOf(agent), child.pid!) !== undefined, 20_000, 'the child among the top processes');
    const state = await stateOf(agent);
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    const page = await (await fetch(`${agent.url}/`)).text();
    for (const [what, body] of [['state', state], ['metrics', metrics], ['page', page]] as const) {
      expect(body, what).not.toContain(secret);
      expect(body, what).not.toMatch(new RegExp(`\\b${userName}\\b`));
    }
    expect(rowOf(state, child.pid!)).not.toHaveProperty('cmdline');
    expect(rowOf(state, child.pid!)).not.toHaveProperty('user');
    await Promise.all([agent.stop(), stopProcess(child)]);
  });

  it('shown on the page state when set, and still never in /metrics', async () => {
    const child = await startSecretChild();
    const agent = await startAgent([`--config.file=${writeConfig('sampling:\n  interval: 1s\nweb:\n  expose_cmdline: true\n')}`]);
    agents.push(agent);
    await waitFor(async () => rowOf(await stateOf(agent), child.pid!) !== undefined, 20_000, 'the child among the top processes');
    const row = rowOf(await stateOf(agent), child.pid!)!;
    expect(row.cmdline).toContain(`--password=${secret}`);
    expect(row.user).toBe(userName);
    // Metrics are scraped into long-lived storage by others: a command line is never a label.
    expect(await (await fetch(`${agent.url}/metrics`)).text()).not.toContain(secret);
    await Promise.all([agent.stop(), stopProcess(child)]);
  });
});

describe('limits on what a client can hold', () => {
  it('drops a client that trickles its headers (slowloris) and keeps serving others', async () => {
    const agent = await startAgent([`--config.file=${writeConfig('sampling:\n  interval: 10m\n  queue_interval: 1s\n')}`]);
    agents.push(agent);
    const socket = connect(agent.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    const closed = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // One header line a second, never the blank line that ends them; bounded to 40 lines.
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent++ >= 40 || socket.destroyed) return clearInterval(trickle);
      socket.write(`X-Slow-${sent}: ${'a'.repeat(10)}\r\n`);
    }, 1000);
    // While it trickles, other clients are served.
    expect((await fetch(`${agent.url}/-/healthy`)).status).toBe(200);
    const outcome = await Promise.race([closed, new Promise<'still open'>((r) => setTimeout(() => r('still open'), 45_000))]);
    clearInterval(trickle);
    socket.destroy();
    expect(outcome).toBe('closed');
    expect(sent).toBeLessThan(40);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 60_000);

  it('refuses oversized headers with 431', async () => {
    const agent = agents[agents.length - 1]!;
    const res = await fetch(`${agent.url}/metrics`, { headers: { 'x-big': 'a'.repeat(16 * 1024) } });
    expect(res.status).toBe(431);
  });
});
