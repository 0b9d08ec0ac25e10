import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { httpsGet, makeCertificate } from '../helpers/tls.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const LIGHT = ['--no-collector.processes'];

const agents: RunningAgent[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
});

describe('basic auth from --web.config.file', () => {
  it('refuses a missing, wrong or unknown credential with 401 and serves the right one', async () => {
    const webFile = writeConfig(`basic_auth_users:\n  prometheus: ${bcrypt.hashSync('scrape-secret', 10)}\n`, 'web.yml');
    const agent = await startAgent([...LIGHT, `--web.config.file=${webFile}`], {
      ready: async (port) => (await fetch(`http://127.0.0.1:${port}/-/ready`, { headers: { authorization: basic('prometheus', 'scrape-secret') } })).status === 200,
    });
    agents.push(agent);
    const get = (path: string, authorization?: string) => fetch(`${agent.url}${path}`, { headers: authorization ? { authorization } : {} });

    const none = await get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(await none.text()).not.toMatch(/contention_/);
    expect((await get('/metrics', basic('prometheus', 'wrong'))).status).toBe(401);
    expect((await get('/metrics', basic('nobody', 'scrape-secret'))).status).toBe(401);
    expect((await get('/metrics', 'Basic not-base64-at-all!')).status).toBe(401);

    const right = await get('/metrics', basic('prometheus', 'scrape-secret'));
    expect(right.status).toBe(200);
    expect(await right.text()).toMatch(/^contention_/m);
    // A cached success must not let a wrong password through afterwards.
    expect((await get('/metrics', basic('prometheus', 'scrape-secret!'))).status).toBe(401);
    for (const path of ['/', '/api/v1/state', '/-/healthy', '/assets/page.js']) {
      expect((await get(path)).status, path).toBe(401);
      expect((await get(path, basic('prometheus', 'scrape-secret'))).status, path).toBe(200);
    }
  });

  it('a SIGHUP re-reads the users: the old password stops working, the new one works', async () => {
    const webFile = writeConfig(`basic_auth_users:\n  ops: ${bcrypt.hashSync('first', 10)}\n`, 'web.yml');
    const agent = await startAgent([...LIGHT, `--web.config.file=${webFile}`], {
      ready: async (port) => (await fetch(`http://127.0.0.1:${port}/-/ready`, { headers: { authorization: basic('ops', 'first') } })).status === 200,
    });
    agents.push(agent);
    // /-/healthy: the config reload that the same signal causes restarts sampling, and /metrics waits for it.
    writeFileSync(webFile, `basic_auth_users:\n  ops: ${bcrypt.hashSync('second', 10)}\n`);
    agent.proc.kill('SIGHUP');
    await agent.waitForLog(/web config reloaded/);
    expect((await fetch(`${agent.url}/-/healthy`, { headers: { authorization: basic('ops', 'first') } })).status).toBe(401);
    expect((await fetch(`${agent.url}/-/healthy`, { headers: { authorization: basic('ops', 'second') } })).status).toBe(200);

    writeFileSync(webFile, 'basic_auth_users:\n  ops: second\n');
    agent.proc.kill('SIGHUP');
    await agent.waitForLog(/web config reload failed/);
    expect((await fetch(`${agent.url}/-/healthy`, { headers: { authorization: basic('ops', 'second') } })).status).toBe(200);
  });
});

describe('TLS from --web.config.file', () => {
  it('refuses plaintext HTTP on the TLS listener and serves HTTPS with the right certificate', async () => {
    const server = makeCertificate('agent');
    const webFile = writeConfig(`tls_server_config:\n  cert_file: ${server.certFile}\n  key_file: ${server.keyFile}\n`, 'web.yml');
    const agent = await startAgent([...LIGHT, `--web.config.file=${webFile}`], {
      ready: async (port) => (await httpsGet(port, '/-/ready', { ca: server.cert })).status === 200,
    });
    agents.push(agent);

    const plain = await fetch(`http://127.0.0.1:${agent.port}/metrics`).then(
      (r) => `answered ${r.status}`,
      (err: Error) => `refused: ${String((err.cause as Error | undefined)?.message ?? err.message)}`,
    );
    expect(plain).toMatch(/^refused/);

    const secure = await httpsGet(agent.port, '/metrics', { ca: server.cert });
    expect(secure.status).toBe(200);
    expect(secure.body).toMatch(/^contention_/m);

    // A certificate the client does not trust fails the handshake: the client checks who it talks to.
    const stranger = makeCertificate('stranger');
    await expect(httpsGet(agent.port, '/metrics', { ca: stranger.cert })).rejects.toThrow(/self.signed|unable to verify|certificate/i);

    // A connection that never starts the handshake is closed by the agent, not held open.
    const idle = connect(agent.port, '127.0.0.1');
    const outcome = await Promise.race([
      new Promise<'closed'>((r) => idle.once('close', () => r('closed'))),
      new Promise<'still open'>((r) => setTimeout(() => r('still open'), 40_000)),
    ]);
    idle.destroy();
    expect(outcome).toBe('closed');
  }, 60_000);

  it('RequireAndVerifyClientCert refuses a client without a trusted certificate', async () => {
    const server = makeCertificate('agent');
    const client = makeCertificate('prometheus');
    const stranger = makeCertificate('stranger');
    const webFile = writeConfig(
      `tls_server_config:\n  cert_file: ${server.certFile}\n  key_file: ${server.keyFile}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${client.certFile}\n`,
      'web.yml',
    );
    const agent = await startAgent([...LIGHT, `--web.config.file=${webFile}`], {
      ready: async (port) => (await httpsGet(port, '/-/ready', { ca: server.cert, client })).status === 200,
    });
    agents.push(agent);
    expect((await httpsGet(agent.port, '/metrics', { ca: server.cert, client })).status).toBe(200);
    await expect(httpsGet(agent.port, '/metrics', { ca: server.cert })).rejects.toThrow();
    await expect(httpsGet(agent.port, '/metrics', { ca: server.cert, client: stranger })).rejects.toThrow();
  });

  it('TLS and basic auth together: the right certificate is not enough without the password', async () => {
    const server = makeCertificate('agent');
    const webFile = writeConfig(
      `tls_server_config:\n  cert_file: ${server.certFile}\n  key_file: ${server.keyFile}\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync('pw', 10)}\n`,
      'web.yml',
    );
    const authorization = basic('prometheus', 'pw');
    const agent = await startAgent([...LIGHT, `--web.config.file=${webFile}`], {
      ready: async (port) => (await httpsGet(port, '/-/ready', { ca: server.cert, headers: { authorization } })).status === 200,
    });
    agents.push(agent);
    expect((await httpsGet(agent.port, '/metrics', { ca: server.cert })).status).toBe(401);
    expect((await httpsGet(agent.port, '/metrics', { ca: server.cert, headers: { authorization: basic('prometheus', 'nope') } })).status).toBe(401);
    expect((await httpsGet(agent.port, '/metrics', { ca: server.cert, headers: { authorization } })).status).toBe(200);
  });
});

describe('a bad web config file', () => {
  const run = (webFile: string) => spawnSync(process.execPath, [CLI, '--web.listen-address=127.0.0.1:0', `--web.config.file=${webFile}`], { encoding: 'utf8', timeout: 20_000 });

  it('stops the agent at start with errors naming the file, line and key', () => {
    const webFile = writeConfig('basic_auth_users:\n  alice: plain-password\ntls_server_config:\n  cert_file: cert.pem\n  colour: blue\n', 'web.yml');
    const result = run(webFile);
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toContain(`${webFile}:2: basic_auth_users.alice: expected a bcrypt hash ($2y$10$... as htpasswd -nBC 10 prints it), never a plain password`);
    expect(lines.some((l) => l.startsWith(`${webFile}:4: tls_server_config.key_file:`))).toBe(true);
    expect(lines).toContain(`${webFile}:5: tls_server_config.colour: unknown setting (not one of the keys this section takes)`);
  });

  it('names a certificate file it cannot read, resolved beside the web config file', () => {
    const webFile = writeConfig('tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n', 'web.yml');
    const result = run(webFile);
    expect(result.status).toBe(1);
    const dir = webFile.slice(0, webFile.lastIndexOf('/'));
    expect(result.stderr).toContain(`${webFile}: tls_server_config.cert_file: cannot read ${dir}/missing.crt (ENOENT)`);
  });

  it('check-config reports the web config file a config names', () => {
    const webFile = writeConfig('basic_auth_users:\n  alice: hunter2\n', 'web.yml');
    const config = writeConfig(`web:\n  config_file: ${webFile}\n`);
    const result = spawnSync(process.execPath, [CLI, 'check-config', config], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${webFile}:2: basic_auth_users.alice: expected a bcrypt hash`);
  });

  it('an empty web config file means plain HTTP without auth, as in the exporter-toolkit', async () => {
    const agent = await startAgent([...LIGHT, `--web.config.file=${writeConfig('', 'web.yml')}`]);
    agents.push(agent);
    await waitFor(async () => (await fetch(`${agent.url}/metrics`)).status === 200);
  });
});
