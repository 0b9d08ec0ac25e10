/**
 * Capture on win32 under Wine: doctor reads the registry values this test writes with `wine reg add`
 * (through RegOpenKeyExW/RegGetValueW and koffi), and MiniDumpWriteDump on a held handle dumps a
 * running Wine child into a file that starts with MDMP and names that pid. Wine proves the calls and
 * the layouts, not Windows' numbers (its dbghelp writes the streams but little memory).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../agent/capture/verdict.js';
import { waitFor } from '../helpers/agent.js';
import { NODE_EXE, prepareWine, runWineScript, startWine, stopAllWine, windowsImage, wineEnv, wineWorkDir, type WineProcess } from '../helpers/wine.js';

const CONTROL = 'HKLM\\SYSTEM\\CurrentControlSet\\Control';
const CRASH_CONTROL = `${CONTROL}\\CrashControl`;
const MEMORY_MANAGEMENT = `${CONTROL}\\Session Manager\\Memory Management`;
const LOCAL_DUMPS = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\Windows Error Reporting\\LocalDumps';
const KEYBOARD = (service: string) => `HKLM\\SYSTEM\\CurrentControlSet\\Services\\${service}\\Parameters`;

function reg(...args: string[]): string {
  const r = spawnSync('timeout', ['60', 'wine', 'reg', ...args], { env: wineEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wine reg ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}
const dword = (key: string, name: string, value: number) => reg('add', key, '/v', name, '/t', 'REG_DWORD', '/d', String(value), '/f');

/** Runs doctor's judgement in the Windows Node and returns its checks. */
const DOCTOR = `
const fs = require('fs'); const { pathToFileURL } = require('url'); const { resolve } = require('path');
const load = (m) => import(pathToFileURL(resolve('dist/agent', m)).href);
const out = process.argv[process.argv.length - 1];
(async () => {
  try {
    const { configSchema } = await load('config/schema.js');
    const { assessCaptureReadiness } = await load('capture/doctor.js');
    const checks = await assessCaptureReadiness(configSchema.parse({ enforcement: { evidence_dir: process.argv[2] } }));
    fs.writeFileSync(out, JSON.stringify({ checks }));
  } catch (e) { fs.writeFileSync(out, JSON.stringify({ error: String(e.stack) })); }
})();
`;

/** A Windows child that holds 8 MiB it wrote and reports a heartbeat through a file. */
const CHILD = `
const fs = require('fs'); const state = process.argv[2];
const held = [Buffer.alloc(8 * 1024 * 1024, 7)]; let beats = 0;
setInterval(() => { beats++; fs.writeFileSync(state + '.tmp', JSON.stringify({ pid: process.pid, beats })); fs.renameSync(state + '.tmp', state); }, 200);
`;

/** Dumps a pid with the agent's MiniDumpWriteDump (without memory) into a file, after trying a pid that is gone. */
const DUMP = `
const fs = require('fs'); const { pathToFileURL } = require('url'); const { resolve } = require('path');
const load = (m) => import(pathToFileURL(resolve('dist/agent', m)).href);
const [pid, file] = process.argv.slice(2); const out = process.argv[process.argv.length - 1];
(async () => {
  try {
    const { createMiniDumper } = await load('platform/windows/minidump.js');
    const dumper = createMiniDumper(false);
    const res = { unavailable: (await dumper.unavailable()) ?? null, gone: await dumper.dump({ pid: 999999 }, file + '.gone', 30000) };
    res.result = await dumper.dump({ pid: Number(pid) }, file, 30000);
    fs.writeFileSync(out, JSON.stringify(res));
  } catch (e) { fs.writeFileSync(out, JSON.stringify({ error: String(e.stack) })); }
  // A MiniDumpWriteDump that never returned still holds koffi's worker thread: leave regardless.
  process.exit(0);
})();
`;

/** MINIDUMP_HEADER and its stream directory; MiscInfoStream (15) carries the process id. */
function readMinidump(file: string | Buffer): { signature: string; streams: number[]; pid?: number } {
  const b = typeof file === 'string' ? readFileSync(file) : file;
  if (b.length < 32) return { signature: b.toString('latin1', 0, 4), streams: [] };
  const count = b.readUInt32LE(8);
  const rva = b.readUInt32LE(12);
  const streams: number[] = [];
  let pid: number | undefined;
  for (let i = 0; i < count; i++) {
    if (rva + i * 12 + 12 > b.length) break;
    const type = b.readUInt32LE(rva + i * 12);
    const at = b.readUInt32LE(rva + i * 12 + 8);
    if (type === 15 && at + 12 > b.length) continue;
    if (type === 0) continue;
    streams.push(type);
    if (type === 15 && (b.readUInt32LE(at + 4) & 1) !== 0) pid = b.readUInt32LE(at + 8);
  }
  return { signature: b.toString('latin1', 0, 4), streams, pid };
}

describe('doctor on win32 under Wine reads the registry', () => {
  let dir: string;
  let originalPagingFiles: string;
  const doctor = async (name: string): Promise<Record<string, Check>> => {
    const out = (await runWineScript(dir, name, DOCTOR, [join(dir, 'evidence')])) as { checks?: Check[]; error?: string };
    if (!out.checks) throw new Error(out.error);
    return Object.fromEntries(out.checks.map((c) => [c.kind, c]));
  };

  beforeAll(async () => {
    await prepareWine();
    dir = wineWorkDir('capture-doctor');
    originalPagingFiles = /PagingFiles\s+REG_SZ\s+(.*)/.exec(reg('query', MEMORY_MANAGEMENT, '/v', 'PagingFiles'))?.[1]?.trim() ?? '';
  }, 300_000);

  afterAll(async () => {
    for (const key of [CRASH_CONTROL, LOCAL_DUMPS, KEYBOARD('i8042prt'), KEYBOARD('kbdhid')]) spawnSync('timeout', ['60', 'wine', 'reg', 'delete', key, '/f'], { env: wineEnv(), stdio: 'ignore' });
    if (originalPagingFiles) reg('add', MEMORY_MANAGEMENT, '/v', 'PagingFiles', '/t', 'REG_SZ', '/d', originalPagingFiles, '/f');
    await stopAllWine();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('on a bare prefix: no CrashControl, no LocalDumps, no keyboard crash; each with the exact reg add', async () => {
    const c = await doctor('bare');
    expect(c.kernel_dump).toMatchObject({ verdict: 'unknown', reason: expect.stringContaining('CrashControl') });
    expect(c.process_crash_dump).toMatchObject({ verdict: 'not_ready', fix: expect.stringContaining(`reg add "${LOCAL_DUMPS}" /v DumpType /t REG_DWORD /d 2 /f`) });
    expect(c.manual_crash).toMatchObject({ verdict: 'not_ready', fix: expect.stringContaining('CrashOnCtrlScroll') });
    // Wine's token holds SeDebugPrivilege disabled, as an elevated administrator's does: the agent enables it for a dump.
    expect(c.process_dump).toMatchObject({ verdict: 'ready', reason: expect.stringContaining('SeDebugPrivilege') });
    expect(c.evidence_space.verdict).toBe('ready');
  }, 240_000);

  it('reads the values the test writes: a complete dump against Wine\'s 27 MB pagefile, then a pagefile large enough', async () => {
    const folder = join(dir, 'CrashDumps');
    mkdirSync(folder, { recursive: true });
    dword(CRASH_CONTROL, 'CrashDumpEnabled', 1);
    dword(CRASH_CONTROL, 'NMICrashDump', 1);
    dword(KEYBOARD('i8042prt'), 'CrashOnCtrlScroll', 1);
    dword(KEYBOARD('kbdhid'), 'CrashOnCtrlScroll', 1);
    dword(LOCAL_DUMPS, 'DumpType', 2);
    dword(LOCAL_DUMPS, 'DumpCount', 3);
    reg('add', LOCAL_DUMPS, '/v', 'DumpFolder', '/t', 'REG_EXPAND_SZ', '/d', `Z:${folder.replaceAll('/', '\\')}`, '/f');
    let c = await doctor('prepared');
    expect(c.kernel_dump).toMatchObject({ verdict: 'ready', reason: expect.stringContaining('CrashDumpEnabled=1: a bug check writes a complete memory dump') });
    expect(c.nmi_crash_dump.verdict).toBe('ready');
    expect(c.manual_crash).toMatchObject({ verdict: 'ready', reason: expect.stringContaining('PS/2 (i8042prt) and USB (kbdhid)') });
    expect(c.process_crash_dump).toMatchObject({ verdict: 'ready', reason: expect.stringContaining('3 kept') });
    expect(c.process_crash_dump_space.verdict).toBe('ready');
    // Wine's own PagingFiles, a REG_SZ: 27 MB cannot hold a complete dump of this machine's memory.
    expect(c.pagefile).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('starts at 27 MB'), fix: expect.stringContaining(`reg add "${MEMORY_MANAGEMENT}" /v PagingFiles /t REG_MULTI_SZ`) });
    const needMb = Number(/pagefile\.sys (\d+) \1/.exec(c.pagefile.fix!)![1]);
    expect(needMb * 2 ** 20).toBeGreaterThan(50 * 2 ** 20);
    reg('add', MEMORY_MANAGEMENT, '/v', 'PagingFiles', '/t', 'REG_MULTI_SZ', '/d', `C:\\pagefile.sys ${needMb} ${needMb}\\0D:\\pagefile.sys 0 0`, '/f');
    c = await doctor('pagefile');
    expect(c.pagefile).toMatchObject({ verdict: 'ready', reason: expect.stringContaining(`starts at ${needMb} MB`) });
  }, 240_000);

  it('follows changes: a small memory dump, a minidump from WER, one keyboard', async () => {
    dword(CRASH_CONTROL, 'CrashDumpEnabled', 3);
    dword(LOCAL_DUMPS, 'DumpType', 1);
    reg('delete', KEYBOARD('kbdhid'), '/v', 'CrashOnCtrlScroll', '/f');
    const c = await doctor('changed');
    expect(c.kernel_dump).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('CrashDumpEnabled=3'), fix: expect.stringContaining('/v CrashDumpEnabled /t REG_DWORD /d 2') });
    expect(c.process_crash_dump).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('DumpType=1') });
    expect(c.manual_crash).toMatchObject({ verdict: 'ready', reason: expect.stringContaining('PS/2 (i8042prt) keyboards only') });
  }, 240_000);

  it('the CLI exits 1 with the same verdicts when a required check is not ready', async () => {
    const out = join(dir, 'doctor-cli.json');
    // stdout under Wine goes to the log file; the exit code comes back through timeout.
    const wp = startWine(NODE_EXE, ['dist/agent/cli.js', 'doctor', `--evidence.dir=${join(dir, 'evidence')}`], { logFile: out, timeoutSeconds: 90 });
    const { code } = await wp.exited;
    expect(code, wp.log()).toBe(1);
    expect(wp.log()).toMatch(/NOT READY +kernel_dump\n +CrashDumpEnabled=3/);
  }, 240_000);
});

describe('MiniDumpWriteDump of a Wine child', () => {
  let dir: string;
  let child: WineProcess;
  const state = () => JSON.parse(readFileSync(join(dir, 'child.state'), 'utf8')) as { pid: number; beats: number };

  beforeAll(async () => {
    await prepareWine();
    dir = wineWorkDir('capture-dump');
    const script = join(dir, 'child.cjs');
    writeFileSync(script, CHILD);
    child = startWine(windowsImage('dumpee'), [script, join(dir, 'child.state')], { logFile: join(dir, 'child.log'), timeoutSeconds: 240 });
    await waitFor(() => existsSync(join(dir, 'child.state')), 90_000, 'the Wine child to start');
  }, 300_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await stopAllWine();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('writes a dump that starts with MDMP, with the thread and module lists, while the child keeps running', async () => {
    const { pid } = state();
    const file = join(dir, `process-${pid}.dmp`);
    // Wine's dbghelp writes the header, threads and modules and then may never return: the test reads
    // the file while it is there, and the agent's timeout (30 s here) must end the call and remove it.
    const run = runWineScript(dir, 'dump', DUMP, [String(pid), file], { timeoutSeconds: 150 });
    run.catch(() => undefined);
    let seen: Buffer | undefined;
    await waitFor(() => {
      if (!existsSync(file)) return false;
      const b = readFileSync(file);
      if (readMinidump(b).streams.includes(4)) seen = b;
      return seen !== undefined;
    }, 120_000, 'the minidump to list its modules');
    const res = (await run) as { error?: string; unavailable: string | null; gone: { outcome: string }; result: { ok: boolean; outcome?: string; reason?: string } };
    expect(res.error).toBeUndefined();
    expect(res.unavailable).toBeNull();
    expect(res.gone).toMatchObject({ ok: false, outcome: 'gone' });
    const dump = readMinidump(seen!);
    expect(dump.signature).toBe('MDMP');
    expect(dump.streams).toEqual(expect.arrayContaining([3, 4]));
    if (res.result.ok) {
      // The call returned: the finished dump names the child's pid (MiscInfoStream).
      expect(readMinidump(file)).toMatchObject({ signature: 'MDMP', pid });
    } else {
      expect(res.result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^MiniDumpWriteDump did not return within 30 s; the partial dump (was removed|\S+ is still held open by the stuck call)$/) });
      if (res.result.reason!.endsWith('was removed')) expect(existsSync(file)).toBe(false);
    }
    const before = state().beats;
    await waitFor(() => state().beats > before + 2, 30_000, 'the dumped child to keep beating');
    expect(child.proc.exitCode).toBeNull();
  }, 240_000);

  it('contention-agent capture PID under Wine writes its evidence directory and audit line, and ends within capture.timeout', async () => {
    const { pid } = state();
    const evidence = join(dir, 'evidence');
    const config = join(dir, 'agent.yaml');
    writeFileSync(config, `capture: { timeout: 30s, with_memory: false }\nenforcement: { audit_log: { path: ${join(dir, 'audit.jsonl')} } }\n`);
    const started = Date.now();
    const wp = startWine(NODE_EXE, ['dist/agent/cli.js', 'capture', String(pid), `--config.file=${config}`, `--evidence.dir=${evidence}`, '--log.level=warn'], { logFile: join(dir, 'capture-cli.log'), timeoutSeconds: 180 });
    const { code } = await wp.exited;
    expect(Date.now() - started, 'bounded by capture.timeout, not by the outer timeout').toBeLessThan(150_000);
    const [captured] = readdirSync(evidence);
    expect(captured).toMatch(new RegExp(`-${pid}-on_demand$`));
    const record = JSON.parse(readFileSync(join(evidence, captured!, 'capture.json'), 'utf8')) as { outcome: string; file?: string; reason?: string };
    expect(code, wp.log()).toBe(record.outcome === 'captured' ? 0 : 1);
    if (record.outcome === 'captured') expect(readMinidump(join(evidence, captured!, `process-${pid}.dmp`))).toMatchObject({ signature: 'MDMP', pid });
    else expect(record).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^MiniDumpWriteDump did not return within 30 s/) });
    const host = JSON.parse(readFileSync(join(evidence, captured!, 'host.json'), 'utf8')) as { platform: string; figures: Record<string, unknown>; top_processes: Array<{ pid: number }> };
    expect(host.platform).toBe('win32');
    expect(host.top_processes.length).toBeGreaterThan(0);
    expect(Object.keys(host.figures).length).toBeGreaterThan(0);
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.at(-1)).toMatchObject({ action: 'capture', outcome: record.outcome, pid });
  }, 240_000);
});
