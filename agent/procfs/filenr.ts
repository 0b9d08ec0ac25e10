export interface FileNr {
  readonly allocated: number;
  /** Allocated but unused handles; always 0 since Linux 2.6. */
  readonly unused: number;
  readonly max: number;
}

/** /proc/sys/fs/file-nr: "allocated unused max". */
export function parseFileNr(text: string): FileNr {
  const parts = text.trim().split(/\s+/).map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n))) {
    throw new Error(`file-nr: expected three numbers, got ${JSON.stringify(text.trim())}`);
  }
  return { allocated: parts[0]!, unused: parts[1]!, max: parts[2]! };
}

/** A file holding one integer, such as /proc/sys/kernel/pid_max. */
export function parseInteger(text: string, what: string): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value)) throw new Error(`${what}: expected an integer, got ${JSON.stringify(text.trim())}`);
  return value;
}
