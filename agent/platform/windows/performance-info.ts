/**
 * The Memory figures without PDH: NtQuerySystemInformation(SystemPerformanceInformation) carries
 * available, committed and commit-limit pages, paged and nonpaged pool pages and free system PTEs;
 * SystemBasicInformation the page size. PerfMon's Memory object is computed from these same fields
 * (times the page size), so reading them directly gives the same figures and survives a disabled or
 * corrupt counter registry. Decoding is pure (bytes in, figures out); the reader is thin.
 */
import { loadWin32, type Out } from './ffi.js';
import type { HostSeries } from './pdh-values.js';

export const SYSTEM_BASIC_INFORMATION = 0;
export const SYSTEM_PERFORMANCE_INFORMATION = 2;

/** Offsets in SYSTEM_BASIC_INFORMATION on 64-bit Windows. */
export const SBI = {
  PageSize: 0x08, // u32
  NumberOfPhysicalPages: 0x0c, // u32
} as const;
/** The structure's size on 64-bit Windows: what the call requires. */
export const SBI_SIZE = 0x40;

/**
 * Offsets in SYSTEM_PERFORMANCE_INFORMATION (the same on 32- and 64-bit: four LARGE_INTEGERs,
 * then ULONGs). Each count is in pages, except FreeSystemPtes, which counts entries.
 */
export const SPERF = {
  AvailablePages: 0x2c,
  CommittedPages: 0x30,
  CommitLimit: 0x34,
  PeakCommitment: 0x38,
  PagedPoolPages: 0x70,
  NonPagedPoolPages: 0x74,
  FreeSystemPtes: 0x88,
} as const;
/** The bytes the decoder needs: up to and including FreeSystemPtes. */
export const SPERF_NEEDED = SPERF.FreeSystemPtes + 4;
/**
 * The buffer handed to the kernel. The structure grew over releases (0x138 bytes on XP, more since
 * Windows 10); a kernel refuses a buffer shorter than its own version, and fills only its own.
 */
export const SPERF_BUFFER_BYTES = 0x1000;

export interface BasicInformation {
  readonly pageSize: number;
  readonly physicalPages: number;
}

export interface PerformanceFigures {
  readonly availableBytes: number;
  readonly committedBytes: number;
  readonly commitLimitBytes: number;
  readonly peakCommitBytes: number;
  readonly pagedPoolBytes: number;
  readonly nonPagedPoolBytes: number;
  readonly freeSystemPtes: number;
}

/** The page size and physical pages, or an error naming what is wrong with the record. */
export function decodeBasicInformation(bytes: Uint8Array, length = bytes.byteLength): BasicInformation {
  if (length < SBI.NumberOfPhysicalPages + 4 || bytes.byteLength < length) throw new Error(`SystemBasicInformation returned ${length} bytes, fewer than the ${SBI.NumberOfPhysicalPages + 4} it must hold`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  const pageSize = view.getUint32(SBI.PageSize, true);
  // 4 KiB on x64 and arm64; anything not a power of two from 4 KiB to 64 KiB is a misread.
  if (pageSize < 4096 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new Error(`SystemBasicInformation gave a page size of ${pageSize}`);
  return { pageSize, physicalPages: view.getUint32(SBI.NumberOfPhysicalPages, true) };
}

/** The figures in bytes (free PTEs as a count). Pure; throws when the record is too short. */
export function decodePerformanceInformation(bytes: Uint8Array, length: number, pageSize: number): PerformanceFigures {
  if (length < SPERF_NEEDED || bytes.byteLength < length) throw new Error(`SystemPerformanceInformation returned ${length} bytes, fewer than the ${SPERF_NEEDED} the figures need`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  const pages = (offset: number): number => view.getUint32(offset, true) * pageSize;
  return {
    availableBytes: pages(SPERF.AvailablePages),
    committedBytes: pages(SPERF.CommittedPages),
    commitLimitBytes: pages(SPERF.CommitLimit),
    peakCommitBytes: pages(SPERF.PeakCommitment),
    pagedPoolBytes: pages(SPERF.PagedPoolPages),
    nonPagedPoolBytes: pages(SPERF.NonPagedPoolPages),
    freeSystemPtes: view.getUint32(SPERF.FreeSystemPtes, true),
  };
}

export interface PerformanceReader {
  readonly basic: BasicInformation;
  read(): PerformanceFigures;
}

const hex = (status: number): string => `0x${(status >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

/** Reads the page size once, then the figures on each read(). Windows only. */
export async function openPerformanceReader(): Promise<PerformanceReader> {
  const api = await loadWin32();
  const returned: Out<number> = [0];
  const basicBytes = new Uint8Array(SBI_SIZE);
  const status = api.NtQuerySystemInformation(SYSTEM_BASIC_INFORMATION, basicBytes, basicBytes.byteLength, returned);
  if (status !== 0) throw new Error(`NtQuerySystemInformation(SystemBasicInformation) failed: NTSTATUS ${hex(status)}`);
  const basic = decodeBasicInformation(basicBytes, returned[0]);
  const bytes = new Uint8Array(SPERF_BUFFER_BYTES);
  return {
    basic,
    read() {
      bytes.fill(0);
      const s = api.NtQuerySystemInformation(SYSTEM_PERFORMANCE_INFORMATION, bytes, bytes.byteLength, returned);
      if (s !== 0) throw new Error(`NtQuerySystemInformation(SystemPerformanceInformation) failed: NTSTATUS ${hex(s)}`);
      return decodePerformanceInformation(bytes, returned[0], basic.pageSize);
    },
  };
}

/** The source label of figures read from this call. */
export const PERFORMANCE_SOURCE = 'SystemPerformanceInformation';

export interface MissingField {
  readonly field: string;
  /** The family the field would have fed. */
  readonly metric: HostSeries['metric'];
}

export interface MappedFigures {
  readonly series: HostSeries[];
  /** Fields the kernel left at zero, which a real kernel never does (Wine does): not exported. */
  readonly missing: MissingField[];
}

/**
 * The agent's series from one read. Pure. A live kernel always has pool in use and free system
 * PTEs, so a zero there is a field the kernel does not fill (Wine's), reported as missing rather
 * than exported as an exhausted table that would page someone.
 */
export function performanceSeries(f: PerformanceFigures): MappedFigures {
  const series: HostSeries[] = [
    { metric: 'contention_memory_commit_bytes', labels: {}, value: f.committedBytes },
    { metric: 'contention_memory_available_bytes', labels: {}, value: f.availableBytes },
  ];
  const missing: MissingField[] = [];
  // A commit limit of zero would make every commit look past it.
  if (f.commitLimitBytes > 0) series.push({ metric: 'contention_memory_commit_limit_bytes', labels: {}, value: f.commitLimitBytes });
  else missing.push({ field: 'CommitLimit', metric: 'contention_memory_commit_limit_bytes' });
  if (f.pagedPoolBytes > 0) series.push({ metric: 'contention_kernel_pool_bytes', labels: { pool: 'paged' }, value: f.pagedPoolBytes });
  else missing.push({ field: 'PagedPoolPages', metric: 'contention_kernel_pool_bytes' });
  if (f.nonPagedPoolBytes > 0) series.push({ metric: 'contention_kernel_pool_bytes', labels: { pool: 'nonpaged' }, value: f.nonPagedPoolBytes });
  else missing.push({ field: 'NonPagedPoolPages', metric: 'contention_kernel_pool_bytes' });
  if (f.freeSystemPtes > 0) series.push({ metric: 'contention_kernel_table_free_entries', labels: { table: 'system_ptes' }, value: f.freeSystemPtes });
  else missing.push({ field: 'FreeSystemPtes', metric: 'contention_kernel_table_free_entries' });
  return { series, missing };
}
