import { join } from 'node:path';
import { readProcFile } from '../procfs/read.js';
import { parseStat } from '../procfs/stat.js';
import type { Named } from './groups.js';
import { createProcfsFdLimits, type FdLimitReader } from './fd-limits.js';
import { createIdNames } from './id-names.js';
import { createTableReader, type RawProcess, type ReadErrorReason, type TableReadOptions } from './read-table.js';

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
  /** `always`: pids to read afresh even where the source would carry a quiet process's row over. */
  read(opts?: TableReadOptions): Promise<ProcessSourceReading>;
  /** The open-descriptor limits of the processes that could be near theirs. */
  readonly fdLimits?: FdLimitReader;
  stop?(): void;
}

/**
 * /proc/PID/{stat,status,fd,exe,cmdline}, user and group names from /etc/passwd and /etc/group. A
 * quiet process is read again every `quietEvery` samples (read-table.ts); its named row is the same
 * object while it is carried over, so nothing downstream pays for it twice.
 */
export function createProcfsSource(procfs: string, quietEvery = 1): ProcessSource {
  let bootTime: number | undefined;
  const reader = createTableReader(procfs, () => (bootTime ??= parseStat(readProcFile(join(procfs, 'stat'))).bootTime), quietEvery);
  const names = createIdNames();
  // By pid, the raw row and its named copy: a carried row (the same object) keeps its copy. A Map by
  // pid, not a WeakMap by row, which V8's collector pays for on every mark; updated in place and swept
  // of pids gone, not rebuilt each reading.
  const named = new Map<number, { raw: RawProcess; row: Named; readingNo: number }>();
  let readingNo = 0;
  return {
    fdLimits: createProcfsFdLimits(procfs),
    async read(opts) {
      const { rows, errors } = await reader.read(opts);
      if (names.refresh()) named.clear();
      const now = ++readingNo;
      const out = rows.map((p) => {
        let entry = named.get(p.pid);
        if (entry === undefined || entry.raw !== p) named.set(p.pid, (entry = { raw: p, row: withNames(p, names.user(p.uid), names.group(p.gid)), readingNo: now }));
        else entry.readingNo = now;
        return entry.row;
      });
      if (named.size > out.length) named.forEach((e, pid) => e.readingNo !== now && named.delete(pid));
      return { rows: out, errors };
    },
  };
}

/**
 * A row with its user and group names: in place on a row just read (nothing downstream has it yet),
 * a copy of one named before (the names changed), so a published row never changes.
 */
function withNames(p: RawProcess, user: string, group: string): Named {
  if ((p as Partial<Named>).user !== undefined) return { ...p, user, group };
  const row = p as RawProcess & { user?: string; group?: string };
  row.user = user;
  row.group = group;
  return row as Named;
}
