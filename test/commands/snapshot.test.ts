import { spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/agent.js';

describe('contention-agent snapshot', () => {
  it('prints the conditions (worst first) then the figures', () => {
    const result = spawnSync(process.execPath, [CLI, 'snapshot'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(0);
    const [verdict, figures] = result.stdout.split('\nFigures:\n');
    expect(verdict).toMatch(/^(Nothing is saturated or near a limit right now\.|Saturated or near a limit now, worst first:)/);
    expect(figures).toMatch(/^ {2}contention_kernel_table_free_entries\{table="file_handles"\} \d+$/m);
    expect(figures).toMatch(/^ {2}contention_cpu_queue_length_peak \d+$/m);
  });

  it('--json gives conditions, figures and failed collectors', () => {
    const result = spawnSync(process.execPath, [CLI, 'snapshot', '--json'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { conditions: unknown[]; figures: Record<string, unknown[]>; failed: unknown[] };
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
      const result = spawnSync(process.execPath, [CLI, 'snapshot', '--json'], { encoding: 'utf8', timeout: 30_000 });
      const report = JSON.parse(result.stdout) as { conditions: Array<{ subject: string; kind: string }> };
      expect(report.conditions.map((c) => c.subject)).toContain('cpu queue');
    } finally {
      for (const hog of hogs) hog.kill('SIGKILL');
    }
  });
});
