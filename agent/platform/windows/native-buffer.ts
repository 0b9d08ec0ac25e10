import type { Koffi } from './ffi.js';

/**
 * Memory outside the JavaScript heap for calls that write pointers into their own output
 * (SYSTEM_PROCESS_INFORMATION's image names, PDH's instance names, TOKEN_USER's SID): the
 * decoders need the address the bytes sat at, and a JavaScript buffer may move. Grown on demand
 * and reused between calls; freed explicitly.
 */
export interface NativeBuffer {
  /** The pointer to pass to the API. */
  readonly pointer: object;
  /** Its address, for the decoders. */
  readonly address: bigint;
  /** The same memory, readable without a copy. Invalid after grow() or free(). */
  readonly bytes: Uint8Array;
  readonly size: number;
}

export interface GrowableBuffer {
  /** The buffer, at least `size` bytes (reallocated, contents dropped, when smaller). */
  atLeast(size: number): NativeBuffer;
  current(): NativeBuffer;
  free(): void;
}

export function createGrowableBuffer(koffi: Koffi, initialSize: number): GrowableBuffer {
  let buffer: NativeBuffer | undefined;
  const allocate = (size: number): NativeBuffer => {
    const pointer = koffi.alloc('uint8_t', size) as object;
    return { pointer, address: koffi.address(pointer), bytes: new Uint8Array(koffi.view(pointer, size)), size };
  };
  const release = (): void => {
    if (buffer) koffi.free(buffer.pointer);
    buffer = undefined;
  };
  return {
    atLeast(size) {
      if (buffer && buffer.size >= size) return buffer;
      release();
      buffer = allocate(Math.max(size, initialSize));
      return buffer;
    },
    current() {
      buffer ??= allocate(initialSize);
      return buffer;
    },
    free: release,
  };
}
