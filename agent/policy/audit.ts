import { closeSync, fstatSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirs } from '../files/make-dirs.js';

export interface AuditOptions {
  readonly path: string;
  /** Size past which the file is rotated. */
  readonly maxBytes: number;
  /** Rotated files kept (`path.1` newest). */
  readonly keep: number;
}

export interface AuditLog {
  /** Appends one JSON line and fsyncs it before returning; throws when the disk refuses. */
  write(entry: Readonly<Record<string, unknown>>): void;
  close(): void;
}

/**
 * The policy audit trail: one JSON line per decision, on disk before the action it records is taken,
 * rotated by size so that it holds at most (keep + 1) x maxBytes.
 */
export function openAuditLog(opts: AuditOptions): AuditLog {
  let fd: number | undefined;
  let size = 0;
  const open = (): number => {
    if (fd === undefined) {
      makeDirs(dirname(opts.path));
      fd = openSync(opts.path, 'a', 0o640);
      size = fstatSync(fd).size;
    }
    return fd;
  };
  const rotate = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    rmSync(`${opts.path}.${opts.keep}`, { force: true });
    for (let i = opts.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${opts.path}.${i}`, `${opts.path}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (opts.keep > 0) renameSync(opts.path, `${opts.path}.1`);
    else rmSync(opts.path, { force: true });
  };
  return {
    write(entry) {
      const line = Buffer.from(`${JSON.stringify(entry)}\n`);
      open();
      if (size > 0 && size + line.length > opts.maxBytes) rotate();
      const target = open();
      writeSync(target, line);
      fsyncSync(target);
      size += line.length;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
