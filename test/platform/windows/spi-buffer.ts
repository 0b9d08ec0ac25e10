/**
 * Builds what NtQuerySystemInformation(SystemProcessInformation) writes on 64-bit Windows, field by
 * field in declaration order with natural alignment, so the offsets come from the struct as
 * documented and not from the decoder's own table.
 */
export interface ThreadSpec {
  /** KTHREAD_STATE: 1 ready, 2 running, 5 waiting. */
  readonly state: number;
  /** KWAIT_REASON: 5 suspended, 6 user request, 15 WrQueue. */
  readonly waitReason: number;
}

export interface ProcessSpec {
  readonly pid: number;
  readonly ppid: number;
  /** Undefined for Idle, which has no name. */
  readonly name?: string;
  /** FILETIME, 100 ns since 1601. */
  readonly createTime: bigint;
  readonly userTime?: bigint;
  readonly kernelTime?: bigint;
  readonly threads: readonly ThreadSpec[];
  /** Overrides the thread count field (torn records disagree with their array). */
  readonly threadCountField?: number;
  readonly handles: number;
  readonly sessionId?: number;
  readonly virtualSize: bigint;
  readonly workingSet: bigint;
  readonly privateBytes: bigint;
  readonly pagedPool?: bigint;
  readonly nonPagedPool?: bigint;
  readonly basePriority?: number;
}

class Writer {
  readonly view: DataView;
  pos = 0;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  align(n: number) {
    this.pos = Math.ceil(this.pos / n) * n;
  }
  u16(v: number) {
    this.align(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number) {
    this.align(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }
  i32(v: number) {
    this.align(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: bigint) {
    this.align(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
  }
  i64(v: bigint) {
    this.align(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }
  ptr(v: bigint) {
    this.u64(v);
  }
}

/** Bytes and the address they pretend to sit at. */
export function buildProcessBuffer(
  processes: readonly ProcessSpec[],
  baseAddress = 0x0000_01f3_a2b4_0000n,
  size = 1 << 20,
): { buffer: Uint8Array; baseAddress: bigint; length: number } {
  const bytes = new Uint8Array(size);
  const w = new Writer(bytes);
  let start = 0;
  processes.forEach((p, index) => {
    w.pos = start;
    const nextAt = w.pos; // NextEntryOffset, patched below
    w.u32(0);
    w.u32(p.threadCountField ?? p.threads.length); // NumberOfThreads
    w.i64(BigInt(p.privateBytes)); // WorkingSetPrivateSize
    w.u32(0); // HardFaultCount
    w.u32(p.threads.length); // NumberOfThreadsHighWatermark
    w.u64(0n); // CycleTime
    w.i64(p.createTime); // CreateTime
    w.i64(p.userTime ?? 0n); // UserTime
    w.i64(p.kernelTime ?? 0n); // KernelTime
    const nameLengthAt = w.pos;
    w.u16(0); // ImageName.Length, patched below
    w.u16(0); // ImageName.MaximumLength
    const namePtrAt = (w.align(8), w.pos);
    w.ptr(0n); // ImageName.Buffer
    w.i32(p.basePriority ?? 8); // BasePriority
    w.ptr(BigInt(p.pid)); // UniqueProcessId
    w.ptr(BigInt(p.ppid)); // InheritedFromUniqueProcessId
    w.u32(p.handles); // HandleCount
    w.u32(p.sessionId ?? 0); // SessionId
    w.ptr(0n); // UniqueProcessKey
    w.u64(p.virtualSize + 4096n * 16n); // PeakVirtualSize
    w.u64(p.virtualSize); // VirtualSize
    w.u32(12_345); // PageFaultCount
    w.u64(p.workingSet + 4096n * 4n); // PeakWorkingSetSize
    w.u64(p.workingSet); // WorkingSetSize
    w.u64(p.pagedPool ?? 0n); // QuotaPeakPagedPoolUsage
    w.u64(p.pagedPool ?? 0n); // QuotaPagedPoolUsage
    w.u64(p.nonPagedPool ?? 0n); // QuotaPeakNonPagedPoolUsage
    w.u64(p.nonPagedPool ?? 0n); // QuotaNonPagedPoolUsage
    w.u64(p.privateBytes); // PagefileUsage
    w.u64(p.privateBytes); // PeakPagefileUsage
    w.u64(p.privateBytes); // PrivatePageCount
    for (let i = 0; i < 6; i++) w.i64(BigInt(1000 * (i + 1))); // IO_COUNTERS
    for (const [i, t] of p.threads.entries()) {
      w.i64(0n); // KernelTime
      w.i64(0n); // UserTime
      w.i64(p.createTime); // CreateTime
      w.u32(0); // WaitTime
      w.ptr(0x7ffe_1234_0000n); // StartAddress
      w.ptr(BigInt(p.pid)); // ClientId.UniqueProcess
      w.ptr(BigInt(p.pid + 4 * (i + 1))); // ClientId.UniqueThread
      w.i32(8); // Priority
      w.i32(8); // BasePriority
      w.u32(100); // ContextSwitches
      w.u32(t.state); // ThreadState
      w.u32(t.waitReason); // WaitReason
      w.align(8);
    }
    if (p.name !== undefined) {
      // The kernel writes the name after the thread array, inside the same entry.
      const nameAt = w.pos;
      for (const ch of p.name) w.u16(ch.charCodeAt(0));
      w.u16(0);
      w.view.setUint16(nameLengthAt, p.name.length * 2, true);
      w.view.setUint16(nameLengthAt + 2, p.name.length * 2 + 2, true);
      w.view.setBigUint64(namePtrAt, baseAddress + BigInt(nameAt), true);
    }
    w.align(8);
    if (index < processes.length - 1) w.view.setUint32(nextAt, w.pos - start, true);
    start = w.pos;
  });
  return { buffer: bytes, baseAddress, length: start };
}

/** FILETIME for a Unix time in ms. */
export const filetime = (unixMs: number): bigint => BigInt(unixMs) * 10_000n + 116_444_736_000_000_000n;

export const waiting = (n: number, reason = 6): ThreadSpec[] => Array.from({ length: n }, () => ({ state: 5, waitReason: reason }));
