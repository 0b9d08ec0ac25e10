import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planDump, type KeptDump } from '../../agent/capture/plan.js';
import { estimateCoreBytes, topSlabCaches } from '../../agent/procfs/smaps.js';
import { CLI, writeConfig } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';
import { requireTool } from '../helpers/tools.js';
import { coreIdentity } from './elf-core.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const tmp = mkdtempSync(join(tmpdir(), 'ca-capture-'));
afterAll(() => {
  killAllChildren();
  rmSync(tmp, { recursive: true, force: true });
});

const stateOf = (pid: number): string => /^\d+ \(.*\) (\S)/s.exec(readFileSync(`/proc/${pid}/stat`, 'latin1'))![1]!;

describe('contention-agent capture PID on Linux', () => {
  it('takes a gcore of a running child that readelf and file call an ELF core of that pid, and the child keeps running', async () => {
    requireTool('gdb');
    const readelf = requireTool('readelf');
    const file = requireTool('file');
    const child = await startChild(SCRIPTS.leak(1, 200));
    const evidence = join(tmp, 'ondemand');
    const audit = join(tmp, 'audit.jsonl');
    const config = writeConfig(`enforcement: { audit_log: { path: ${JSON.stringify(audit)} } }\n`);
    const out = spawnSync(process.execPath, [CLI, 'capture', String(child.pid), '--json', `--config.file=${config}`, `--evidence.dir=${evidence}`, '--log.level=warn'], { encoding: 'utf8', timeout: 240_000 });
    expect(out.status, out.stdout + out.stderr).toBe(0);
    const record = JSON.parse(out.stdout) as { outcome: string; file: string; bytes: number; dir: string; pid: number };
    expect(record).toMatchObject({ outcome: 'captured', pid: child.pid });
    expect(record.file).toBe(join(record.dir, `process-${child.pid}.core`));

    expect(execFileSync(readelf, ['-h', record.file], { encoding: 'utf8' })).toMatch(/Type:\s+CORE \(Core file\)/);
    const described = execFileSync(file, ['-b', record.file], { encoding: 'utf8' });
    expect(described, described).toMatch(/^ELF 64-bit LSB core file.*from '(\S*\/)?node'/);
    const who = coreIdentity(record.file);
    expect(who).toMatchObject({ type: 4, pid: child.pid, fname: 'node' });
    expect(who.psargs).toMatch(/node$/);

    // It still runs, not left stopped by the attach.
    expect(child.proc.exitCode).toBeNull();
    expect(['S', 'R']).toContain(stateOf(child.pid));
    // The evidence directory holds the host snapshot beside the dump, and the audit log has the capture.
    const host = JSON.parse(readFileSync(join(record.dir, 'host.json'), 'utf8')) as { top_processes: Array<{ pid: number }>; meminfo: Record<string, number>; capture_readiness: unknown[] };
    expect(host.top_processes.length).toBeGreaterThan(0);
    expect(host.meminfo.MemTotal).toBeGreaterThan(0);
    expect(host.capture_readiness.length).toBeGreaterThan(0);
    expect(existsSync(join(record.dir, 'vmstat'))).toBe(true);
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ action: 'capture', outcome: 'captured', pid: child.pid, file: record.file });
    child.kill();
  });

  it('refuses a process above capture.max_process_bytes, writes no dump, and says why', async () => {
    requireTool('gdb');
    const child = await startChild(SCRIPTS.fds(1));
    const evidence = join(tmp, 'refused');
    const config = writeConfig(`capture: { max_process_bytes: 1MiB }\nenforcement: { audit_log: { path: ${JSON.stringify(join(tmp, 'audit2.jsonl'))} } }\n`);
    const out = spawnSync(process.execPath, [CLI, 'capture', String(child.pid), '--json', `--config.file=${config}`, `--evidence.dir=${evidence}`, '--log.level=warn'], { encoding: 'utf8', timeout: 120_000 });
    expect(out.status).toBe(1);
    const record = JSON.parse(out.stdout) as { outcome: string; reason: string; dir: string };
    expect(record.outcome).toBe('refused');
    expect(record.reason).toMatch(/^process_too_large: the process holds [\d.]+ MiB, above capture.max_process_bytes \(1.0 MiB\)/);
    expect(readdirSync(record.dir).filter((f) => f.startsWith('process-'))).toEqual([]);
    expect(existsSync(join(record.dir, 'host.json'))).toBe(true);
    expect(child.proc.exitCode).toBeNull();
    child.kill();
  });

  it('says a dump is not possible without gdb, and invents no other dumper', async () => {
    const child = await startChild(SCRIPTS.idle());
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    const out = spawnSync(process.execPath, [CLI, 'capture', String(child.pid), '--json', `--evidence.dir=${join(tmp, 'nogdb')}`, '--log.level=error'], {
      encoding: 'utf8', env: { ...process.env, PATH: bin }, timeout: 60_000,
    });
    expect(out.status).toBe(1);
    expect(JSON.parse(out.stdout)).toMatchObject({ outcome: 'not_possible', reason: expect.stringContaining('gdb is not installed') });
    child.kill();
  });

  it('rejects a pid that is not a number', () => {
    const out = spawnSync(process.execPath, [CLI, 'capture', 'abc'], { encoding: 'utf8' });
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('capture needs the pid of a running process');
  });
});

describe('dump bounds', () => {
  const limits = { maxProcessBytes: 4 * GiB, maxDumps: 3, maxBytes: 10 * GiB, minFreeBytes: 2 * GiB };
  const kept = (n: number, bytes: number): KeptDump[] => Array.from({ length: n }, (_, i) => ({ path: `/e/${i}/process-${i}.core`, bytes, time: 1000 + i }));

  it('never dumps a process above max_process_bytes, nor one whose dump alone exceeds max_bytes', () => {
    expect(planDump({ processBytes: 4 * GiB + 1, dumpBytes: GiB }, [], 100 * GiB, limits)).toMatchObject({ go: false, reason: 'process_too_large' });
    expect(planDump({ processBytes: 4 * GiB, dumpBytes: GiB }, [], 100 * GiB, limits)).toEqual({ go: true, prune: [] });
    expect(planDump({ processBytes: GiB, dumpBytes: 10 * GiB + 1 }, [], 100 * GiB, limits)).toMatchObject({ go: false, reason: 'dump_too_large' });
  });

  it('prunes the oldest to stay within count and bytes', () => {
    const three = kept(3, GiB);
    expect(planDump({ processBytes: GiB, dumpBytes: GiB }, three, 100 * GiB, limits)).toEqual({ go: true, prune: [three[0]] });
    const big = kept(2, 4.5 * GiB);
    expect(planDump({ processBytes: GiB, dumpBytes: 2 * GiB }, big, 100 * GiB, limits)).toEqual({ go: true, prune: [big[0]] });
  });

  it('leaves min_free_bytes on the disk, counting what pruning frees, and prunes nothing when it refuses', () => {
    expect(planDump({ processBytes: GiB, dumpBytes: GiB }, [], 3 * GiB, limits)).toEqual({ go: true, prune: [] });
    expect(planDump({ processBytes: GiB, dumpBytes: GiB }, [], 3 * GiB - 1, limits)).toMatchObject({ go: false, reason: 'disk_full' });
    const three = kept(3, GiB);
    expect(planDump({ processBytes: GiB, dumpBytes: 2 * GiB }, three, 3 * GiB, limits)).toEqual({ go: true, prune: [three[0]] });
  });
});

describe('dump size and slab parsers', () => {
  it('estimates a gcore as gdb writes it: anonymous mappings whole, PROT_NONE reservations too; not file text, not VM_DONTDUMP', () => {
    const smaps = [
      '00400000-00600000 r-xp 00000000 fd:01 123 /usr/bin/node', 'Anonymous:             0 kB', 'VmFlags: rd ex mr mw me',
      '00800000-00900000 rw-p 00200000 fd:01 123 /usr/bin/node', 'Anonymous:            64 kB', 'VmFlags: rd wr mr mw me ac',
      '7f0000000000-7f0010000000 ---p 00000000 00:00 0 ', 'Anonymous:             0 kB', 'VmFlags: mr mw me nr',
      '7f0010000000-7f0010100000 rw-p 00000000 00:00 0 ', 'Anonymous:          1024 kB', 'VmFlags: rd wr mr mw me ac',
      '7f0020000000-7f0020001000 r--p 00000000 00:00 0 ', 'Anonymous:             4 kB', 'VmFlags: rd mr me dd',
      'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]', 'VmFlags: ex',
    ].join('\n');
    expect(estimateCoreBytes(smaps)).toBe(0x100000 + 0x10000000 + 0x100000);
    expect(estimateCoreBytes(smaps, 0x0)).toBe(0);
  });

  it('estimates this machine\'s gcore of a node child within 5% of the file gdb writes', async () => {
    requireTool('gdb');
    const child = await startChild(SCRIPTS.idle());
    const estimate = estimateCoreBytes(readFileSync(`/proc/${child.pid}/smaps`, 'latin1'));
    const prefix = join(tmp, 'size');
    execFileSync(requireTool('gcore'), ['-o', prefix, String(child.pid)], { stdio: 'ignore', timeout: 120_000 });
    const actual = Number(execFileSync('stat', ['-c', '%s', `${prefix}.${child.pid}`], { encoding: 'utf8' }));
    rmSync(`${prefix}.${child.pid}`);
    child.kill();
    expect(Math.abs(actual - estimate) / actual).toBeLessThan(0.05);
  });

  it('ranks slab caches by the memory they hold', () => {
    const text = `slabinfo - version: 2.1
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
dentry            120000 126000    192   21    1 : tunables    0    0    0 : slabdata   6000   6000      0
kmalloc-4k          3000   3200   4096    8    8 : tunables    0    0    0 : slabdata    400    400      0
inode_cache        40000  41000    600   27    4 : tunables    0    0    0 : slabdata   1518   1518      0
`;
    expect(topSlabCaches(text, 2)).toEqual([
      { name: 'inode_cache', activeObjects: 40000, objects: 41000, objectSize: 600, bytes: 24_600_000 },
      { name: 'dentry', activeObjects: 120000, objects: 126000, objectSize: 192, bytes: 24_192_000 },
    ]);
  });
});
