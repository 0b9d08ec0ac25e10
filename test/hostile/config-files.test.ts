import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.js';
import { readProcFile } from '../../agent/procfs/read.js';
import { TooLargeError } from '../../agent/files/bounded-read.js';
import { CLI, parseExposition, startAgent, type RunningAgent, writeConfig } from '../helpers/agent.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

/** One anchor used `uses` times: the yaml library refuses past 100 with an exception. */
const aliasBomb = (uses = 101) => `x: &a [1, 2, 3]\ny: [${Array.from({ length: uses }, () => '*a').join(', ')}]\n`;

const agents: RunningAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a.stop();
});

describe('a YAML alias bomb is a bad file, never a crash', () => {
  it('parseConfigText returns an error naming the file', () => {
    const result = parseConfigText(aliasBomb(), 'agent.yaml');
    expect(result).toEqual({ ok: false, errors: ['agent.yaml: YAML cannot be read: more than 100 alias expansions (an alias bomb?)'] });
  });

  it('check-config exits 1 with the file and the reason, for the config and for the web config it names', () => {
    const config = writeConfig(aliasBomb());
    const result = cli('check-config', config);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).toContain(`${config}: YAML cannot be read: more than 100 alias expansions`);
    expect(result.stderr).not.toMatch(/\n\s+at /);

    const web = writeConfig(aliasBomb(), 'web.yml');
    const withWeb = writeConfig(`web:\n  config_file: ${web}\n`);
    const second = cli('check-config', withWeb);
    expect(second.status, second.stderr).toBe(1);
    expect(second.stderr).toContain(`${web}: YAML cannot be read: more than 100 alias expansions`);
  });

  it('a SIGHUP with a bomb in the config or the web config keeps the agent and its running settings', async () => {
    const web = writeConfig(`basic_auth_users:\n  prom: ${bcrypt.hashSync('secret', 4)}\n`, 'web.yml');
    const config = join(dirname(web), 'agent.yaml');
    writeFileSync(config, `sampling:\n  interval: 1s\nweb:\n  config_file: ${web}\n`);
    const auth = { authorization: `Basic ${Buffer.from('prom:secret').toString('base64')}` };
    const agent = await startAgent([`--config.file=${config}`], {
      ready: async (port) => (await fetch(`http://127.0.0.1:${port}/-/ready`, { headers: auth })).status === 200,
    });
    agents.push(agent);
    writeFileSync(config, aliasBomb());
    agent.proc.kill('SIGHUP');
    await agent.waitForLog(/config reload failed; keeping the running config.*alias/);
    writeFileSync(web, aliasBomb());
    agent.proc.kill('SIGHUP');
    await agent.waitForLog(/web config reload failed; keeping the running web config.*alias/);
    expect(agent.proc.exitCode).toBeNull();
    const res = await fetch(`${agent.url}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    expect((await fetch(`${agent.url}/metrics`)).status).toBe(401);
  });
});

describe('what the agent reads is bounded', () => {
  it('a config file over 1 MiB is refused with the file and its limit', () => {
    const big = writeConfig(`# padding\n${'#'.repeat(1023)}\n`.repeat(1100) + 'sampling:\n  interval: 5s\n');
    const result = cli('check-config', big);
    expect(result.status, result.stdout).toBe(1);
    expect(result.stderr).toContain(`${big}: cannot read the file (TooLargeError): ${big} is larger than 1.0 MiB`);
  });

  it('a /proc read of a file that never ends stops at the cap', () => {
    expect(() => readProcFile('/dev/zero', 1024 * 1024)).toThrow(TooLargeError);
  });

  it('an agent whose procfs has /dev/zero for meminfo fails that collector, keeps the others and its memory', async () => {
    const procfs = mkdtempSync(join(tmpdir(), 'ca-procfs-'));
    for (const name of readdirSync('/proc')) if (name !== 'meminfo') symlinkSync(join('/proc', name), join(procfs, name));
    symlinkSync('/dev/zero', join(procfs, 'meminfo'));
    const config = writeConfig(`sampling:\n  interval: 1s\npaths:\n  procfs: ${procfs}\n`);
    const agent = await startAgent([`--config.file=${config}`]);
    agents.push(agent);
    const series = parseExposition(await (await fetch(`${agent.url}/metrics`)).text());
    const success = (collector: string) => series.find((s) => s.name === 'contention_collector_success' && s.labels.collector === collector)?.value;
    expect(success('memory')).toBe(0);
    expect(success('cpu')).toBe(1);
    // The agent's peak resident set: an unbounded read of /dev/zero grows it by gigabytes.
    const hwmKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8'))![1]);
    expect(hwmKiB).toBeLessThan(400 * 1024);
  });
});
