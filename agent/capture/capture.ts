import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { statfsFree } from '../platform/linux/capture-facts.js';
import type { DumpTarget, ProcessDumper } from './dumper.js';
import { planDump } from './plan.js';
import { dumpFileName, listKeptDumps, removeDumps } from './store.js';

/** Why a dump was taken. */
export type CaptureTrigger = 'on_demand' | 'before_stop' | 'leak';
export type CaptureOutcome = 'captured' | 'refused' | 'not_possible' | 'gone' | 'mismatch' | 'failed';

/** One capture, as audited, listed on the page and kept in its evidence directory. */
export interface CaptureRecord {
  readonly time: number;
  readonly trigger: CaptureTrigger;
  readonly pid: number;
  readonly name: string;
  readonly startTime?: number;
  /** The criteria group (leak) or policy criteria (stop) it was taken for. */
  readonly criteria?: string;
  readonly outcome: CaptureOutcome;
  readonly reason?: string;
  /** The evidence directory, and the dump in it when one was written. */
  readonly dir: string;
  readonly file?: string;
  readonly bytes?: number;
  readonly seconds?: number;
  /** Older dumps removed to stay within capture.max_dumps and capture.max_bytes. */
  readonly pruned: readonly string[];
}

export interface CaptureRequest {
  readonly target: DumpTarget;
  readonly name: string;
  readonly trigger: CaptureTrigger;
  readonly criteria?: string;
  /** The evidence directory this dump belongs in (created when missing). */
  readonly dir: string;
  /** Private bytes from the process table, when the caller has it. */
  readonly known?: { readonly privateBytes: number };
}

export interface Capturer {
  /** Takes one dump within the configured bounds; dumps run one at a time. Never throws. */
  capture(req: CaptureRequest): Promise<CaptureRecord>;
}

export interface CapturerOptions {
  readonly config: () => Config;
  readonly dumper: ProcessDumper;
  readonly freeBytes?: (dir: string) => number | undefined;
  readonly now?: () => number;
}

/** The bounded capture edge around a platform dumper: sizes, plans against the kept dumps and the disk, prunes, dumps. */
export function createCapturer(opts: CapturerOptions): Capturer {
  const now = opts.now ?? Date.now;
  const freeBytes = opts.freeBytes ?? statfsFree;
  let queue: Promise<unknown> = Promise.resolve();

  const once = async (req: CaptureRequest): Promise<CaptureRecord> => {
    const c = opts.config().capture;
    const started = now();
    const base = { time: started, trigger: req.trigger, pid: req.target.pid, name: req.name, ...(req.target.startTime !== undefined ? { startTime: req.target.startTime } : {}), ...(req.criteria ? { criteria: req.criteria } : {}), dir: req.dir };
    const done = (outcome: CaptureOutcome, fields: Partial<CaptureRecord> = {}): CaptureRecord => ({ ...base, outcome, pruned: [], ...fields });
    // The directory holds the rest of the evidence even when no dump can be written.
    mkdirSync(req.dir, { recursive: true, mode: 0o750 });
    const unavailable = await opts.dumper.unavailable();
    if (unavailable) return done('not_possible', { reason: unavailable });
    const size = opts.dumper.size(req.target, req.known);
    if (!size) return done('gone', { reason: `pid ${req.target.pid} is gone` });
    const root = opts.config().enforcement.evidence_dir;
    const free = freeBytes(req.dir);
    if (free === undefined) return done('failed', { reason: `free space at ${req.dir} cannot be read` });
    const plan = planDump(size, listKeptDumps(root), free, { maxProcessBytes: c.max_process_bytes, maxDumps: c.max_dumps, maxBytes: c.max_bytes, minFreeBytes: c.min_free_bytes });
    if (!plan.go) return done('refused', { reason: `${plan.reason}: ${plan.detail}` });
    const stuck = removeDumps(plan.prune);
    if (stuck.length > 0) return done('refused', { reason: `disk_full: ${stuck.length} older dump(s) could not be removed to make room (${stuck.map((d) => d.path).join(', ')})` });
    const pruned = plan.prune.map((d) => d.path);
    const file = join(req.dir, dumpFileName(req.target.pid, opts.dumper.extension));
    const result = await opts.dumper.dump(req.target, file, c.timeout * 1000);
    const seconds = (now() - started) / 1000;
    if (!result.ok) return done(result.outcome, { reason: result.reason, pruned, seconds });
    let bytes: number | undefined;
    try {
      bytes = statSync(result.file).size;
    } catch {
      bytes = undefined;
    }
    return done('captured', { file: result.file, bytes, seconds, pruned });
  };

  return {
    capture(req) {
      const run = queue.then(() => once(req)).catch((err: Error) => ({ time: now(), trigger: req.trigger, pid: req.target.pid, name: req.name, dir: req.dir, outcome: 'failed' as const, reason: err.message, pruned: [] }));
      queue = run;
      return run;
    },
  };
}

/** The platform's dumper, chosen once. */
export async function createPlatformDumper(config: Config, platform: NodeJS.Platform = process.platform): Promise<ProcessDumper> {
  if (platform === 'win32') {
    const { createMiniDumper } = await import('../platform/windows/minidump.js');
    return createMiniDumper(config.capture.with_memory);
  }
  const { createGcoreDumper } = await import('../platform/linux/gcore.js');
  return createGcoreDumper(config.paths.procfs);
}
