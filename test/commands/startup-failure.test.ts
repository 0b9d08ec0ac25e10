import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, writeConfig } from '../helpers/agent.js';

interface Ended {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs the agent and waits for it to end on its own; a start that hangs is killed at 15 s and reported as such. */
function runToEnd(args: readonly string[], cli = CLI): Promise<Ended> {
  const started = Date.now();
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    proc.once('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

/** A failed start: non-zero within 10 s, and the whole of stderr is one line naming the cause. */
function expectFailedStart(r: Ended, cause: RegExp): void {
  expect(r.code, `ended by the 15 s kill, not by itself:\n${r.stderr}`).not.toBeNull();
  expect(r.code).not.toBe(0);
  expect(r.ms).toBeLessThan(10_000);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(cause);
}

describe('a start that cannot serve exits at once with one line', () => {
  let holder: Server;
  let takenPort: number;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    takenPort = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  it('port in use', async () => {
    const r = await runToEnd([`--web.listen-address=127.0.0.1:${takenPort}`]);
    expectFailedStart(r, new RegExp(`^contention-agent: cannot listen on 127\\.0\\.0\\.1:${takenPort}: the address is already in use \\(EADDRINUSE\\)$`));
  });

  it('status page files missing (an install that left them out)', async () => {
    // A copy of the built agent without agent/http/page, as a package whose file list forgot it would install.
    const root = mkdtempSync(join(tmpdir(), 'ca-nopage-'));
    cpSync(join(ROOT, 'dist'), join(root, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    const r = await runToEnd(['--web.listen-address=127.0.0.1:0'], join(root, 'dist/agent/cli.js'));
    expectFailedStart(r, /^contention-agent: status page files not found \(looked in .*ca-nopage-/);
  });

  it('unreadable web config file', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'ca-web-')), 'web.yml');
    const r = await runToEnd(['--web.listen-address=127.0.0.1:0', `--web.config.file=${missing}`]);
    expectFailedStart(r, new RegExp(`${missing.replace(/[.]/g, '\\.')}.*(ENOENT|no such file|cannot read)`, 'i'));
  });

  it('bad config file', async () => {
    const file = writeConfig('sampling:\n  interval: often\n');
    const r = await runToEnd(['--web.listen-address=127.0.0.1:0', `--config.file=${file}`]);
    expectFailedStart(r, new RegExp(`^${file.replace(/[.]/g, '\\.')}:2\\b.*sampling\\.interval`));
  });

  it('a port out of range', async () => {
    const r = await runToEnd(['--web.listen-address=127.0.0.1:99999']);
    expectFailedStart(r, /^--web\.listen-address: expected a port from 0 to 65535 \(got 99999\)$/);
  });
});

describe('--version and -h', () => {
  it('--version prints version, revision and build date, as the exporters do', async () => {
    const r = await runToEnd(['--version']);
    expect(r.code).toBe(0);
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };
    expect(r.stdout).toMatch(new RegExp(`^contention-agent, version ${pkg.version.replace(/\./g, '\\.')} \\(revision: ([0-9a-f]{40}(-dirty)?|unknown)\\)\\n`));
    expect(r.stdout).toMatch(/^ {2}build date: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
    expect(r.stdout).toMatch(new RegExp(`^ {2}node version: +${process.version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('-h is --help', async () => {
    const [short, long] = await Promise.all([runToEnd(['-h']), runToEnd(['--help'])]);
    expect(short.code).toBe(0);
    expect(short.stdout).toMatch(/^Usage: contention-agent/);
    expect(short.stdout).toBe(long.stdout);
  });
});
