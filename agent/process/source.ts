import { join } from 'node:path';
import { readProcFile } from '../procfs/read.js';
import { parseStat } from '../procfs/stat.js';
import type { Named } from './groups.js';
import { createProcfsFdLimits, type FdLimitReader } from './fd-limits.js';
import { createIdNames } from './id-names.js';
import { createTableReader, type ReadErrorReason } from './read-table.js';

/** Identity fields an OS may refuse to tell while still listing the process. */
export type IdentityField = 'user' | 'exe' | 'cmdline';

/** One reading of every process, before grouping. */
export interface ProcessSourceReading {
  readonly rows: readonly Named[];
  /** Processes skipped, by reason, in this reading. */
  readonly errors: ReadonlyMap<ReadErrorReason, number>;
  /** Processes kept whose user or executable the OS refused to tell, counted once per process. */
  readonly unreadable?: ReadonlyMap<IdentityField, number>;
}

/**
 * Where the processes collector gets its table: /proc on Linux, the native process list on
 * Windows. Grouping, top K and export are the same code for both.
 */
export interface ProcessSource {
  read(): Promise<ProcessSourceReading>;
  /** The open-descriptor limits of the processes that could be near theirs. */
  readonly fdLimits?: FdLimitReader;
  stop?(): void;
}

/** /proc/PID/{stat,status,fd,exe,cmdline}, user and group names from /etc/passwd and /etc/group. */
export function createProcfsSource(procfs: string): ProcessSource {
  let bootTime: number | undefined;
  const reader = createTableReader(procfs, () => (bootTime ??= parseStat(readProcFile(join(procfs, 'stat'))).bootTime));
  const names = createIdNames();
  return {
    fdLimits: createProcfsFdLimits(procfs),
    async read() {
      const { rows, errors } = await reader.read();
      names.refresh();
      // The new keys go before the spread: after it, V8 leaves its fast object-clone path (5x slower here).
      return { rows: rows.map((p) => ({ user: names.user(p.uid), group: names.group(p.gid), ...p })), errors };
    },
  };
}
