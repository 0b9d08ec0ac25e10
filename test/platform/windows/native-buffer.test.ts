import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { createGrowableBuffer } from '../../../agent/platform/windows/native-buffer.js';

// koffi allocates and maps memory the same way on every OS, so the buffer the Windows readers pass
// to the kernel is exercised here for real: what the decoders rely on is that the address is the
// memory the view reads.
describe('native buffers', () => {
  it('gives an address and a view of the same memory', () => {
    const buffers = createGrowableBuffer(koffi, 64);
    try {
      const b = buffers.current();
      expect(b.size).toBe(64);
      expect(b.bytes.byteLength).toBe(64);
      expect(b.address).toBeGreaterThan(0n);
      b.bytes.set([0x53, 0, 0x51, 0, 0x4c, 0, 0, 0], 8);
      // Read back through the pointer, not the view: the bytes are where the address says.
      expect(koffi.decode(b.pointer, 8, 'char16_t', -1)).toBe('SQL');
      expect(koffi.address(b.pointer)).toBe(b.address);
    } finally {
      buffers.free();
    }
  });

  it('is reused while large enough and reallocated when asked for more', () => {
    const buffers = createGrowableBuffer(koffi, 256);
    try {
      const first = buffers.current();
      expect(buffers.atLeast(200)).toBe(first);
      const grown = buffers.atLeast(100_000);
      expect(grown).not.toBe(first);
      expect(grown.size).toBe(100_000);
      grown.bytes[99_999] = 7;
      expect(koffi.decode(grown.pointer, 99_999, 'uint8_t')).toBe(7);
      expect(buffers.current()).toBe(grown);
    } finally {
      buffers.free();
    }
  });

  it('allocates again after being freed', () => {
    const buffers = createGrowableBuffer(koffi, 32);
    buffers.current();
    buffers.free();
    const again = buffers.current();
    expect(again.size).toBe(32);
    buffers.free();
  });
});
