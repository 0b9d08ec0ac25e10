import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, parseExposition, startAgent, waitFor, writeConfig } from '../helpers/agent.js';
import { makeMemoryCgroup, type MemoryCgroup } from '../helpers/cgroups.js';
import { killAllChildren, SCRIPTS, startChild, type Child } from '../helpers/children.js';

/**
 * A box made sick for real: two CPU hogs, a process at its open-files limit (already getting EMFILE),
 * a cgroup filled to 95% of its memory limit by a leaking child, and a full filesystem (a small tmpfs
 * mounted here). Needs root, for the mount and the cgroup.
 */

const MEMORY_LIMIT = 64 * 1024 * 1024;

describe('snapshot on a sick box', () => {
  if (process.getuid?.() !== 0) {
    it('needs root to mount a filesystem and make a cgroup', () => {
      throw new Error('run the test suite as root (sudo npm test): this test mounts a tmpfs and makes a memory cgroup');
    });
    return;
  }
  let hogs: Child[] = [];
  let fdHolder: Child;
  let leaker: Child;
  let cgroup: MemoryCgroup;
  let mount: string;
  let report: {
    status: string;
    conditions: Array<{ subject: string; severity: string; kind: string; culprits?: Array<{ pid: number; name: string }> }>;
  };
  let text: { status: number | null; stdout: string };

  beforeAll(async () => {
    hogs = [await startChild(SCRIPTS.hog()), await startChild(SCRIPTS.hog())];
    fdHolder = await startChild(SCRIPTS.fdsToLimit(), undefined, { nofile: 1000 });
    const name = `ca-test-${process.pid}`;
    cgroup = makeMemoryCgroup(name, MEMORY_LIMIT);
    leaker = await startChild(SCRIPTS.fillCgroup(cgroup.dir, cgroup.usageFile, MEMORY_LIMIT, 0.95));
    mount = mkdtempSync(join(tmpdir(), 'ca-full-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount], { encoding: 'utf8' });
    if (mounted.status !== 0) throw new Error(`mount -t tmpfs failed: ${mounted.stderr}`);
    writeFileSync(join(mount, 'filler'), Buffer.alloc(Math.floor(8 * 1024 * 1024 * 0.97), 1));
    const json = spawnSync(process.execPath, [CLI, 'snapshot', '--json'], { encoding: 'utf8', timeout: 60_000 });
    report = JSON.parse(json.stdout) as typeof report;
    text = spawnSync(process.execPath, [CLI, 'snapshot'], { encoding: 'utf8', timeout: 60_000 });
  });

  afterAll(() => {
    killAllChildren();
    if (mount) spawnSync('umount', [mount]);
    // The killed leaker leaves the cgroup a moment later; remove() waits for it.
    cgroup?.remove();
  });

  const finding = (match: (subject: string) => boolean) => report.conditions.find((c) => match(c.subject));
  const named = (c: { culprits?: Array<{ pid: number }> } | undefined) => (c?.culprits ?? []).map((p) => p.pid);

  it('names the hogs under CPU utilization, by pid and script', () => {
    const busy = finding((s) => s === 'cpu utilization');
    expect(busy, JSON.stringify(report.conditions.map((c) => c.subject))).toBeDefined();
    // On a machine shared with other work (the rest of the suite among it) a hog can be outrun for a
    // place in the top five by another busy process; at least one of two always-runnable hogs is not.
    const hogsNamed = busy!.culprits!.filter((c) => hogs.some((h) => h.pid === c.pid));
    expect(hogsNamed.length, JSON.stringify(busy!.culprits)).toBeGreaterThan(0);
    for (const c of hogsNamed) expect(c.name).toBe(`node ${hogs.find((h) => h.pid === c.pid)!.token}.js`);
  });

  it('names the process at its open-files limit, critical', () => {
    const fds = finding((s) => s.startsWith('open files of'));
    expect(fds, JSON.stringify(report.conditions.map((c) => c.subject))).toBeDefined();
    expect(fds!.severity).toBe('critical');
    expect(fds!.subject).toContain(`[${fdHolder.pid}]`);
    expect(named(fds)).toEqual([fdHolder.pid]);
    expect(fds!.culprits![0]!.name).toBe(`node ${fdHolder.token}.js`);
  });

  it('names the leaking child under its cgroup near memory.max', () => {
    const mem = finding((s) => s === `cgroup ${cgroup.path} memory`);
    expect(mem, JSON.stringify(report.conditions.map((c) => c.subject))).toBeDefined();
    expect(mem!.severity).toMatch(/warning|critical/);
    expect(named(mem)).toEqual([leaker.pid]);
  });

  it('reports the full filesystem as critical', () => {
    const fs = finding((s) => s === `filesystem ${mount} space`);
    expect(fs, JSON.stringify(report.conditions.map((c) => c.subject))).toBeDefined();
    expect(fs!.severity).toBe('critical');
  });

  it('exits 2 (critical), says so in --json, and prints who under each finding in plain units', () => {
    expect(report.status).toBe('CRITICAL');
    expect(text.status).toBe(2);
    expect(text.stdout).toMatch(new RegExp(`- pid ${fdHolder.pid} node ${fdHolder.token}\\.js: 1,000 of 1,000 open`));
    expect(text.stdout).toMatch(new RegExp(`- pid ${leaker.pid} node ${leaker.token}\\.js: \\d+\\.\\d MiB private`));
    expect(text.stdout).toMatch(new RegExp(`- pid (${hogs.map((h) => h.pid).join('|')}) node ca-test-[\\w-]+\\.js: \\d+% of a CPU`));
    // figures in units, not raw exposition
    expect(text.stdout).not.toMatch(/^\s*contention_/m);
    expect(text.stdout).toMatch(/^ {2}available +[\d.]+ GiB of [\d.]+ GiB/m);
  });
});

describe('per-process CPU on /metrics', () => {
  afterAll(killAllChildren);
  it('carries the hog with its CPU rate, display name and every figure of its row', async () => {
    const hog = await startChild(SCRIPTS.hog());
    const agent = await startAgent([`--config.file=${writeConfig('sampling: { interval: 1s }\n')}`]);
    try {
      let rows: ReturnType<typeof parseExposition> = [];
      await waitFor(async () => {
        rows = parseExposition(await (await fetch(`${agent.url}/metrics`)).text()).filter((s) => s.labels.pid === String(hog.pid));
        // How much of a CPU the hog gets depends on what else runs; that it is there and busy does not.
        return rows.some((s) => s.name === 'contention_process_cpu_seconds_per_second' && s.value > 0.05);
      }, 45_000, 'the hog on /metrics with its CPU rate');
      const families = new Set(rows.map((r) => r.name));
      for (const name of [
        'contention_process_private_bytes', 'contention_process_handles', 'contention_process_threads',
        'contention_process_working_set_bytes', 'contention_process_io_read_bytes_per_second',
        'contention_process_io_write_bytes_per_second', 'contention_process_major_page_faults_per_second',
      ]) expect(families, name).toContain(name);
      expect(rows.every((r) => r.labels.name === `node ${hog.token}.js`)).toBe(true);
    } finally {
      await agent.stop();
      hog.kill();
    }
  });
});
