/**
 * Decoding of what NtQuerySystemInformation(SystemProcessInformation) returns: a chain of
 * SYSTEM_PROCESS_INFORMATION records, each followed by its SYSTEM_THREAD_INFORMATION array. Pure:
 * bytes in, rows out, so it is tested on buffers built to the documented 64-bit layout.
 */
import { filetimeToUnixMs } from './filetime.js';

/** Offsets in SYSTEM_PROCESS_INFORMATION on 64-bit Windows (x64 and arm64 share the layout). */
export const SPI = {
  NextEntryOffset: 0x00, // u32
  NumberOfThreads: 0x04, // u32
  WorkingSetPrivateSize: 0x08, // i64
  HardFaultCount: 0x10, // u32
  NumberOfThreadsHighWatermark: 0x14, // u32
  CycleTime: 0x18, // u64
  CreateTime: 0x20, // i64, FILETIME
  UserTime: 0x28, // i64, 100 ns
  KernelTime: 0x30, // i64, 100 ns
  ImageNameLength: 0x38, // u16, bytes
  ImageNameMaximumLength: 0x3a, // u16; then 4 bytes of padding
  ImageNameBuffer: 0x40, // pointer into the same buffer
  BasePriority: 0x48, // i32; then 4 bytes of padding
  UniqueProcessId: 0x50, // pointer-sized
  InheritedFromUniqueProcessId: 0x58, // pointer-sized
  HandleCount: 0x60, // u32
  SessionId: 0x64, // u32
  UniqueProcessKey: 0x68, // pointer-sized
  PeakVirtualSize: 0x70,
  VirtualSize: 0x78,
  PageFaultCount: 0x80, // u32; then 4 bytes of padding
  PeakWorkingSetSize: 0x88,
  WorkingSetSize: 0x90,
  QuotaPeakPagedPoolUsage: 0x98,
  QuotaPagedPoolUsage: 0xa0,
  QuotaPeakNonPagedPoolUsage: 0xa8,
  QuotaNonPagedPoolUsage: 0xb0,
  PagefileUsage: 0xb8,
  PeakPagefileUsage: 0xc0,
  PrivatePageCount: 0xc8, // bytes, despite the name
  ReadOperationCount: 0xd0,
  WriteOperationCount: 0xd8,
  OtherOperationCount: 0xe0,
  ReadTransferCount: 0xe8,
  WriteTransferCount: 0xf0,
  OtherTransferCount: 0xf8,
  Threads: 0x100,
} as const;
export const SPI_SIZE = 0x100;

/** Offsets in SYSTEM_THREAD_INFORMATION on 64-bit Windows. */
export const STI = {
  KernelTime: 0x00,
  UserTime: 0x08,
  CreateTime: 0x10,
  WaitTime: 0x18, // u32; then 4 bytes of padding
  StartAddress: 0x20,
  UniqueProcess: 0x28, // CLIENT_ID
  UniqueThread: 0x30,
  Priority: 0x38, // i32
  BasePriority: 0x3c, // i32
  ContextSwitches: 0x40, // u32
  ThreadState: 0x44, // u32, KTHREAD_STATE
  WaitReason: 0x48, // u32, KWAIT_REASON; then 4 bytes of padding
} as const;
export const STI_SIZE = 0x50;

export const THREAD_READY = 1;
const THREAD_RUNNING = 2;
const THREAD_WAITING = 5;
const WAIT_SUSPENDED = 5;


/** One process as the native list reports it. */
export interface NativeProcess {
  readonly pid: number;
  readonly ppid: number;
  /** As Windows reports it: `svchost.exe`. */
  readonly imageName: string;
  /** Unix ms. */
  readonly startTime: number;
  readonly sessionId: number;
  readonly threads: number;
  readonly handles: number;
  /** PrivatePageCount: the commit the process alone holds, what PerfMon calls Private Bytes. */
  readonly privateBytes: number;
  readonly workingSetBytes: number;
  readonly virtualBytes: number;
  readonly pagedPoolBytes: number;
  readonly nonPagedPoolBytes: number;
  readonly cpuSeconds: number;
  /** `R` when a thread is running or ready, `T` when every thread is suspended, else `S`. */
  readonly state: 'R' | 'S' | 'T';
}

/**
 * Why a record was not made a row. `kernel`: Idle (pid 0) and System (pid 4), which are the kernel,
 * not processes, as kernel threads are left out on Linux. `zombie`: no threads left, an exited
 * process kept by someone's open handle. `malformed`: a record that cannot be right (no or future
 * create time, no name, a name or thread array outside the buffer, a pid seen twice).
 */
export type SkipReason = 'kernel' | 'zombie' | 'malformed';

export interface DecodedProcesses {
  readonly rows: NativeProcess[];
  readonly skipped: ReadonlyMap<SkipReason, number>;
}

export interface DecodeOptions {
  /** The address the buffer was at when the kernel filled it: ImageName.Buffer points into it. */
  readonly baseAddress: bigint;
  /** Bytes the call reported as written; the rest of the buffer is not read. */
  readonly length?: number;
  /** Unix ms now; create times after it (with a minute of slack) are malformed. */
  readonly now: number;
}

/**
 * Walks the record chain. A chain that points backwards or outside the buffer ends the walk (and
 * counts as malformed): better a short table than a loop or a read of foreign memory.
 */
export function decodeProcessInformation(buffer: Uint8Array, opts: DecodeOptions): DecodedProcesses {
  const length = Math.min(opts.length ?? buffer.byteLength, buffer.byteLength);
  const view = new DataView(buffer.buffer, buffer.byteOffset, length);
  const rows: NativeProcess[] = [];
  const skipped = new Map<SkipReason, number>();
  const skip = (reason: SkipReason): void => void skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
  const seen = new Set<number>();

  let offset = 0;
  for (;;) {
    if (offset + SPI_SIZE > length) {
      skip('malformed');
      break;
    }
    const next = view.getUint32(offset + SPI.NextEntryOffset, true);
    const end = next === 0 ? length : offset + next;
    const record = decodeRecord(buffer, view, offset, end, opts);
    if (typeof record === 'string') skip(record);
    else if (seen.has(record.pid)) skip('malformed');
    else {
      seen.add(record.pid);
      rows.push(record);
    }
    if (next === 0) break;
    if (next < SPI_SIZE || offset + next >= length) {
      skip('malformed');
      break;
    }
    offset += next;
  }
  return { rows, skipped };
}

function decodeRecord(buffer: Uint8Array, view: DataView, at: number, end: number, opts: DecodeOptions): NativeProcess | SkipReason {
  const u32 = (field: number) => view.getUint32(at + field, true);
  const u64 = (field: number) => view.getBigUint64(at + field, true);
  const i64 = (field: number) => view.getBigInt64(at + field, true);
  const size = (field: number) => Number(u64(field));

  const pid = Number(u64(SPI.UniqueProcessId));
  // Idle and System have no image name and no create time; they are the kernel, not processes.
  if (pid === 0 || pid === 4) return 'kernel';

  const threads = u32(SPI.NumberOfThreads);
  if (threads === 0) return 'zombie';
  if (at + SPI_SIZE + threads * STI_SIZE > end) return 'malformed';

  const startTime = filetimeToUnixMs(i64(SPI.CreateTime));
  if (startTime === undefined || startTime > opts.now + 60_000) return 'malformed';

  const imageName = readName(buffer, view, at, opts.baseAddress);
  if (imageName === undefined) return 'malformed';

  const workingSetBytes = size(SPI.WorkingSetSize);
  const virtualBytes = size(SPI.VirtualSize);
  const privateBytes = size(SPI.PrivatePageCount);
  // A live process with threads maps at least its image: all-zero memory is a torn record.
  if (workingSetBytes === 0 && virtualBytes === 0 && privateBytes === 0) return 'malformed';

  const user = i64(SPI.UserTime);
  const kernel = i64(SPI.KernelTime);
  if (user < 0n || kernel < 0n) return 'malformed';

  return {
    pid,
    ppid: Number(u64(SPI.InheritedFromUniqueProcessId)),
    imageName,
    startTime,
    sessionId: u32(SPI.SessionId),
    threads,
    handles: u32(SPI.HandleCount),
    privateBytes,
    workingSetBytes,
    virtualBytes,
    pagedPoolBytes: size(SPI.QuotaPagedPoolUsage),
    nonPagedPoolBytes: size(SPI.QuotaNonPagedPoolUsage),
    cpuSeconds: Number(user + kernel) / 1e7,
    state: stateOf(view, at + SPI.Threads, threads),
  };
}

const utf16 = new TextDecoder('utf-16le');

function readName(buffer: Uint8Array, view: DataView, at: number, base: bigint): string | undefined {
  const bytes = view.getUint16(at + SPI.ImageNameLength, true);
  const pointer = view.getBigUint64(at + SPI.ImageNameBuffer, true);
  if (bytes === 0 || pointer === 0n || bytes % 2 !== 0) return undefined;
  const start = pointer - base;
  if (start < 0n || start + BigInt(bytes) > BigInt(view.byteLength)) return undefined;
  return utf16.decode(buffer.subarray(Number(start), Number(start) + bytes));
}

function stateOf(view: DataView, threadsAt: number, count: number): NativeProcess['state'] {
  let suspended = 0;
  for (let i = 0; i < count; i++) {
    const t = threadsAt + i * STI_SIZE;
    const state = view.getUint32(t + STI.ThreadState, true);
    if (state === THREAD_RUNNING || state === THREAD_READY) return 'R';
    if (state === THREAD_WAITING && view.getUint32(t + STI.WaitReason, true) === WAIT_SUSPENDED) suspended++;
  }
  return suspended === count ? 'T' : 'S';
}

/** The name PDH and the agent's `name` label use: the image name without `.exe`. */
export function processName(imageName: string): string {
  return imageName.replace(/\.exe$/i, '');
}

/** Thread states counted over a whole process list. */
export interface ThreadStates {
  /** Threads in the Ready state: the processor queue. */
  readonly ready: number;
  /** Threads running now; never 0 on a real kernel, where at least the caller's thread runs. */
  readonly running: number;
}

/**
 * The processor queue: threads in the Ready state across every record (Idle and System included),
 * which is what `\System\Processor Queue Length` counts, running threads left out. Pure; walks
 * the same chain as the decoder with the same bounds and reads nothing else, so it is cheap enough
 * for the queue poller. Undefined when the chain is torn before its end.
 */
export function countThreadStates(buffer: Uint8Array, length = buffer.byteLength): ThreadStates | undefined {
  const end = Math.min(length, buffer.byteLength);
  const view = new DataView(buffer.buffer, buffer.byteOffset, end);
  let ready = 0;
  let running = 0;
  let offset = 0;
  for (;;) {
    if (offset + SPI_SIZE > end) return undefined;
    const next = view.getUint32(offset + SPI.NextEntryOffset, true);
    const threads = view.getUint32(offset + SPI.NumberOfThreads, true);
    if (next !== 0 && (next < SPI_SIZE || offset + next >= end)) return undefined;
    const recordEnd = next === 0 ? end : offset + next;
    if (offset + SPI_SIZE + threads * STI_SIZE > recordEnd) return undefined;
    for (let i = 0; i < threads; i++) {
      const state = view.getUint32(offset + SPI.Threads + i * STI_SIZE + STI.ThreadState, true);
      if (state === THREAD_READY) ready++;
      else if (state === THREAD_RUNNING) running++;
    }
    if (next === 0) return { ready, running };
    offset += next;
  }
}
