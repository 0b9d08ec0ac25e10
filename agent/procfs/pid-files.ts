import { closeSync, openSync, readSync } from 'node:fs';
import { TooLargeError } from '../files/bounded-read.js';
import { PROC_FILE_MAX_BYTES } from './read.js';

// One buffer for every per-process file: each is parsed before the next is read.
let buffer = Buffer.allocUnsafe(16 * 1024);

/**
 * Reads a /proc/PID file whole into a shared buffer and returns it with the length read; valid until
 * the next call. The process table calls this twice per process per sample, so it returns bytes,
 * not a string, and stops at the first short read: the kernel writes these files (seq_file, one
 * record) in one go, so a read that did not fill the buffer has everything (a regular file, as in a
 * recorded procfs, behaves the same).
 */
export function readPidFile(path: string): { buffer: Buffer; length: number } {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      const room = buffer.length - length;
      const n = readSync(fd, buffer, length, room, null);
      length += n;
      if (n < room) break;
      if (length > PROC_FILE_MAX_BYTES) throw new TooLargeError(path, PROC_FILE_MAX_BYTES);
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, length);
      buffer = bigger;
    }
    return { buffer, length };
  } finally {
    closeSync(fd);
  }
}
