/**
 * The Windows tier: the agent's real win32 path (koffi, ntdll, kernel32, advapi32, pdh.dll) run by
 * the registry's Windows Node under Wine. Wine proves the calls, the layouts, the error paths and
 * the agent's behaviour on win32, not Windows' numbers: its pdh.dll has few counters and it leaves
 * pool pages, free PTEs and private bytes at zero. Output comes back by HTTP and files only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/agent.js';
import { requireTool } from '../helpers/tools.js';
import { freePort, NODE_EXE, prepareWine, runWineScript, startWine, stopAllWine, windowsImage, wineWorkDir, type WineProcess } from '../helpers/wine.js';

const MiB = 1024 * 1024;

/**
 * A Windows child: opens handles and allocates memory it writes; grows its memory when told
 * (`.grow`), then its handles (`.leak`), reporting each phase through a file.
 */
const CHILD = `
const fs = require('fs');
const [stateFile, handles, mib, moreMib, moreHandles] = process.argv.slice(2);
const held = [], fds = [];
let phase = 1, total = 0;
const open = (h) => { for (let i = 0; i < h; i++) fds.push(fs.openSync(process.execPath, 'r')); };
const alloc = (m) => { held.push(Buffer.alloc(m * 1024 * 1024, 1)); total += m; };
const report = () => {
  fs.writeFileSync(stateFile + '.tmp', JSON.stringify({ pid: process.pid, phase, handles: fds.length, mib: total }));
  fs.renameSync(stateFile + '.tmp', stateFile);
};
open(Number(handles));
alloc(Number(mib));
report();
setInterval(() => {
  if (phase === 1 && fs.existsSync(stateFile + '.grow')) {
    alloc(Number(moreMib));
    phase = 2;
    report();
  } else if (phase === 2 && fs.existsSync(stateFile + '.leak')) {
    phase = 3;
    report();
    open(Number(moreHandles));
  }
}, 100);
`;

interface ChildState {
  pid: number;
  phase: number;
  handles: number;
  mib: number;
}

function parseMetrics(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)$/i.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/gi)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  parseMetrics(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('the agent on win32 under Wine', () => {
  let dir: string;
  let port: number;
  let agent: WineProcess;
  let leaker: WineProcess;
  let sibling: WineProcess;
  const leakerState = () => JSON.parse(readFileSync(join(dir, 'leaker.state'), 'utf8')) as ChildState;
  const siblingState = () => JSON.parse(readFileSync(join(dir, 'sibling.state'), 'utf8')) as ChildState;
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const state = async () => (await (await fetch(`http://127.0.0.1:${port}/api/v1/state`)).json()) as { failedCollectors: Array<{ name: string; error: string }> };

  beforeAll(async () => {
    await prepareWine();
    dir = wineWorkDir('agent');
    // Both start under the handle limit; the leaker crosses it when told to grow, the sibling never does.
    leaker = startWine(windowsImage('leaker'), [writeScript(dir), join(dir, 'leaker.state'), '200', '64', '160', '1600'], { logFile: join(dir, 'leaker.log'), timeoutSeconds: 240 });
    sibling = startWine(windowsImage('sibling'), [writeScript(dir), join(dir, 'sibling.state'), '200', '32', '0', '0'], { logFile: join(dir, 'sibling.log'), timeoutSeconds: 240 });
    const config = join(dir, 'agent.yaml');
    writeFileSync(
      config,
      [
        'sampling: { interval: 1s, queue_interval: 1s }',
        'criteria:',
        '  - { name: leaker, include: [{ name: leaker }] }',
        '  - { name: sibling, include: [{ name: sibling }] }',
        'policies:',
        '  - name: guard',
        '    allocations:',
        '      - { criteria: leaker, max_handles: { limit: 1000, action: stop } }',
        '      - { criteria: sibling, max_handles: { limit: 1000, action: stop } }',
        'active_policy: guard',
        // No dump before the stop here: Wine's MiniDumpWriteDump can write and never return, and the
        // thread stuck in it keeps the process from ending on SIGINT (test/wine/capture.test.ts covers it).
        'capture: { before_stop: false }',
        'enforcement:',
        '  stop_grace: 2s',
        `  evidence_dir: ${join(dir, 'evidence')}`,
        `  audit_log: { path: ${join(dir, 'audit.jsonl')} }`,
        '',
      ].join('\n'),
    );
    port = await freePort();
    // +eventlog: Wine's advapi32 traces each RegisterEventSourceW and ReportEventW call to its stderr.
    agent = startWine(NODE_EXE, ['dist/agent/cli.js', `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`], {
      logFile: join(dir, 'agent.log'),
      timeoutSeconds: 240,
      env: { WINEDEBUG: '-all,fixme+advapi,err+eventlog,warn+eventlog,trace+eventlog' },
    });
    await waitFor(async () => {
      if (agent.proc.exitCode !== null) throw new Error(`the agent under Wine exited (${agent.proc.exitCode}):\n${agent.log().slice(-4000)}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/-/ready`)).status === 200;
      } catch {
        return false;
      }
    }, 90_000, 'the agent under Wine to serve');
    await waitFor(() => existsSync(join(dir, 'leaker.state')) && existsSync(join(dir, 'sibling.state')), 60_000, 'the Windows children to start');
  }, 180_000);

  afterAll(async () => {
    agent?.kill('SIGINT');
    await stopAllWine();
    if (dir && !process.env.KEEP_WINE_LOGS) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves lint-clean /metrics with contention_host_info{os="win32"}', async () => {
    const text = await metrics();
    const promtool = requireTool('promtool');
    expect(execFileSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim()).toBe('');
    const info = parseMetrics(text).find((s) => s.name === 'contention_host_info');
    expect(info?.labels).toMatchObject({ os: 'win32', arch: 'x64' });
    expect(info?.labels.distro).toMatch(/^Microsoft Windows/);
    expect(value(text, 'contention_collector_success', { collector: 'processes' })).toBe(1);
  });

  it('shows each Windows child under its image name with threads, working set and handles', async () => {
    let text = '';
    await waitFor(async () => {
      text = await metrics();
      return value(text, 'contention_process_group_processes', { group: 'leaker' }) === 1 && value(text, 'contention_process_group_processes', { group: 'sibling' }) === 1;
    }, 30_000, 'both children in the process metrics');
    const { pid } = leakerState();
    // A Node process runs its main thread, the V8 platform workers and libuv's pool.
    expect(value(text, 'contention_process_threads', { group: 'leaker', name: 'leaker', pid: String(pid) })).toBeGreaterThanOrEqual(4);
    expect(value(text, 'contention_process_handles', { group: 'leaker', name: 'leaker', pid: String(pid) })).toBeGreaterThanOrEqual(200);
    expect(value(text, 'contention_process_group_working_set_bytes', { group: 'leaker' })).toBeGreaterThan(64 * MiB);
    expect(value(text, 'contention_process_group_working_set_bytes', { group: 'sibling' })).toBeGreaterThan(32 * MiB);
  });

  it('follows the leaker as it grows across samples, then stops it by its held handle while the sibling lives', async () => {
    const before = await metrics();
    const wsBefore = value(before, 'contention_process_group_working_set_bytes', { group: 'leaker' })!;
    const handlesBefore = value(before, 'contention_process_group_handles', { group: 'leaker' })!;
    expect(handlesBefore).toBeLessThan(1000);
    writeFileSync(join(dir, 'leaker.state.grow'), '');
    await waitFor(() => leakerState().phase === 2, 30_000, 'the leaker to grow its memory');
    // A later sample sees the 160 MiB it wrote; working set is VmRSS under Wine, a true reading.
    let grown = before;
    await waitFor(async () => {
      grown = await metrics();
      return value(grown, 'contention_process_group_working_set_bytes', { group: 'leaker' })! > wsBefore + 128 * MiB;
    }, 20_000, 'the working set growth in a later sample');
    expect(value(grown, 'contention_process_group_processes', { group: 'leaker' })).toBe(1);

    // Handles are the measure the policy stops on: Wine's HandleCount is its handle table's real
    // size (it grows in steps as handles open), while private bytes are left at zero.
    writeFileSync(join(dir, 'leaker.state.leak'), '');
    const audited = () => (existsSync(join(dir, 'audit.jsonl')) ? readFileSync(join(dir, 'audit.jsonl'), 'utf8') : '');
    await waitFor(() => audited().includes('"outcome":"stopped"'), 30_000, 'the policy to stop the leaker');
    const audit = audited().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const stop = audit.find((a) => a.action === 'stop' && a.outcome === 'stopped')!;
    expect(stop).toMatchObject({ criteria: 'leaker', measure: 'handles', pid: leakerState().pid, limit: 1000 });
    expect(stop.value as number).toBeGreaterThan(1000);
    expect(String(stop.exe)).toMatch(/\\leaker\.exe$/);
    // "stopped" is recorded once WaitForSingleObject saw the process end after TerminateProcess.
    await leaker.exited;

    await waitFor(async () => (value(await metrics(), 'contention_process_group_processes', { group: 'leaker' }) ?? 0) === 0, 10_000, 'the leaker gone from the metrics');
    const after = await metrics();
    expect(value(after, 'contention_process_group_processes', { group: 'sibling' })).toBe(1);
    expect(sibling.proc.exitCode).toBeNull();
    expect(audit.filter((a) => a.pid === siblingState().pid)).toEqual([]);
  }, 150_000);

  it('writes the stop to the event log through advapi32, and counts what the log refused without stopping', async () => {
    await waitFor(() => /ReportEventW|RegisterEventSourceW/.test(agent.log()), 15_000, 'an event log call in Wine\'s trace');
    const log = agent.log();
    expect(log).toMatch(/RegisterEventSourceW.*contention-agent/);
    // 3001 (0xbb9): a policy stopped a process; Wine's ReportEventW is a stub that accepts it.
    expect(log).toMatch(/fixme:advapi:ReportEventW \([0-9A-F]+,0x0002,0x0000,0x00000bb9,/);
    expect(log).toMatch(/warn:eventlog:ReportEventW L"Policy guard: stop leaker \(pid \d+\): stopped\./);
    // Wine's stub accepts every event, so all are counted written and none refused.
    let text = '';
    await waitFor(async () => {
      text = await metrics();
      return value(text, 'contention_event_log_writes_total')! >= 1;
    }, 10_000, 'the written events in the metrics');
    expect(value(text, 'contention_event_log_write_failures_total')).toBe(0);
    expect(agent.proc.exitCode).toBeNull();
  });

  it('marks exactly the collector whose counter Wine lacks as failed with the PDH status named, and those whose fields Wine leaves unset with the field named, while the others export', async () => {
    const { failedCollectors } = await state();
    const failed = Object.fromEntries(failedCollectors.map((c) => [c.name, c.error]));
    expect(Object.keys(failed).sort()).toEqual(['cpu', 'disk_queue', 'kernel_pools', 'kernel_tables']);
    expect(failed.disk_queue).toBe('PdhAddEnglishCounterW \\PhysicalDisk(*)\\Current Disk Queue Length failed: 0xC0000BB9 (PDH_CSTATUS_NO_COUNTER)');
    expect(failed.kernel_pools).toMatch(/^SystemPerformanceInformation reported no PagedPoolPages, NonPagedPoolPages \(zero/);
    expect(failed.kernel_tables).toMatch(/^SystemPerformanceInformation reported no FreeSystemPtes \(zero/);
    // Wine reports every thread as Initialized: no queue is made up from that.
    expect(failed.cpu).toBe('SystemProcessInformation reported no thread states (no thread running, not even the caller); no processor queue');
    const text = await metrics();
    for (const c of ['memory', 'processes', 'host_info']) expect(value(text, 'contention_collector_success', { collector: c }), c).toBe(1);
    // A collector that fails exports nothing of that sample (what it wrote before failing is rolled
    // back), so no half-read cpu figure passes for a reading.
    expect(value(text, 'contention_cpu_utilization_ratio')).toBeUndefined();
    expect(value(text, 'contention_cpu_queue_length')).toBeUndefined();
    expect(value(text, 'contention_reading_source_info', { family: 'contention_cpu_utilization_ratio', source: 'pdh' })).toBeUndefined();
    // memory's figures, from SystemPerformanceInformation, are there with their source.
    expect(value(text, 'contention_reading_source_info', { family: 'contention_memory_available_bytes', source: 'SystemPerformanceInformation' })).toBe(1);
    expect(value(text, 'contention_kernel_table_free_entries', { table: 'system_ptes' })).toBeUndefined();
  });

  it('reads memory and commit from SystemPerformanceInformation as Wine derives them from /proc/meminfo', async () => {
    const meminfo = () =>
      Object.fromEntries(
        readFileSync('/proc/meminfo', 'utf8').trim().split('\n').map((l) => {
          const [k, v] = l.split(/:\s+/);
          return [k!, Number.parseInt(v!, 10) * 1024];
        }),
      ) as Record<string, number>;
    // A sample taken between two reads of /proc/meminfo: others' memory use moves on a shared
    // host, so each figure must lie within what the two reads bracket, give or take 3% of physical
    // memory for what rose and fell in between. A wrong offset or page size misses by far more
    // (available and committed differ by several times here; a page-size slip is a factor of 4096).
    const since = Date.now() / 1000;
    const before = meminfo();
    let text = '';
    await waitFor(async () => {
      text = await metrics();
      return value(text, 'contention_last_sample_timestamp_seconds')! > since;
    }, 10_000, 'a sample after the first /proc/meminfo read');
    const after = meminfo();
    const within = (got: number | undefined, a: number, b: number, slack: number, what: string) => {
      expect(got, what).toBeDefined();
      expect(got!, what).toBeGreaterThanOrEqual(Math.min(a, b) - slack);
      expect(got!, what).toBeLessThanOrEqual(Math.max(a, b) + slack);
    };
    const total = before.MemTotal!;
    // Wine 8: CommitLimit = MemTotal + SwapTotal; AvailablePages = MemAvailable; committed = the rest.
    within(value(text, 'contention_memory_commit_limit_bytes'), before.MemTotal! + before.SwapTotal!, after.MemTotal! + after.SwapTotal!, 0.001 * total, 'commit limit');
    within(value(text, 'contention_memory_available_bytes'), before.MemAvailable!, after.MemAvailable!, 0.03 * total, 'available');
    const committed = (m: Record<string, number>) => m.MemTotal! + m.SwapTotal! - m.MemAvailable! - m.SwapFree!;
    within(value(text, 'contention_memory_commit_bytes'), committed(before), committed(after), 0.03 * total, 'committed');
    expect(value(text, 'contention_reading_source_info', { family: 'contention_memory_commit_bytes', source: 'SystemPerformanceInformation' })).toBe(1);
    expect(value(text, 'contention_reading_source_info', { family: 'contention_memory_available_bytes', source: 'SystemPerformanceInformation' })).toBe(1);
  });

  it('stops cleanly on SIGINT (Ctrl+C, what the service wrapper sends)', async () => {
    agent.kill('SIGINT');
    const { code } = await agent.exited;
    expect(code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    expect(sibling.proc.exitCode).toBeNull();
  });

  it('ends at once on SIGTERM, which Wine delivers as the end of the process (Windows has no SIGTERM)', async () => {
    const second = await freePort();
    const other = startWine(NODE_EXE, ['dist/agent/cli.js', `--web.listen-address=127.0.0.1:${second}`], { logFile: join(dir, 'agent-term.log'), timeoutSeconds: 120 });
    await waitFor(async () => {
      try {
        return (await fetch(`http://127.0.0.1:${second}/-/ready`)).status === 200;
      } catch {
        return false;
      }
    }, 120_000, 'the second agent to serve');
    other.kill('SIGTERM');
    // Ended by the signal, not by a timeout (124) or a kill: timeout re-raises the signal its
    // command died of (a shell shows that as 128 + 15).
    const { code, signal } = await other.exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    await expect(fetch(`http://127.0.0.1:${second}/metrics`)).rejects.toThrow();
  }, 150_000);
});

/** Runs the agent's PDH and native readers directly in the Windows Node and writes what they gave. */
const READERS = `
const { resolve } = require('path');
const { pathToFileURL } = require('url');
const load = (m) => import(pathToFileURL(resolve('dist/agent/platform/windows', m)).href);
const out = process.argv.at(-1);
(async () => {
  const result = {};
  const { openPdhQuery } = await load('pdh-query.js');
  const { HOST_COUNTERS } = await load('counters.js');
  const { mapHostReadings } = await load('pdh-values.js');
  const cpu = HOST_COUNTERS.filter((c) => c.object === 'Processor' && c.counter === '% Processor Time');
  const query = await openPdhQuery(cpu);
  const first = query.collect();
  await new Promise((r) => setTimeout(r, 1100));
  const second = query.collect();
  query.close();
  result.pdh = { first: first[0].items, second: second[0].items, mapped: mapHostReadings(second, { physicalBytes: 1, cpus: 1 }).series.filter((s) => s.metric === 'contention_cpu_utilization_ratio') };
  try {
    await openPdhQuery(HOST_COUNTERS.filter((c) => c.counter === 'Free System Page Table Entries'));
    result.missing = 'opened';
  } catch (err) {
    result.missing = err.message;
  }
  const { openPerformanceReader } = await load('performance-info.js');
  const perf = await openPerformanceReader();
  result.basic = perf.basic;
  result.figures = perf.read();
  const { openReadyQueue } = await load('ready-queue.js');
  const ready = await openReadyQueue();
  try {
    result.ready = ready.read();
  } catch (err) {
    result.ready = err.message;
  }
  ready.close();
  require('fs').writeFileSync(out, JSON.stringify(result));
})().catch((err) => require('fs').writeFileSync(out, JSON.stringify({ error: err.stack })));
`;

describe('the win32 readers under Wine, called directly', () => {
  let result: Record<string, any>;
  beforeAll(async () => {
    await prepareWine();
    const dir = wineWorkDir('readers');
    result = (await runWineScript(dir, 'readers', READERS)) as Record<string, any>;
    rmSync(dir, { recursive: true, force: true });
    if (result.error) throw new Error(result.error);
  }, 120_000);

  it('opens a PDH query, adds a counter Wine implements, collects and formats it from the second collection', () => {
    // Windows gives a rate counter no value on its first collection (PDH_CSTATUS_INVALID_DATA);
    // Wine's pdh.dll already gives one. Either way the status is decoded, and the second is valid.
    expect(result.pdh.first).toHaveLength(1);
    expect([0, 0xc0000bba]).toContain(result.pdh.first[0].status);
    expect(result.pdh.second).toHaveLength(1);
    expect(result.pdh.second[0].status).toBe(0);
    expect(result.pdh.second[0].value).toBeGreaterThanOrEqual(0);
    expect(result.pdh.second[0].value).toBeLessThanOrEqual(100);
    expect(result.pdh.mapped).toEqual([{ metric: 'contention_cpu_utilization_ratio', labels: {}, value: result.pdh.second[0].value / 100 }]);
  });

  it('names the path and the PDH status of a counter Wine lacks', () => {
    expect(result.missing).toBe('PdhAddEnglishCounterW \\Memory\\Free System Page Table Entries failed: 0xC0000BB9 (PDH_CSTATUS_NO_COUNTER)');
  });

  it('reads SystemBasicInformation and SystemPerformanceInformation with the page size Linux has', () => {
    const pageSize = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
    expect(result.basic.pageSize).toBe(pageSize);
    const memTotal = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    // Wine reports physical pages from the same MemTotal.
    expect(Math.abs(result.basic.physicalPages * pageSize - memTotal)).toBeLessThan(pageSize * 1024);
    expect(result.figures.commitLimitBytes).toBeGreaterThan(0);
    expect(result.figures.committedBytes).toBeLessThanOrEqual(result.figures.commitLimitBytes);
  });

  it('refuses to count a processor queue from a list without thread states', () => {
    expect(result.ready).toBe('SystemProcessInformation reported no thread states (no thread running, not even the caller); no processor queue');
  });
});

function writeScript(dir: string): string {
  const file = join(dir, 'child.cjs');
  if (!existsSync(file)) writeFileSync(file, CHILD);
  return file;
}

