import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse as parsePath } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExposition, ROOT, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';
import { requireTool } from '../helpers/tools.js';

// What the systemd unit grants, tried on the real kernel: the agent as an unprivileged user, with and
// without the unit's capabilities, watching a root process that holds open files.

const unit = readFileSync(join(ROOT, 'deploy/systemd/contention-agent.service'), 'utf8');
const unitCaps = /^AmbientCapabilities=(.+)$/m.exec(unit)![1]!.trim().split(/\s+/);

const agents: RunningAgent[] = [];
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  killAllChildren();
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

/**
 * The built agent where the unprivileged user can reach it. A checkout under a directory only root may
 * enter (a fresh mktemp clone, for one) is out of its reach; then a copy is laid out, hard-linked where
 * the file system allows, under a temp directory anyone may enter. The copy is of files, not of rights.
 */
function agentReachableByOthers(): string {
  let dir = ROOT;
  let reachable = true;
  for (;;) {
    if ((statSync(dir).mode & 0o001) === 0) reachable = false;
    if (dir === parsePath(dir).root) break;
    dir = dirname(dir);
  }
  if (reachable) return join(ROOT, 'dist/agent/cli.js');
  const copy = mkdtempSync(join(tmpdir(), 'ca-agent-copy-'));
  copies.push(copy);
  chmodSync(copy, 0o755);
  for (const part of ['dist', 'node_modules', 'agent']) {
    try {
      execFileSync('cp', ['-al', join(ROOT, part), copy], { stdio: 'pipe' });
    } catch {
      execFileSync('cp', ['-a', join(ROOT, part), copy], { stdio: 'pipe' });
    }
  }
  copyFileSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
  return join(copy, 'dist/agent/cli.js');
}
let cli: string | undefined;
const copies: string[] = [];

async function watch(caps: readonly string[], token: string) {
  if (process.getuid?.() !== 0) throw new Error('this test starts the agent as another user with capabilities: run it as root');
  const setpriv = requireTool('setpriv');
  const config = writeConfig(
    [
      'sampling:',
      '  interval: 1s',
      // A process's group is the first criteria it matches: by-exe when its exe link is readable.
      'criteria:',
      '  - name: by-exe',
      '    include:',
      `      - exe: ${process.execPath}`,
      `        cmdline: ${token}`,
      '  - name: by-cmdline',
      '    include:',
      `      - cmdline: ${token}`,
      '',
    ].join('\n'),
  );
  chmodSync(dirname(config), 0o755);
  const capList = caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',');
  const wrapper = [setpriv, '--reuid=65534', '--regid=65534', '--clear-groups', ...(caps.length ? [`--inh-caps=${capList}`, `--ambient-caps=${capList}`] : []), '--'];
  cli ??= agentReachableByOthers();
  const agent = await startAgent([`--config.file=${config}`], { wrapper, cli });
  agents.push(agent);
  let series: ReturnType<typeof parseExposition> = [];
  const value = (name: string, labels: Record<string, string>) =>
    series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  // A few samples, so the first sample's one-time checks are behind.
  await waitFor(async () => {
    series = parseExposition(await (await fetch(`${agent.url}/metrics`)).text());
    return series.some((s) => s.name === 'contention_process_group_processes');
  }, 20_000, 'processes to be sampled');
  await new Promise((r) => setTimeout(r, 3000));
  series = parseExposition(await (await fetch(`${agent.url}/metrics`)).text());
  await agent.stop();
  return {
    permissionErrors: value('contention_process_read_errors_total', { reason: 'permission' }) ?? 0,
    byCmdline: value('contention_process_group_processes', { group: 'by-cmdline' }) ?? 0,
    byExe: value('contention_process_group_processes', { group: 'by-exe' }) ?? 0,
    handles: value('contention_process_group_handles', { group: 'by-exe' }) ?? 0,
  };
}

describe('the capabilities the systemd unit grants', () => {
  it('are the ones an unprivileged agent lacks to read root processes, and suffice', async () => {
    expect([...unitCaps].sort()).toEqual(['CAP_DAC_READ_SEARCH', 'CAP_KILL', 'CAP_SYS_NICE', 'CAP_SYS_PTRACE']);
    const child = await startChild(SCRIPTS.fds(300));

    // Linux 6.2+ gives anyone a /proc/PID/fd directory's size, the agent's fd count, without listing it;
    // older kernels need the listing, which another user's directory refuses without DAC_READ_SEARCH.
    const sizeIsCount = statSync(`/proc/${process.pid}/fd`).size > 0;

    const without = await watch([], child.token);
    if (sizeIsCount) {
      // The row is complete but for the exe link: grouped by cmdline, not by exe.
      expect([without.byCmdline, without.byExe]).toEqual([1, 0]);
    } else {
      expect(without.permissionErrors).toBeGreaterThan(0);
      // Another user's fd directory cannot be listed, so its row is not complete and is left out.
      expect([without.byCmdline, without.byExe]).toEqual([0, 0]);
    }

    // Each read capability on its own: DAC_READ_SEARCH lists the fd directory, SYS_PTRACE reads the exe link.
    const listOnly = await watch(['CAP_DAC_READ_SEARCH'], child.token);
    expect([listOnly.byCmdline, listOnly.byExe]).toEqual([1, 0]);
    const ptraceOnly = await watch(['CAP_SYS_PTRACE'], child.token);
    expect([ptraceOnly.byCmdline, ptraceOnly.byExe]).toEqual(sizeIsCount ? [0, 1] : [0, 0]);

    const granted = await watch(unitCaps, child.token);
    expect(granted.permissionErrors).toBe(0);
    // Its exe link is readable: the criteria on exe match it first.
    expect(granted.byExe).toBe(1);
    expect(granted.byCmdline).toBe(0);
    expect(granted.handles).toBeGreaterThanOrEqual(300);
    child.kill();
  }, 90_000);
});
