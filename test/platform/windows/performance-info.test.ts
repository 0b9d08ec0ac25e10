import { describe, expect, it } from 'vitest';
import {
  SBI_SIZE,
  SPERF,
  decodeBasicInformation,
  decodePerformanceInformation,
  performanceSeries,
} from '../../../agent/platform/windows/performance-info.js';
import { countThreadStates } from '../../../agent/platform/windows/process-info.js';
import { buildProcessBuffer, filetime, waiting, type ProcessSpec } from './spi-buffer.js';

/**
 * SYSTEM_PERFORMANCE_INFORMATION as declared (ntexapi.h, ReactOS and Wine's winternl.h agree): four
 * LARGE_INTEGERs, then ULONGs in this order. The fixture writes the fields in declaration order, so
 * the offsets come from the declaration and not from the decoder's table.
 */
const PERF_FIELDS = [
  'IdleProcessTime:8', 'IoReadTransferCount:8', 'IoWriteTransferCount:8', 'IoOtherTransferCount:8',
  'IoReadOperationCount', 'IoWriteOperationCount', 'IoOtherOperationCount',
  'AvailablePages', 'CommittedPages', 'CommitLimit', 'PeakCommitment', 'PageFaultCount', 'CopyOnWriteCount',
  'TransitionCount', 'CacheTransitionCount', 'DemandZeroCount', 'PageReadCount', 'PageReadIoCount',
  'CacheReadCount', 'CacheIoCount', 'DirtyPagesWriteCount', 'DirtyWriteIoCount', 'MappedPagesWriteCount',
  'MappedWriteIoCount', 'PagedPoolPages', 'NonPagedPoolPages', 'PagedPoolAllocs', 'PagedPoolFrees',
  'NonPagedPoolAllocs', 'NonPagedPoolFrees', 'FreeSystemPtes', 'ResidentSystemCodePage',
  'TotalSystemDriverPages', 'TotalSystemCodePages', 'NonPagedPoolLookasideHits', 'PagedPoolLookasideHits',
  'AvailablePagedPoolPages', 'ResidentSystemCachePage', 'ResidentPagedPoolPage', 'ResidentSystemDriverPage',
] as const;

function buildPerformance(values: Partial<Record<string, number>>, size = 0x158): Uint8Array {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let pos = 0;
  for (const spec of PERF_FIELDS) {
    const [name, width] = spec.split(':') as [string, string | undefined];
    const v = values[name] ?? 0;
    if (width === '8') {
      view.setBigInt64(pos, BigInt(v), true);
      pos += 8;
    } else {
      view.setUint32(pos, v, true);
      pos += 4;
    }
  }
  return bytes;
}

/** SYSTEM_BASIC_INFORMATION on x64: seven ULONGs, padding, three pointer-sized fields, a CCHAR. */
function buildBasic(pageSize: number, physicalPages: number): Uint8Array {
  const bytes = new Uint8Array(SBI_SIZE);
  const view = new DataView(bytes.buffer);
  const ulongs = [0, 156_250, pageSize, physicalPages, 1, physicalPages + 0x1000, 65_536];
  ulongs.forEach((v, i) => view.setUint32(i * 4, v, true));
  view.setBigUint64(0x20, 0x10000n, true);
  view.setBigUint64(0x28, 0x7ffffffeffffn, true);
  view.setBigUint64(0x30, 0xffn, true);
  view.setInt8(0x38, 8);
  return bytes;
}

/** A 16 GiB Server 2022 VM, as PerfMon's Memory object showed it in the same minute. */
const server2022 = {
  AvailablePages: 1_499_808, // Available Bytes 6,143,213,568
  CommittedPages: 2_411_265, // Committed Bytes 9,876,541,440
  CommitLimit: 4_652_892, // Commit Limit 19,058,245,632
  PeakCommitment: 3_012_554,
  PagedPoolPages: 100_791, // Pool Paged Bytes 412,839,936
  NonPagedPoolPages: 45_728, // Pool Nonpaged Bytes 187,301,888
  FreeSystemPtes: 33_552_712,
  PageFaultCount: 912_004_331,
};

describe('SystemPerformanceInformation', () => {
  it('has the fields at the offsets the declaration puts them', () => {
    expect(SPERF).toEqual({
      AvailablePages: 0x2c,
      CommittedPages: 0x30,
      CommitLimit: 0x34,
      PeakCommitment: 0x38,
      PagedPoolPages: 0x70,
      NonPagedPoolPages: 0x74,
      FreeSystemPtes: 0x88,
    });
  });

  it('turns pages into bytes with the page size of SystemBasicInformation, free PTEs as a count', () => {
    const basic = decodeBasicInformation(buildBasic(4096, 4_193_777));
    expect(basic).toEqual({ pageSize: 4096, physicalPages: 4_193_777 });
    const bytes = buildPerformance(server2022);
    expect(decodePerformanceInformation(bytes, bytes.byteLength, basic.pageSize)).toEqual({
      availableBytes: 6_143_213_568,
      committedBytes: 9_876_541_440,
      commitLimitBytes: 19_058_245_632,
      peakCommitBytes: 3_012_554 * 4096,
      pagedPoolBytes: 412_839_936,
      nonPagedPoolBytes: 187_301_888,
      freeSystemPtes: 33_552_712,
    });
  });

  it('reads page counts past 2^31 pages as unsigned (a 16 TiB commit limit)', () => {
    const bytes = buildPerformance({ ...server2022, CommitLimit: 0xffff_fff0 });
    expect(decodePerformanceInformation(bytes, bytes.byteLength, 4096).commitLimitBytes).toBe(0xffff_fff0 * 4096);
  });

  it('refuses a record too short for the figures and a page size that cannot be', () => {
    const bytes = buildPerformance(server2022);
    expect(() => decodePerformanceInformation(bytes, 0x88, 4096)).toThrow(/returned 136 bytes, fewer than the 140/);
    expect(() => decodeBasicInformation(buildBasic(0, 1))).toThrow(/page size of 0/);
    expect(() => decodeBasicInformation(buildBasic(3000, 1))).toThrow(/page size of 3000/);
    expect(() => decodeBasicInformation(new Uint8Array(8))).toThrow(/fewer than/);
  });

  it('maps the figures to the agent families, and leaves out as missing the fields a kernel never leaves at zero', () => {
    const real = performanceSeries(decodePerformanceInformation(buildPerformance(server2022), 0x158, 4096));
    expect(real.missing).toEqual([]);
    expect(real.series).toEqual([
      { metric: 'contention_memory_commit_bytes', labels: {}, value: 9_876_541_440 },
      { metric: 'contention_memory_available_bytes', labels: {}, value: 6_143_213_568 },
      { metric: 'contention_memory_commit_limit_bytes', labels: {}, value: 19_058_245_632 },
      { metric: 'contention_kernel_pool_bytes', labels: { pool: 'paged' }, value: 412_839_936 },
      { metric: 'contention_kernel_pool_bytes', labels: { pool: 'nonpaged' }, value: 187_301_888 },
      { metric: 'contention_kernel_table_free_entries', labels: { table: 'system_ptes' }, value: 33_552_712 },
    ]);
    // Wine fills memory and commit from /proc/meminfo and leaves the pools and PTEs at zero.
    const wine = performanceSeries(decodePerformanceInformation(buildPerformance({ AvailablePages: 5_613_264, CommittedPages: 557_756, CommitLimit: 6_171_021 }), 0x158, 4096));
    expect(wine.series.map((s) => s.metric)).toEqual(['contention_memory_commit_bytes', 'contention_memory_available_bytes', 'contention_memory_commit_limit_bytes']);
    expect(wine.missing).toEqual([
      { field: 'PagedPoolPages', metric: 'contention_kernel_pool_bytes' },
      { field: 'NonPagedPoolPages', metric: 'contention_kernel_pool_bytes' },
      { field: 'FreeSystemPtes', metric: 'contention_kernel_table_free_entries' },
    ]);
  });
});

describe('the processor queue from the process list', () => {
  const ready = (n: number) => Array.from({ length: n }, () => ({ state: 1, waitReason: 0 }));
  const running = (n: number) => Array.from({ length: n }, () => ({ state: 2, waitReason: 0 }));
  const boot = Date.UTC(2026, 10, 20);
  const base = { handles: 10, virtualSize: 1n << 30n, workingSet: 1n << 24n, privateBytes: 1n << 23n };
  /** Four CPUs, all busy: Idle's threads are not running, and five threads wait for a processor. */
  const busy: ProcessSpec[] = [
    { ...base, pid: 0, ppid: 0, createTime: 0n, threads: waiting(4, 0) },
    { ...base, pid: 4, ppid: 0, name: 'System', createTime: filetime(boot), threads: [...waiting(120, 15), ...ready(1)] },
    { ...base, pid: 2748, ppid: 788, name: 'sqlservr.exe', createTime: filetime(boot + 9_000), threads: [...running(3), ...ready(3), ...waiting(90)] },
    { ...base, pid: 5124, ppid: 1020, name: 'w3wp.exe', createTime: filetime(boot + 12_000), threads: [...running(1), ...ready(1), ...waiting(27)] },
  ];

  it('counts the threads in the Ready state across every record, running ones apart', () => {
    const b = buildProcessBuffer(busy);
    expect(countThreadStates(b.buffer, b.length)).toEqual({ ready: 5, running: 4 });
  });

  it('is zero on a quiet host (only the reader runs), and undefined when the chain is torn', () => {
    const quiet = busy.map((p, i) => ({ ...p, threads: i === 3 ? [...running(1), ...waiting(p.threads.length - 1)] : waiting(p.threads.length) }));
    const q = buildProcessBuffer(quiet);
    expect(countThreadStates(q.buffer, q.length)).toEqual({ ready: 0, running: 1 });
    const b = buildProcessBuffer(busy);
    expect(countThreadStates(b.buffer, 0x180)).toBeUndefined();
    const torn = buildProcessBuffer([{ ...busy[2]!, threadCountField: 10_000 }]);
    expect(countThreadStates(torn.buffer, torn.length)).toBeUndefined();
  });

  it('sees no running thread where the kernel leaves thread states unset, as Wine does (state 0)', () => {
    const wine = busy.map((p) => ({ ...p, threads: p.threads.map(() => ({ state: 0, waitReason: 0 })) }));
    const w = buildProcessBuffer(wine);
    expect(countThreadStates(w.buffer, w.length)).toEqual({ ready: 0, running: 0 });
  });
});
