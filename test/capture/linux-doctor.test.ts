import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coreDestination, judgeLinux, judgeKernelDump, judgeManualCrash, judgeProcessCrashDump, judgeProcessDump, parseCoreLimit, type LinuxCaptureFacts } from '../../agent/capture/linux-checks.js';
import { allRequiredReady, type Check } from '../../agent/capture/verdict.js';
import { readLinuxCaptureFacts } from '../../agent/platform/linux/capture-facts.js';
import { CLI, ROOT } from '../helpers/agent.js';

const FIXTURES = join(ROOT, 'test/capture/fixtures/linux');
const GiB = 2 ** 30;
const fromFixture = (name: string, free: number | null = 100 * GiB, gcore: string | null = '/usr/bin/gcore'): Check[] =>
  judgeLinux(readLinuxCaptureFacts({ root: join(FIXTURES, name), evidenceDir: '/var/lib/contention-agent/evidence', maxProcessBytes: 4 * GiB, minFreeBytes: 2 * GiB, freeBytes: () => free ?? undefined, which: () => gcore ?? undefined }));
const verdicts = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.kind, c.verdict]));
const byKind = (checks: Check[], kind: string) => checks.find((c) => c.kind === kind)!;

describe('doctor on Linux fixture trees', () => {
  it('a host with systemd-coredump, a loaded crash kernel, sysrq and a root agent with gdb is ready', () => {
    const checks = fromFixture('ready');
    expect(verdicts(checks)).toEqual({
      process_crash_dump: 'ready', process_crash_dump_space: 'ready', kernel_dump: 'ready', manual_crash: 'ready',
      process_dump: 'ready', evidence_space: 'ready', hung_task_panic: 'ready', panic_on_oops: 'ready', softlockup_panic: 'ready',
    });
    expect(allRequiredReady(checks)).toBe(true);
    expect(byKind(checks, 'process_crash_dump').reason).toContain('systemd-coredump');
    expect(byKind(checks, 'kernel_dump').reason).toContain('crashkernel=384M-:256M');
    for (const c of checks) expect(c.fix, c.kind).toBeUndefined();
  });

  it('a hardened host says what is missing and the exact change for each', () => {
    const checks = fromFixture('not-ready', 100 * GiB, null);
    expect(verdicts(checks)).toEqual({
      process_crash_dump: 'not_ready', process_crash_dump_space: 'unknown', kernel_dump: 'not_ready', manual_crash: 'not_ready',
      process_dump: 'not_ready', evidence_space: 'ready', hung_task_panic: 'not_ready', panic_on_oops: 'not_ready', softlockup_panic: 'not_ready',
    });
    expect(allRequiredReady(checks)).toBe(false);
    expect(byKind(checks, 'kernel_dump')).toMatchObject({ reason: expect.stringContaining('no crash kernel is loaded'), fix: expect.stringContaining('systemctl enable --now kdump-tools') });
    expect(byKind(checks, 'manual_crash')).toMatchObject({ reason: expect.stringContaining('kernel.sysrq=438'), fix: expect.stringContaining('sysctl -w kernel.sysrq=1') });
    expect(byKind(checks, 'process_dump').fix).toContain('apt-get install gdb');
    expect(byKind(checks, 'hung_task_panic')).toMatchObject({ required: false, fix: expect.stringContaining('kernel.hung_task_panic=1') });
    for (const c of checks.filter((c) => c.verdict === 'not_ready')) expect(c.fix, c.kind).toBeTruthy();
  });

  it('the drop-in DefaultLimitCORE=0 is what stops cores once core_pattern has a path', () => {
    const facts = readLinuxCaptureFacts({ root: join(FIXTURES, 'not-ready'), evidenceDir: '/e', maxProcessBytes: GiB, minFreeBytes: 0, freeBytes: () => 10 * GiB, which: () => '/usr/bin/gcore' });
    expect(facts.defaultLimitCore).toBe('0');
    const c = judgeProcessCrashDump({ ...facts, corePattern: '/var/crash/core.%e.%p' });
    expect(c).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('DefaultLimitCORE=0'), fix: expect.stringContaining('DefaultLimitCORE=infinity') });
    // With gdb but without CAP_SYS_PTRACE under ptrace_scope 2 the agent can dump nothing.
    expect(judgeProcessDump(facts)).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('ptrace_scope=2'), fix: expect.stringContaining('AmbientCapabilities=CAP_SYS_PTRACE') });
  });

  it('a container that hides the files gets unknown, never a guess', () => {
    const checks = fromFixture('unknown', null);
    expect(verdicts(checks)).toMatchObject({
      process_crash_dump: 'unknown', process_crash_dump_space: 'unknown', kernel_dump: 'unknown', manual_crash: 'unknown', process_dump: 'unknown', evidence_space: 'unknown',
    });
    expect(allRequiredReady(checks)).toBe(false);
  });
});

describe('Linux capture judgements', () => {
  const base: LinuxCaptureFacts = { evidenceDir: '/e', maxProcessBytes: 4 * GiB, minFreeBytes: 0, pid1: 'systemd', corePattern: '|/lib/systemd/systemd-coredump %P', selfCoreLimit: { soft: 0, hard: Infinity } };

  it('tells systemd-coredump, other pipes, absolute and relative patterns apart', () => {
    expect(coreDestination('|/lib/systemd/systemd-coredump %P %u %g %s %t 9223372036854775808 %h')).toEqual({ kind: 'systemd-coredump', dir: '/var/lib/systemd/coredump' });
    expect(coreDestination('|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E')).toEqual({ kind: 'pipe', program: '/usr/share/apport/apport', dir: '/var/crash' });
    expect(coreDestination('|/usr/local/bin/catcher %p')).toEqual({ kind: 'pipe', program: '/usr/local/bin/catcher' });
    expect(coreDestination('/var/crash/core.%e.%p')).toEqual({ kind: 'path', dir: '/var/crash' });
    expect(coreDestination('core')).toEqual({ kind: 'relative', pattern: 'core' });
  });

  it('reads core limits as systemd and ulimit spell them', () => {
    expect(parseCoreLimit('infinity')).toBe(Infinity);
    expect(parseCoreLimit('0:infinity')).toBe(0);
    expect(parseCoreLimit('1G')).toBe(GiB);
    expect(parseCoreLimit('512K:1G')).toBe(512 * 1024);
    expect(parseCoreLimit('lots')).toBeUndefined();
  });

  it('under systemd an unset DefaultLimitCORE is infinity (PID 1 raises it); outside it the agent\'s own ulimit -c counts', () => {
    expect(judgeProcessCrashDump(base).verdict).toBe('ready');
    const plain = { ...base, pid1: 'tini', corePattern: '/var/crash/core.%p' };
    expect(judgeProcessCrashDump(plain)).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('ulimit -c'), fix: expect.stringContaining('limits.d') });
    expect(judgeProcessCrashDump({ ...plain, selfCoreLimit: { soft: Infinity, hard: Infinity } }).verdict).toBe('ready');
    // A limit below the largest process the agent would dump truncates its core.
    expect(judgeProcessCrashDump({ ...plain, selfCoreLimit: { soft: GiB, hard: Infinity } })).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('truncated') });
  });

  it('systemd-coredump with Storage=none or ProcessSizeMax=0 keeps nothing', () => {
    expect(judgeProcessCrashDump({ ...base, coredumpStorage: 'none' })).toMatchObject({ verdict: 'not_ready', fix: expect.stringContaining('Storage=external') });
    expect(judgeProcessCrashDump({ ...base, coredumpProcessSizeMax: '0' })).toMatchObject({ verdict: 'not_ready', fix: expect.stringContaining('ProcessSizeMax=') });
  });

  it('kdump: a kernel without crash support, no reservation, reserved but not loaded, loaded', () => {
    expect(judgeKernelDump({ ...base, cmdline: 'ro quiet' })).toMatchObject({ verdict: 'not_ready', fix: expect.stringContaining('CONFIG_CRASH_DUMP') });
    expect(judgeKernelDump({ ...base, cmdline: 'ro quiet', kexecCrashLoaded: '0' })).toMatchObject({ verdict: 'not_ready', fix: expect.stringContaining('GRUB_CMDLINE_LINUX') });
    expect(judgeKernelDump({ ...base, cmdline: 'ro crashkernel=256M', kexecCrashLoaded: '0' }).fix).toContain('kdump-tools');
    expect(judgeKernelDump({ ...base, cmdline: 'ro crashkernel=256M', kexecCrashLoaded: '1' }).verdict).toBe('ready');
  });

  it('sysrq: 1 and any mask with the dump bit (8) allow SysRq-c; Debian\'s 438 and Ubuntu\'s 176 do not', () => {
    expect(judgeManualCrash({ ...base, sysrq: '1' }).verdict).toBe('ready');
    expect(judgeManualCrash({ ...base, sysrq: '8' }).verdict).toBe('ready');
    expect(judgeManualCrash({ ...base, sysrq: '438' }).verdict).toBe('not_ready');
    expect(judgeManualCrash({ ...base, sysrq: '176' }).verdict).toBe('not_ready');
    expect(judgeManualCrash({ ...base, sysrq: '0' }).verdict).toBe('not_ready');
  });

  it('ptrace: scope 3 forbids everything, CAP_SYS_PTRACE allows any process below it, scope 0 without it only the agent\'s user', () => {
    const withGdb = { ...base, gcore: '/usr/bin/gcore', uid: 998 };
    expect(judgeProcessDump({ ...withGdb, ptraceScope: '3', capEff: 0x1ffffffffffn }).fix).toContain('reboot');
    expect(judgeProcessDump({ ...withGdb, ptraceScope: '2', capEff: 1n << 19n }).verdict).toBe('ready');
    expect(judgeProcessDump({ ...withGdb, ptraceScope: '0', capEff: 0n })).toMatchObject({ verdict: 'not_ready', reason: expect.stringContaining('uid 998') });
    expect(judgeProcessDump({ ...withGdb, ptraceScope: '1', capEff: 0n }).reason).toContain('only its own children');
  });
});

describe('contention-agent doctor on this machine', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'doctor', ...args], { encoding: 'utf8' });

  it('judges this host from its own files: exit code, fixes, and verdicts that match what the files say', () => {
    const out = run('--json', '--evidence.dir=/tmp');
    const report = JSON.parse(out.stdout) as { ready: boolean; checks: Check[] };
    expect(out.status, out.stderr).toBe(report.ready ? 0 : 1);
    expect(report.ready).toBe(allRequiredReady(report.checks));
    expect(report.checks.map((c) => c.kind).sort()).toEqual(
      ['evidence_space', 'hung_task_panic', 'kernel_dump', 'manual_crash', 'panic_on_oops', 'process_crash_dump', 'process_crash_dump_space', 'process_dump', 'softlockup_panic'],
    );
    for (const c of report.checks) {
      expect(c.reason, c.kind).toBeTruthy();
      if (c.verdict === 'not_ready') expect(c.fix, c.kind).toBeTruthy();
    }
    const kdump = byKind(report.checks, 'kernel_dump');
    if (!existsSync('/sys/kernel/kexec_crash_loaded')) expect(kdump.verdict).toBe('not_ready');
    else expect(kdump.verdict === 'ready').toBe(readFileSync('/sys/kernel/kexec_crash_loaded', 'utf8').trim() === '1');
    const hasGcore = spawnSync('sh', ['-c', 'command -v gcore']).status === 0;
    const capEff = BigInt(`0x${/^CapEff:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
    const scope = existsSync('/proc/sys/kernel/yama/ptrace_scope') ? readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim() : undefined;
    expect(byKind(report.checks, 'process_dump').verdict === 'ready').toBe(hasGcore && ((capEff >> 19n) & 1n) === 1n && scope !== '3');
    const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
    expect(byKind(report.checks, 'process_crash_dump').reason).toContain(pattern.startsWith('|') ? pattern.slice(1).split(' ')[0]!.split('/').pop()! : pattern.startsWith('/') ? pattern.slice(0, pattern.lastIndexOf('/')) : pattern);
  });

  it('prints each verdict with its reason and fix as text', () => {
    const out = run('--evidence.dir=/tmp');
    expect(out.stdout).toMatch(/^(This host can capture|This host cannot capture)/);
    expect(out.stdout).toMatch(/ {2}(READY|NOT READY|UNKNOWN) +kernel_dump\n {12}\S/);
    if (out.status === 1) expect(out.stdout).toContain('fix: ');
    expect(execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' })).toContain('doctor [--json]');
  });
});
