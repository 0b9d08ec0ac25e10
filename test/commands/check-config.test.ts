import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, writeConfig } from '../helpers/agent.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('contention-agent check-config', () => {
  it('exits 0 with a one-line summary for a valid file', () => {
    const file = writeConfig('sampling:\n  interval: 10s\nweb:\n  listen_address: "127.0.0.1:9947"\n');
    const result = cli('check-config', file);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toMatch(/valid; sampling every 10s/);
  });

  it('exits 1 with every error, each naming file, line and path', () => {
    const file = writeConfig('sampling:\n  interval: soon\nweb:\n  listen_address: 9947\n  colour: blue\n');
    const result = cli('check-config', file);
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toContain(`${file}:2: sampling.interval: expected a duration like "500ms", "5s", "2m" or "1h" (got "soon")`);
    expect(lines.some((l) => l.startsWith(`${file}:4: web.listen_address:`))).toBe(true);
    expect(lines).toContain(`${file}:5: web.colour: unknown setting (not one of the keys this section takes)`);
    expect(lines.at(-1)).toBe(`${file}: invalid (3 errors)`);
  });

  it('exits 1 for a file that does not exist', () => {
    const result = cli('check-config', '/nonexistent/agent.yaml');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cannot read the file \(ENOENT\)/);
  });
});

describe('contention-agent --help, --version and bad flags', () => {
  it('prints usage and version', () => {
    expect(cli('--help').stdout).toMatch(/--web\.listen-address=:9947/);
    expect(cli('--version').stdout).toMatch(/^contention-agent, version \d+\.\d+\.\d+ \(revision: /);
  });

  it('exits 2 on an unknown flag and says which', () => {
    const result = cli('--web.listen-adress=:1');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown flag --web\.listen-adress/);
  });
});
