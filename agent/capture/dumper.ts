/** A process to dump: the pid, and when known the start time (Unix ms) it must still have, since pids are reused. */
export interface DumpTarget {
  readonly pid: number;
  readonly startTime?: number;
}

export type DumpResult =
  | { readonly ok: true; readonly file: string }
  | { readonly ok: false; readonly outcome: 'not_possible' | 'gone' | 'mismatch' | 'failed'; readonly reason: string };

/** Sizes the agent weighs before a dump: the process's memory, and the dump file it would write. */
export interface DumpSize {
  /** Private bytes: what max_process_bytes limits. */
  readonly processBytes: number;
  /** Bytes the dump file will take. */
  readonly dumpBytes: number;
}

/**
 * The platform's process dumper: gcore on Linux, MiniDumpWriteDump on Windows. Each takes the dump
 * while the process keeps running (it pauses while its memory is copied) and writes one file.
 */
export interface ProcessDumper {
  /** File name extension of its dumps. */
  readonly extension: 'core' | 'dmp';
  /** Why no dump can be taken here at all (no gdb, no dbghelp), or undefined when one can. */
  unavailable(): Promise<string | undefined>;
  /** How big the process and its dump are; undefined when the process is gone. */
  size(target: DumpTarget, known?: { privateBytes: number }): DumpSize | undefined;
  /** Writes the dump to `file` (which must not exist); gives up after `timeoutMs`, removing what it wrote. */
  dump(target: DumpTarget, file: string, timeoutMs: number): Promise<DumpResult>;
}
