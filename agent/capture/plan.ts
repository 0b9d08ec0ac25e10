import { formatBytes } from '../text/bytes.js';
import type { DumpSize } from './dumper.js';

/** A dump already kept in an evidence directory. */
export interface KeptDump {
  readonly path: string;
  readonly bytes: number;
  /** Unix ms it was written. */
  readonly time: number;
}

export interface DumpLimits {
  readonly maxProcessBytes: number;
  readonly maxDumps: number;
  readonly maxBytes: number;
  readonly minFreeBytes: number;
}

export type DumpPlan =
  | { readonly go: true; readonly prune: readonly KeptDump[] }
  | { readonly go: false; readonly reason: 'process_too_large' | 'dump_too_large' | 'disk_full'; readonly detail: string };

/**
 * Whether a dump may be taken and which kept dumps go first to make room: never a process above
 * max_process_bytes; at most max_dumps and max_bytes kept, the oldest pruned; and never below
 * min_free_bytes on the disk. Refusing prunes nothing.
 */
export function planDump(size: DumpSize, kept: readonly KeptDump[], freeBytes: number, limits: DumpLimits): DumpPlan {
  if (size.processBytes > limits.maxProcessBytes) {
    return { go: false, reason: 'process_too_large', detail: `the process holds ${formatBytes(size.processBytes)}, above capture.max_process_bytes (${formatBytes(limits.maxProcessBytes)})` };
  }
  if (size.dumpBytes > limits.maxBytes) {
    return { go: false, reason: 'dump_too_large', detail: `its dump would take ${formatBytes(size.dumpBytes)}, above capture.max_bytes (${formatBytes(limits.maxBytes)})` };
  }
  const oldestFirst = [...kept].sort((a, b) => a.time - b.time);
  let total = oldestFirst.reduce((n, d) => n + d.bytes, 0);
  const prune: KeptDump[] = [];
  while (oldestFirst.length > 0 && (oldestFirst.length >= limits.maxDumps || total + size.dumpBytes > limits.maxBytes)) {
    const old = oldestFirst.shift()!;
    prune.push(old);
    total -= old.bytes;
  }
  const freed = prune.reduce((n, d) => n + d.bytes, 0);
  if (freeBytes + freed - size.dumpBytes < limits.minFreeBytes) {
    return {
      go: false, reason: 'disk_full',
      detail: `its dump (${formatBytes(size.dumpBytes)}) would leave ${formatBytes(Math.max(0, freeBytes + freed - size.dumpBytes))} free, under capture.min_free_bytes (${formatBytes(limits.minFreeBytes)})`,
    };
  }
  return { go: true, prune };
}
