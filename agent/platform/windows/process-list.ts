/**
 * The native process list: NtQuerySystemInformation(SystemProcessInformation) into one reused
 * buffer, grown when the kernel says it is too small, then decoded by process-info.ts. The status
 * decision is pure (processBufferStep); the reader is thin. Windows only.
 */
import { loadWin32, type Out } from './ffi.js';
import { createGrowableBuffer } from './native-buffer.js';
import { decodeProcessInformation, type DecodedProcesses } from './process-info.js';

export const SYSTEM_PROCESS_INFORMATION = 5;
export const STATUS_SUCCESS = 0x0;
export const STATUS_INFO_LENGTH_MISMATCH = 0xc0000004;
export const STATUS_BUFFER_TOO_SMALL = 0xc0000023;

/** 256 KiB holds a few hundred processes; most hosts never grow past the first size. */
export const INITIAL_BUFFER_BYTES = 256 * 1024;
/** A bound on what a corrupt length could make the agent allocate (some 100,000 processes). */
export const MAX_BUFFER_BYTES = 256 * 1024 * 1024;
const ATTEMPTS = 5;

export type BufferStep =
  | { readonly kind: 'done' }
  | { readonly kind: 'grow'; readonly bytes: number }
  | { readonly kind: 'fail'; readonly reason: string };

/**
 * After one call: done, or a larger buffer to try. Processes start between two calls, so the new
 * size adds a quarter to what the kernel asked for (at least double the old size when it asked for
 * nothing), rounded up to 64 KiB.
 */
export function processBufferStep(status: number, currentBytes: number, returnedBytes: number, maxBytes = MAX_BUFFER_BYTES): BufferStep {
  const s = status >>> 0;
  if (s === STATUS_SUCCESS) return { kind: 'done' };
  if (s !== STATUS_INFO_LENGTH_MISMATCH && s !== STATUS_BUFFER_TOO_SMALL) {
    return { kind: 'fail', reason: `NtQuerySystemInformation failed: NTSTATUS 0x${s.toString(16).toUpperCase().padStart(8, '0')}` };
  }
  const wanted = returnedBytes > currentBytes ? Math.ceil(returnedBytes * 1.25) : currentBytes * 2;
  const bytes = Math.ceil(wanted / 65_536) * 65_536;
  if (bytes > maxBytes) return { kind: 'fail', reason: `the process list needs ${bytes} bytes, more than the ${maxBytes} allowed` };
  return { kind: 'grow', bytes };
}

export interface ProcessList {
  /** Every process now, decoded and validated. */
  read(now?: number): DecodedProcesses;
  close(): void;
}

export async function openProcessList(): Promise<ProcessList> {
  const api = await loadWin32();
  const buffers = createGrowableBuffer(api.koffi, INITIAL_BUFFER_BYTES);
  let closed = false;
  return {
    read(now = Date.now()) {
      if (closed) throw new Error('the process list reader is closed');
      let buffer = buffers.current();
      const returned: Out<number> = [0];
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const status = api.NtQuerySystemInformation(SYSTEM_PROCESS_INFORMATION, buffer.pointer, buffer.size, returned);
        const step = processBufferStep(status, buffer.size, returned[0]);
        if (step.kind === 'done') return decodeProcessInformation(buffer.bytes, { baseAddress: buffer.address, length: returned[0], now });
        if (step.kind === 'fail') throw new Error(step.reason);
        buffer = buffers.atLeast(step.bytes);
      }
      throw new Error(`the process list kept outgrowing its buffer over ${ATTEMPTS} attempts`);
    },
    close() {
      closed = true;
      buffers.free();
    },
  };
}
