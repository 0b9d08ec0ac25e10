import { closeSync, openSync, readSync } from 'node:fs';
import { formatBytes } from '../text/bytes.js';

/** A file longer than the agent will read from it: a device such as /dev/zero, or a file grown by mistake. */
export class TooLargeError extends Error {
  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    super(`${path} is larger than ${formatBytes(maxBytes)}, the most the agent reads from it`);
    this.name = 'TooLargeError';
  }
}

/** The most read from any one config, web config, rule or certificate file: real ones are a few KiB. */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/**
 * Reads a file whole, but never more than `maxBytes`: a path that names a device, a fifo or a file
 * that never ends throws TooLargeError after maxBytes + 1 bytes instead of filling memory. Sizes from
 * stat cannot be trusted for this (/proc files and /dev/zero report 0).
 */
export function readBounded(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw new TooLargeError(path, maxBytes);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
