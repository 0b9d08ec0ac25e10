import { closeSync, fstatSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirs } from '../files/make-dirs.js';
import type { CaptureRecord } from '../capture/capture.js';
import type { LimitAction, Subject, Violation } from './decide.js';

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

interface Common {
  /** Unix ms. */
  readonly time: number;
  readonly policy: string;
  readonly criteria: string;
  /** What the action came to: the exported `outcome` label value. */
  readonly outcome: string;
  readonly dryRun: boolean;
}

/** One recorded policy decision: what the audit log writes, the page lists and the Windows event log reports. */
export type AuditEntry =
  | { readonly kind: 'activate'; readonly time: number; readonly policy: string; readonly cron: string; readonly from: string | null }
  | (Common & {
      readonly kind: 'limit';
      readonly action: LimitAction;
      readonly violation: Violation;
      readonly reason?: string;
      readonly evidence?: string;
      readonly graceSeconds?: number;
      readonly cgroup?: string;
    })
  | (Common & {
      readonly kind: 'priority';
      readonly action: 'lower_priority' | 'restore_priority';
      readonly subject: Subject;
      readonly nice: number;
      readonly originalNice?: number;
      /** Busy share of all CPUs; null when unknown, absent for a restore at shutdown. */
      readonly cpu?: number | null;
      readonly shutdown?: boolean;
    })
  | (Common & {
      /** A process dump, before a stop (policy and criteria set) or at a first leak flag (policy ''). */
      readonly kind: 'capture';
      readonly action: 'capture';
      readonly capture: CaptureRecord;
    })
  | (Common & {
      readonly kind: 'cpu_weight';
      readonly action: 'set_cpu_weight' | 'restore_cpu_weight';
      readonly cgroup: string;
      readonly weight: number;
      readonly originalWeight?: number;
      readonly cpu?: number | null;
      readonly shutdown?: boolean;
    });

export const actionOf = (e: AuditEntry): string => (e.kind === 'activate' ? 'activate' : e.action);
export const outcomeOf = (e: AuditEntry): string => (e.kind === 'activate' ? 'switched' : e.outcome);

/** Who and what an entry is about: the process (or, for a cgroup, its path) and the measure. */
export function aboutOf(e: AuditEntry): { readonly pid: number; readonly name: string; readonly measure: string } {
  if (e.kind === 'limit') return { pid: e.violation.subject.pid, name: e.violation.subject.name, measure: e.violation.measure };
  if (e.kind === 'priority') return { pid: e.subject.pid, name: e.subject.name, measure: 'cpu' };
  if (e.kind === 'cpu_weight') return { pid: 0, name: e.cgroup, measure: 'cpu' };
  if (e.kind === 'capture') return { pid: e.capture.pid, name: e.capture.name, measure: e.capture.trigger };
  return { pid: 0, name: '', measure: 'cpu' };
}

/** The audit log's JSON line for an entry (field names are the log's format; keep them stable). */
export function auditLine(e: AuditEntry): Record<string, unknown> {
  const time = new Date(e.time).toISOString();
  if (e.kind === 'activate') return { time, policy: e.policy, criteria: '', action: 'activate', outcome: 'switched', cron: e.cron, from: e.from };
  const head = { time, policy: e.policy, criteria: e.criteria, action: e.action, outcome: e.outcome, dry_run: e.dryRun };
  if (e.kind === 'limit') {
    const v = e.violation;
    return {
      ...head, pid: v.subject.pid, start_time: v.subject.startTime, exe: v.subject.exe, measure: v.measure, value: v.value, limit: v.limit,
      exceeded_since: new Date(v.since).toISOString(), reason: e.reason, evidence: e.evidence, grace_seconds: e.graceSeconds, cgroup: e.cgroup,
      process: v.subject.name, user: v.subject.user,
    };
  }
  if (e.kind === 'capture') {
    const c = e.capture;
    return {
      ...head, pid: c.pid, start_time: c.startTime, trigger: c.trigger, reason: c.reason, evidence: c.dir, file: c.file, bytes: c.bytes,
      seconds: c.seconds, pruned: c.pruned.length > 0 ? c.pruned : undefined, process: c.name,
    };
  }
  const cpu = e.cpu === undefined ? {} : { cpu_utilization: e.cpu };
  const shutdown = e.shutdown ? { reason: 'shutdown' } : {};
  if (e.kind === 'priority') {
    const s = e.subject;
    const where = e.shutdown ? { pid: s.pid } : { pid: s.pid, start_time: s.startTime, exe: s.exe };
    return { ...head, ...where, nice: e.nice, original_nice: e.originalNice, ...cpu, ...shutdown, process: s.name, user: s.user };
  }
  return { ...head, cgroup: e.cgroup, weight: e.weight, original_weight: e.originalWeight, ...cpu, ...shutdown };
}
