import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { makeDirs } from '../files/make-dirs.js';
import { join } from 'node:path';
import type { Point } from '../history/source.js';
import { PROC_FILE_MAX_BYTES } from '../procfs/read.js';
import { readBounded } from '../files/bounded-read.js';
import type { Violation } from './decide.js';

/** What one stop leaves behind, read from /proc just before the signal. */
const PROC_FILES = ['status', 'smaps_rollup', 'limits', 'cmdline', 'stat'] as const;

export interface EvidenceOptions {
  readonly dir: string;
  readonly procfs: string;
  /** Directories kept; the oldest are removed past this. */
  readonly keep: number;
}

/**
 * Writes a directory of evidence about a process about to be stopped: its /proc status,
 * smaps_rollup, limits, cmdline (NULs as spaces), open descriptor count, the decision, and the recent
 * history of the measure that tripped. Returns the directory. Files the kernel refuses are noted, not fatal.
 */
export function captureEvidence(opts: EvidenceOptions, violation: Violation, history: readonly Point[], now: number): string {
  const { subject } = violation;
  const name = `${new Date(now).toISOString().replace(/[:.]/g, '-')}-${subject.pid}-${violation.measure}`;
  const dir = join(opts.dir, name);
  makeDirs(dir, 0o750);
  const missing: Record<string, string> = {};
  for (const file of PROC_FILES) {
    try {
      let text = readBounded(join(opts.procfs, String(subject.pid), file), PROC_FILE_MAX_BYTES).toString('latin1');
      if (file === 'cmdline') text = `${text.replace(/\0+$/, '').split('\0').join(' ')}\n`;
      writeFileSync(join(dir, file), text);
    } catch (err) {
      missing[file] = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
  }
  let fds: number | undefined;
  try {
    fds = readdirSync(join(opts.procfs, String(subject.pid), 'fd')).length;
  } catch (err) {
    missing.fd = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  writeFileSync(join(dir, 'fd_count'), `${fds ?? ''}\n`);
  writeFileSync(join(dir, 'decision.json'), `${JSON.stringify({ ...violation, capturedAt: now, unreadable: missing }, null, 2)}\n`);
  writeFileSync(join(dir, 'history.json'), `${JSON.stringify({ measure: violation.measure, limit: violation.limit, points: history }, null, 2)}\n`);
  prune(opts);
  return dir;
}

function prune(opts: EvidenceOptions): void {
  // Names start with an ISO time, so name order is age order.
  const dirs = readdirSync(opts.dir).sort();
  for (const old of dirs.slice(0, Math.max(0, dirs.length - opts.keep))) rmSync(join(opts.dir, old), { recursive: true, force: true });
}
