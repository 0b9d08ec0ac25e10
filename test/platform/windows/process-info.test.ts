import { describe, expect, it } from 'vitest';
import { SPI, SPI_SIZE, STI_SIZE, decodeProcessInformation, processName } from '../../../agent/platform/windows/process-info.js';
import { buildProcessBuffer, filetime, waiting, type ProcessSpec } from './spi-buffer.js';

const boot = Date.UTC(2026, 10, 20, 3, 14, 7, 512);
const now = Date.UTC(2026, 10, 24, 18, 0, 0);
const KB = 1024n;
const MB = 1024n * KB;

/**
 * A Server 2022 file and web server a few days after boot, as Task Manager's details tab shows it:
 * private bytes from the `!vm` listing of the field notes, two IIS worker processes, a service host
 * suspended by a debugger, and the records that must never become rows.
 */
const host: ProcessSpec[] = [
  // Idle: pid 0, no name, no create time.
  { pid: 0, ppid: 0, createTime: 0n, threads: waiting(4, 0).map(() => ({ state: 2, waitReason: 0 })), handles: 0, virtualSize: 8192n, workingSet: 8192n, privateBytes: 61440n },
  // System: pid 4, the kernel's own threads and handle table.
  { pid: 4, ppid: 0, name: 'System', createTime: filetime(boot), threads: waiting(163, 15), handles: 3876, virtualSize: 3_891_200n, workingSet: 7_172n * KB, privateBytes: 196n * KB },
  { pid: 108, ppid: 4, name: 'Registry', createTime: filetime(boot - 7_000), threads: waiting(4), handles: 0, virtualSize: 95n * MB, workingSet: 41_232n * KB, privateBytes: 10_432n * KB },
  { pid: 412, ppid: 4, name: 'smss.exe', createTime: filetime(boot + 312), threads: waiting(2), handles: 53, virtualSize: 2_150_400n * KB, workingSet: 1_212n * KB, privateBytes: 1_076n * KB },
  { pid: 588, ppid: 576, name: 'csrss.exe', createTime: filetime(boot + 1_812), threads: waiting(11), handles: 512, sessionId: 0, virtualSize: 2_160_128n * KB, workingSet: 5_224n * KB, privateBytes: 1_892n * KB },
  { pid: 788, ppid: 672, name: 'services.exe', createTime: filetime(boot + 2_410), threads: waiting(7), handles: 690, virtualSize: 2_172_112n * KB, workingSet: 10_884n * KB, privateBytes: 5_904n * KB },
  { pid: 812, ppid: 672, name: 'lsass.exe', createTime: filetime(boot + 2_431), userTime: 1_184_375_000n, kernelTime: 902_031_250n, threads: waiting(9), handles: 1_544, virtualSize: 2_184_216n * KB, workingSet: 24_108n * KB, privateBytes: 19_532n * KB, pagedPool: 131_072n, nonPagedPool: 26_624n },
  { pid: 948, ppid: 788, name: 'svchost.exe', createTime: filetime(boot + 3_009), threads: waiting(14), handles: 1_306, virtualSize: 2_201_080n * KB, workingSet: 27_540n * KB, privateBytes: 11_556n * KB },
  { pid: 1020, ppid: 788, name: 'svchost.exe', createTime: filetime(boot + 3_122), threads: [...waiting(11), { state: 2, waitReason: 0 }], handles: 942, virtualSize: 2_190_408n * KB, workingSet: 19_880n * KB, privateBytes: 10_932n * KB },
  // Suspended by a debugger: every thread waits with reason Suspended.
  { pid: 1232, ppid: 788, name: 'svchost.exe', createTime: filetime(boot + 3_570), threads: waiting(6, 5), handles: 287, virtualSize: 2_158_020n * KB, workingSet: 8_716n * KB, privateBytes: 2_864n * KB },
  { pid: 2340, ppid: 788, name: 'spoolsv.exe', createTime: filetime(boot + 9_880), threads: waiting(10), handles: 491, virtualSize: 2_197_652n * KB, workingSet: 14_652n * KB, privateBytes: 4_980n * KB },
  { pid: 2748, ppid: 788, name: 'sqlservr.exe', createTime: filetime(boot + 11_240), userTime: 86_311_718_750n, kernelTime: 12_093_750_000n, threads: [{ state: 1, waitReason: 0 }, ...waiting(96)], handles: 2_318, virtualSize: 2_237_874_176n * KB, workingSet: 1_843_232n * KB, privateBytes: 2_103_552n * KB },
  { pid: 5124, ppid: 1020, name: 'w3wp.exe', createTime: filetime(now - 3_600_000), threads: waiting(28), handles: 1_013, sessionId: 0, virtualSize: 2_239_488n * KB, workingSet: 412_000n * KB, privateBytes: 402_344n * KB },
  { pid: 6880, ppid: 1020, name: 'w3wp.exe', createTime: filetime(now - 600_000), threads: waiting(22), handles: 788, virtualSize: 2_231_040n * KB, workingSet: 198_000n * KB, privateBytes: 193_360n * KB },
  // Exited, but a monitoring tool still holds its handle: no threads, memory released.
  { pid: 7312, ppid: 5124, name: 'cmd.exe', createTime: filetime(now - 120_000), threads: [], handles: 0, virtualSize: 0n, workingSet: 0n, privateBytes: 0n },
  // Torn: threads but no memory at all.
  { pid: 7420, ppid: 788, name: 'svchost.exe', createTime: filetime(now - 30_000), threads: waiting(3), handles: 0, virtualSize: 0n, workingSet: 0n, privateBytes: 0n },
  // Create time before 1970 (negative as Unix time), as corrupt rows show it.
  { pid: 7508, ppid: 788, name: 'conhost.exe', createTime: -1n, threads: waiting(4), handles: 77, virtualSize: 2_150_000n * KB, workingSet: 6_200n * KB, privateBytes: 1_400n * KB },
  // Create time in the future.
  { pid: 7604, ppid: 788, name: 'TiWorker.exe', createTime: filetime(now + 86_400_000), threads: waiting(5), handles: 300, virtualSize: 2_160_000n * KB, workingSet: 9_000n * KB, privateBytes: 4_000n * KB },
  // The last record: its NextEntryOffset is 0.
  { pid: 8016, ppid: 3920, name: 'explorer.exe', createTime: filetime(now - 7_200_000), threads: waiting(71), handles: 2_940, sessionId: 2, virtualSize: 2_296_512n * KB, workingSet: 148_220n * KB, privateBytes: 61_884n * KB },
];

describe('decodeProcessInformation', () => {
  const built = buildProcessBuffer(host);
  const decoded = decodeProcessInformation(built.buffer, { baseAddress: built.baseAddress, length: built.length, now });

  it('uses the documented 64-bit layout', () => {
    expect(SPI.CreateTime).toBe(0x20);
    expect(SPI.ImageNameBuffer).toBe(0x40);
    expect(SPI.UniqueProcessId).toBe(0x50);
    expect(SPI.HandleCount).toBe(0x60);
    expect(SPI.VirtualSize).toBe(0x78);
    expect(SPI.WorkingSetSize).toBe(0x90);
    expect(SPI.PrivatePageCount).toBe(0xc8);
    expect(SPI_SIZE).toBe(0x100);
    expect(STI_SIZE).toBe(0x50);
  });

  it('decodes every real process with its identity and measures', () => {
    expect(decoded.rows.map((r) => `${r.pid} ${r.imageName}`)).toEqual([
      '108 Registry', '412 smss.exe', '588 csrss.exe', '788 services.exe', '812 lsass.exe', '948 svchost.exe',
      '1020 svchost.exe', '1232 svchost.exe', '2340 spoolsv.exe', '2748 sqlservr.exe', '5124 w3wp.exe', '6880 w3wp.exe',
      '8016 explorer.exe',
    ]);
    const lsass = decoded.rows.find((r) => r.pid === 812)!;
    expect(lsass).toEqual({
      pid: 812, ppid: 672, imageName: 'lsass.exe', startTime: boot + 2_431, sessionId: 0, threads: 9, handles: 1_544,
      privateBytes: 19_532 * 1024, workingSetBytes: 24_108 * 1024, virtualBytes: 2_184_216 * 1024,
      pagedPoolBytes: 131_072, nonPagedPoolBytes: 26_624, cpuSeconds: 208.640625, state: 'S',
      hardFaults: 0, pageFaults: 12_345,
    });
    const sql = decoded.rows.find((r) => r.pid === 2748)!;
    expect(sql.virtualBytes).toBe(2_237_874_176 * 1024); // 2 TiB reserved: beyond 32 bits
    expect(sql.cpuSeconds).toBeCloseTo(9840.546875, 6);
    expect(decoded.rows.find((r) => r.pid === 8016)).toMatchObject({ sessionId: 2, threads: 71, startTime: now - 7_200_000 });
  });

  it('tells running, waiting and suspended processes apart from their threads', () => {
    const state = (pid: number) => decoded.rows.find((r) => r.pid === pid)?.state;
    expect(state(1020)).toBe('R'); // one thread running
    expect(state(2748)).toBe('R'); // one thread ready
    expect(state(948)).toBe('S');
    expect(state(1232)).toBe('T');
  });

  it('skips and counts Idle, System, exited and corrupt records', () => {
    expect(Object.fromEntries(decoded.skipped)).toEqual({ kernel: 2, zombie: 1, malformed: 3 });
    for (const pid of [0, 4, 7312, 7420, 7508, 7604]) expect(decoded.rows.some((r) => r.pid === pid)).toBe(false);
  });

  it('counts a record whose name points outside the buffer as malformed', () => {
    const b = buildProcessBuffer(host.slice(2, 5));
    // The first record's name pointer moved before the buffer.
    new DataView(b.buffer.buffer).setBigUint64(SPI.ImageNameBuffer, b.baseAddress - 64n, true);
    const d = decodeProcessInformation(b.buffer, { baseAddress: b.baseAddress, length: b.length, now });
    expect(d.rows.map((r) => r.pid)).toEqual([412, 588]);
    expect(d.skipped.get('malformed')).toBe(1);
  });

  it('counts a thread count larger than its record as malformed', () => {
    const torn = { ...host[3]!, threadCountField: 5_000 };
    const b = buildProcessBuffer([torn, host[4]!]);
    const d = decodeProcessInformation(b.buffer, { baseAddress: b.baseAddress, length: b.length, now });
    expect(d.rows.map((r) => r.pid)).toEqual([588]);
    expect(d.skipped.get('malformed')).toBe(1);
  });

  it('counts a pid seen twice once, keeping the first', () => {
    const b = buildProcessBuffer([host[3]!, host[4]!, { ...host[4]!, name: 'csrss.exe', handles: 1 }]);
    const d = decodeProcessInformation(b.buffer, { baseAddress: b.baseAddress, length: b.length, now });
    expect(d.rows.map((r) => [r.pid, r.handles])).toEqual([[412, 53], [588, 512]]);
    expect(d.skipped.get('malformed')).toBe(1);
  });

  it('stops at a chain that leaves the buffer instead of reading past it', () => {
    const b = buildProcessBuffer(host.slice(2, 6));
    new DataView(b.buffer.buffer).setUint32(SPI.NextEntryOffset, 0x7fff_fff0, true);
    const d = decodeProcessInformation(b.buffer, { baseAddress: b.baseAddress, length: b.length, now });
    expect(d.rows.map((r) => r.pid)).toEqual([108]);
    expect(d.skipped.get('malformed')).toBe(1);
  });

  it('stops at a buffer cut short in the middle of a record', () => {
    const b = buildProcessBuffer(host.slice(2, 6));
    const second = new DataView(b.buffer.buffer).getUint32(SPI.NextEntryOffset, true);
    const d = decodeProcessInformation(b.buffer, { baseAddress: b.baseAddress, length: second + 0x80, now });
    expect(d.rows.map((r) => r.pid)).toEqual([108]);
    expect(d.skipped.get('malformed')).toBe(1);
  });

  it('reads names beyond ASCII', () => {
    const b = buildProcessBuffer([{ ...host[3]!, name: 'Überwachung.exe' }]);
    const d = decodeProcessInformation(b.buffer, { baseAddress: b.baseAddress, length: b.length, now });
    expect(d.rows[0]?.imageName).toBe('Überwachung.exe');
  });

  it('decodes a buffer that is a view into a larger allocation', () => {
    const b = buildProcessBuffer(host.slice(2, 5));
    const outer = new Uint8Array(b.length + 64);
    outer.set(b.buffer.subarray(0, b.length), 64);
    const d = decodeProcessInformation(outer.subarray(64), { baseAddress: b.baseAddress, now });
    expect(d.rows.map((r) => r.imageName)).toEqual(['Registry', 'smss.exe', 'csrss.exe']);
  });
});

describe('processName', () => {
  it('drops .exe as PDH does', () => {
    expect(processName('svchost.exe')).toBe('svchost');
    expect(processName('SQLSERVR.EXE')).toBe('SQLSERVR');
    expect(processName('Registry')).toBe('Registry');
    expect(processName('Memory Compression')).toBe('Memory Compression');
  });
});
