import { describe, expect, it } from 'vitest';
import { processesCollectorOver } from '../../../agent/collectors/processes.js';
import { configSchema } from '../../../agent/config/schema.js';
import type { MetricName } from '../../../agent/metrics/catalog.js';
import type { Labels } from '../../../agent/metrics/sample.js';
import { nativeRow, readErrors } from '../../../agent/platform/windows/process-source.js';
import { decodeProcessInformation } from '../../../agent/platform/windows/process-info.js';
import type { ProcessSource } from '../../../agent/process/source.js';
import type { QueueWatch } from '../../../agent/sampler/queue-watch.js';
import { recordingSink } from '../../helpers/builders.js';
import { buildProcessBuffer, filetime, waiting, type ProcessSpec } from './spi-buffer.js';

const now = Date.UTC(2026, 10, 24, 18, 0, 0);
const KB = 1024n;

// An IIS and SQL Server host as the native list shows it, with the records that never become rows.
const listed: ProcessSpec[] = [
  { pid: 0, ppid: 0, createTime: 0n, threads: [{ state: 2, waitReason: 0 }], handles: 0, virtualSize: 8192n, workingSet: 8192n, privateBytes: 61440n },
  { pid: 4, ppid: 0, name: 'System', createTime: filetime(now - 9e8), threads: waiting(150, 15), handles: 3_900, virtualSize: 3_891_200n, workingSet: 7_172n * KB, privateBytes: 196n * KB },
  { pid: 948, ppid: 788, name: 'svchost.exe', createTime: filetime(now - 8e8), threads: waiting(14), handles: 1_306, virtualSize: 2_201_080n * KB, workingSet: 27_540n * KB, privateBytes: 11_556n * KB, userTime: 50_000_000n },
  { pid: 2748, ppid: 788, name: 'sqlservr.exe', createTime: filetime(now - 7e8), threads: [{ state: 1, waitReason: 0 }, ...waiting(96)], handles: 2_318, virtualSize: 2_237_874_176n * KB, workingSet: 1_843_232n * KB, privateBytes: 2_103_552n * KB, userTime: 863_117_187_500n },
  { pid: 5124, ppid: 1020, name: 'w3wp.exe', createTime: filetime(now - 3_600_000), threads: waiting(28), handles: 1_013, virtualSize: 2_239_488n * KB, workingSet: 412_000n * KB, privateBytes: 402_344n * KB },
  { pid: 6880, ppid: 1020, name: 'w3wp.exe', createTime: filetime(now - 600_000), threads: waiting(22), handles: 788, virtualSize: 2_231_040n * KB, workingSet: 198_000n * KB, privateBytes: 193_360n * KB },
  { pid: 7312, ppid: 5124, name: 'cmd.exe', createTime: filetime(now - 120_000), threads: [], handles: 0, virtualSize: 0n, workingSet: 0n, privateBytes: 0n },
  { pid: 7420, ppid: 788, name: 'svchost.exe', createTime: filetime(now - 30_000), threads: waiting(3), handles: 0, virtualSize: 0n, workingSet: 0n, privateBytes: 0n },
  { pid: 8016, ppid: 3920, name: 'MsMpEng.exe', createTime: filetime(now - 7_000_000), threads: waiting(40), handles: 900, virtualSize: 2_296_512n * KB, workingSet: 148_220n * KB, privateBytes: 261_884n * KB },
];

// What the identity reader found; Defender's process is protected and tells nothing.
const w3wp = 'c:\\windows\\system32\\inetsrv\\w3wp.exe';
const identities: Record<number, { user: string; exe: string; cmdline: string; argv0: string }> = {
  948: { user: 'NT AUTHORITY\\LOCAL SERVICE', exe: 'C:\\Windows\\System32\\svchost.exe', cmdline: 'C:\\Windows\\system32\\svchost.exe -k LocalService -p', argv0: 'C:\\Windows\\system32\\svchost.exe' },
  2748: {
    user: 'NT SERVICE\\MSSQLSERVER',
    exe: 'C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe',
    cmdline: '"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe" -sMSSQLSERVER',
    argv0: 'C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe',
  },
  5124: { user: 'IIS APPPOOL\\Orders', exe: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe', cmdline: `${w3wp} -ap "Orders" -v "v4.0"`, argv0: w3wp },
  6880: { user: 'IIS APPPOOL\\Catalog', exe: 'C:\\Windows\\System32\\inetsrv\\w3wp.exe', cmdline: `${w3wp} -ap "Catalog" -v "v4.0"`, argv0: w3wp },
  8016: { user: '', exe: '', cmdline: '', argv0: '' },
};

function decodedHost() {
  const b = buildProcessBuffer(listed);
  return decodeProcessInformation(b.buffer, { baseAddress: b.baseAddress, length: b.length, now });
}

/** The recorded host as a process source: what the native source returns, without the FFI. */
function recordedSource(): ProcessSource {
  return {
    async read() {
      const { rows, skipped } = decodedHost();
      return {
        rows: rows.map((p) => nativeRow(p, identities[p.pid]!)),
        errors: readErrors(skipped),
        unreadable: new Map([['user', 1], ['exe', 1], ['cmdline', 1]]),
      };
    },
  };
}

describe('native process rows', () => {
  it('take the Linux row shape: name without .exe, user by account name, no numeric ids or command line', () => {
    const { rows } = decodedHost();
    const sql = rows.find((r) => r.pid === 2748)!;
    expect(nativeRow(sql, identities[2748]!)).toEqual({
      pid: 2748, ppid: 788, startTime: now - 7e8, state: 'R',
      comm: 'sqlservr', exe: identities[2748]!.exe, cmdline: identities[2748]!.cmdline, argv0: identities[2748]!.argv0,
      uid: -1, gid: -1, user: 'NT SERVICE\\MSSQLSERVER', group: '',
      privateBytes: 2_103_552 * 1024, workingSetBytes: 1_843_232 * 1024, virtualBytes: 2_237_874_176 * 1024,
      threads: 97, handles: 2_318, cpuSeconds: 86_311.71875,
    });
  });

  it('count exited and torn records as read errors, and the kernel as none', () => {
    expect(Object.fromEntries(readErrors(decodedHost().skipped))).toEqual({ zombie: 1, malformed: 1 });
  });
});

describe('the processes collector over the native list', () => {
  const config = configSchema.parse({
    criteria: [
      { name: 'orders', include: [{ name: 'w3wp.exe', cmdline: '-ap "Orders"' }] },
      { name: 'iis', include: [{ name: 'w3wp.exe' }] },
      { name: 'sql', include: [{ user: 'NT SERVICE\\MSSQLSERVER' }] },
      { name: 'svchost', include: [{ exe: 'C:\\Windows\\System32\\svchost.exe' }] },
    ],
    process_groups: { top_k: 2 },
  });
  const queueWatch: QueueWatch = { takeCpuPeak: () => undefined, takeDiskPeaks: () => new Map(), stop: () => undefined };

  async function sampleOnce() {
    const collector = processesCollectorOver(() => recordedSource()).create({ config, procfs: '/proc', sysfs: '/sys', queueWatch });
    const { sink, series, facts } = recordingSink();
    await collector.update(sink);
    return { series, facts };
  }
  const value = (series: Awaited<ReturnType<typeof sampleOnce>>['series'], metric: MetricName, labels: Labels) =>
    series.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  it('groups by criteria on the image file name, the command line, the account and the Win32 path', async () => {
    const { series, facts } = await sampleOnce();
    // The first matching criteria is the group: the Orders app pool by its command line, the other by its file name.
    expect(value(series, 'contention_process_group_processes', { group: 'orders' })).toBe(1);
    expect(value(series, 'contention_process_group_private_bytes', { group: 'orders' })).toBe(402_344 * 1024);
    expect(value(series, 'contention_process_group_processes', { group: 'iis' })).toBe(1);
    expect(value(series, 'contention_process_group_processes', { group: 'sql' })).toBe(1);
    expect(value(series, 'contention_process_group_processes', { group: 'svchost' })).toBe(1);
    // Unmatched processes are grouped by name, as on Linux.
    expect(value(series, 'contention_process_group_processes', { group: 'MsMpEng' })).toBe(1);
    expect(facts.processes?.rows.map((r) => `${r.pid}:${r.processGroup}`).sort()).toEqual(['2748:sql', '5124:orders', '6880:iis', '8016:MsMpEng', '948:svchost']);
  });

  it('exports the top K by private bytes, handles and threads with the same labels as on Linux', async () => {
    const { series } = await sampleOnce();
    const top = series.filter((s) => s.metric === 'contention_process_private_bytes').map((s) => s.labels);
    expect(top).toEqual([
      { group: 'sql', name: 'sqlservr', pid: '2748' },
      { group: 'orders', name: 'w3wp', pid: '5124' },
    ]);
    expect(series.filter((s) => s.metric === 'contention_process_handles').map((s) => s.labels.pid)).toEqual(['2748', '948']);
  });

  it('counts skipped records and refused identities as counters', async () => {
    const { series } = await sampleOnce();
    expect(value(series, 'contention_process_read_errors_total', { reason: 'zombie' })).toBe(1);
    expect(value(series, 'contention_process_read_errors_total', { reason: 'malformed' })).toBe(1);
    expect(value(series, 'contention_process_read_errors_total', { reason: 'vanished' })).toBe(0);
    expect(value(series, 'contention_process_identity_unreadable_total', { field: 'user' })).toBe(1);
    expect(value(series, 'contention_process_identity_unreadable_total', { field: 'exe' })).toBe(1);
    expect(value(series, 'contention_process_identity_unreadable_total', { field: 'cmdline' })).toBe(1);
  });
});
