import { spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/agent.js';

describe('contention-agent snapshot', () => {
  it('prints a header, the conditions (worst first), then the figures in units; exits 0, 1 or 2 by the worst finding', () => {
    const result = spawnSync(process.execPath, [CLI, 'snapshot'], { encoding: 'utf8', timeout: 30_000 });
    const [header, , , verdict] = result.stdout.split('\n');
    expect(header).toMatch(/^\S+, linux \S+ — up \d+[dhms]/);
    expect(header).toMatch(/load \d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
    expect(verdict).toMatch(/^(Nothing is saturated or near a limit right now\.|Saturated or near a limit now, worst first:)/);
    const worst = /^ {2}(CRITICAL|WARNING) /m.exec(result.stdout)?.[1];
    expect(result.status).toBe(worst === 'CRITICAL' ? 2 : worst === 'WARNING' ? 1 : 0);
    expect(result.stdout).toMatch(/^Kernel tables:\n {2}file_handles +[\d,]+ of [\d,]+ free \([\d.]+%\)$/m);
    expect(result.stdout).toMatch(/^ {2}run queue +\d+ waiting now, peak \d+/m);
    expect(result.stdout).not.toMatch(/contention_/);
  });

  it('exits 3 (unknown) when it cannot run: a bad config', () => {
    const result = spawnSync(process.execPath, [CLI, 'snapshot', '--config.file=/nonexistent.yaml'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(3);
  });

  it('--json gives conditions, figures and failed collectors', () => {
    const result = spawnSync(process.execPath, [CLI, 'snapshot', '--json'], { encoding: 'utf8', timeout: 30_000 });
    const report = JSON.parse(result.stdout) as { status: string; conditions: unknown[]; figures: Record<string, unknown[]>; failed: unknown[] };
    expect(['OK', 'WARNING', 'CRITICAL'][result.status!]).toBe(report.status);
    expect(Array.isArray(report.conditions)).toBe(true);
    expect(report.figures.contention_memory_available_bytes).toHaveLength(1);
    expect(report.failed).toEqual([]);
  });

  it('reports a saturated CPU queue from a real hog', () => {
    // More busy children than CPUs times the threshold makes a queue the snapshot must see.
    const hogs = Array.from({ length: 6 * cpus().length }, () =>
      spawn(process.execPath, ['-e', 'const end = Date.now() + 30000; while (Date.now() < end);'], { stdio: 'ignore' }),
    );
    try {
      // Twelve hogs on two cores starve the snapshot too: it needs half a CPU-second, which takes a while to get.
      const result = spawnSync(process.execPath, [CLI, 'snapshot', '--json'], { encoding: 'utf8', timeout: 90_000 });
      const report = JSON.parse(result.stdout) as { conditions: Array<{ subject: string; kind: string; culprits?: Array<{ pid: number }> }> };
      const queue = report.conditions.find((c) => c.subject === 'cpu queue');
      expect(queue, JSON.stringify(report.conditions.map((c) => c.subject))).toBeDefined();
      // Twelve hogs share two CPUs with everything else, so which processes lead is not fixed; some are named.
      expect(queue!.culprits!.length).toBeGreaterThan(0);
      expect(result.status).toBeGreaterThanOrEqual(1);
    } finally {
      for (const hog of hogs) hog.kill('SIGKILL');
    }
  }, 120_000);
});

/** Runs the CLI without blocking this process: the agent under test writes its logs to pipes this process drains. */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('contention-agent snapshot --from URL', () => {
  it('prints a running agent\'s verdicts with its header and exits by them', async () => {
    const { startAgent, writeConfig } = await import('../helpers/agent.js');
    const agent = await startAgent([`--config.file=${writeConfig('sampling: { interval: 1s }\n')}`]);
    try {
      const result = await runCli(['snapshot', `--from=${agent.url}`]);
      const lines = result.stdout.split('\n');
      expect(lines[0]).toMatch(/^\S+, linux \S+/);
      expect(lines[1]).toMatch(new RegExp(`\\(the agent at ${agent.url.replace(/[.]/g, '\\.')}, its sample \\d+s old\\)$`));
      expect(result.stdout).toMatch(/^(Nothing is saturated or near a limit right now\.|Saturated or near a limit now, worst first:)$/m);
      expect(result.stdout).toMatch(/^Top processes:$/m);
      // A fresh agent has seconds of history; the default detection needs 30 minutes before it can judge leaks.
      expect(result.stdout).toMatch(/^No leak suspected yet, but judging needs \d+m \d+s more history \(it has \d+s of the 2m 0s needed\)\.$/m);
      const worst = /^ {2}(CRITICAL|WARNING) /m.exec(result.stdout)?.[1];
      expect(result.status).toBe(worst === 'CRITICAL' ? 2 : worst === 'WARNING' ? 1 : 0);
      const json = await runCli(['snapshot', '--json', `--from=${agent.url}`]);
      expect(JSON.parse(json.stdout)).toMatchObject({ host: { os: 'linux' } });
    } finally {
      await agent.stop();
    }
  }, 240_000);

  it('exits 3 (unknown) when the agent does not answer, or answers something else', async () => {
    const { freePort } = await import('../helpers/servers.js');
    const port = await freePort();
    const down = await runCli(['snapshot', `--from=http://127.0.0.1:${port}`]);
    expect(down.status).toBe(3);
    expect(down.stderr).toMatch(/contention-agent snapshot: /);
    const bad = await runCli(['snapshot', '--from=ftp://127.0.0.1/']);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/expected an http or https URL/);
  }, 240_000);
});
