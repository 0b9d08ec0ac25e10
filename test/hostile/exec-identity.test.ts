import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEngine } from '../helpers/engine.js';
import { waitFor } from '../helpers/agent.js';

const running: Array<ReturnType<typeof spawn>> = [];
afterAll(() => {
  for (const p of running) p.kill('SIGKILL');
});

describe('identity for matching follows an exec', () => {
  it('a process that execs from an included command line into an excluded one is not stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-exec-'));
    const token = `ca-exec-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    // Both hold 150 MiB; the first execs into the second after a second, keeping pid, start time and exe.
    writeFileSync(join(dir, 'exec1.py'), `import os, sys, time\nheld = bytearray(150 * 1024 * 1024)\nfor i in range(0, len(held), 4096): held[i] = 1\ntime.sleep(1.5)\nos.execv(sys.executable, [sys.executable, ${JSON.stringify(join(dir, 'exec2.py'))}, 'important', '${token}'])\n`);
    writeFileSync(join(dir, 'exec2.py'), `import time\nheld = bytearray(150 * 1024 * 1024)\nfor i in range(0, len(held), 4096): held[i] = 1\ntime.sleep(120)\n`);
    const engine = await startEngine(`criteria:
  - name: jobs
    include: [{ cmdline: "${token}.*(worker|important)|(worker|important).*${token}", user: root }]
    exclude: [{ cmdline: "important" }]
policies:
  - name: guard
    allocations:
      - criteria: jobs
        max_committed_memory: { limit: 100MiB, action: stop, for: 2s }
active_policy: guard
enforcement: { dry_run: false, stop_grace: 1s }
`);
    const child = spawn('/usr/bin/python3', [join(dir, 'exec1.py'), 'worker', token], { stdio: 'ignore' });
    running.push(child);
    // Seen by the engine as the included worker over its limit, before the exec.
    await waitFor(() => engine.samples().some((s) => s.facts.processes?.rows.some((r) => r.pid === child.pid && r.cmdline.includes('worker') && r.privateBytes > 100 * 2 ** 20)), 20_000, 'the worker over its limit');
    // Past the exec, the 2 s clock and the grace: an agent matching on the stale command line stops it.
    await new Promise((r) => setTimeout(r, 7_000));
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    const stops = engine.audit().filter((a) => a.action === 'stop' && a.pid === child.pid);
    expect(stops.every((a) => a.outcome === 'mismatch' || a.outcome === 'stopping')).toBe(true);
    expect(stops.some((a) => a.outcome === 'stopped' || a.outcome === 'killed')).toBe(false);
  });
});
