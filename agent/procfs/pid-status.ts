import { decimalAt } from './decimal-bytes.js';

export interface PidStatus {
  /** Resident anonymous memory in bytes; absent for kernel threads and zombies. */
  readonly rssAnon?: number;
  readonly vmSwap?: number;
  readonly vmRss?: number;
  readonly vmSize?: number;
  readonly threads: number;
  /** Real user and group id. */
  readonly uid: number;
  readonly gid: number;
}

/** Parses the fields of /proc/PID/status the process table needs (sizes in bytes). */
export function parsePidStatus(text: string): PidStatus {
  const bytes = Buffer.from(text, 'latin1');
  return parsePidStatusBytes(bytes, bytes.length);
}

const KEYS = ['RssAnon', 'VmSwap', 'VmRSS', 'VmSize', 'Threads', 'Uid', 'Gid'].map((k) => Buffer.from(k, 'latin1'));
const [RSS_ANON, VM_SWAP, VM_RSS, VM_SIZE, THREADS, UID, GID] = [0, 1, 2, 3, 4, 5, 6];
const COLON = 0x3a;
const NEWLINE = 0x0a;
const values = new Float64Array(KEYS.length);

/**
 * The same, straight from the bytes the kernel wrote: the lines are matched by their key bytes and
 * the numbers read in place, so a status file of some fifty lines costs no string at all.
 */
export function parsePidStatusBytes(buf: Buffer, length: number): PidStatus {
  values.fill(Number.NaN);
  let found = 0;
  let seen = 0; // bit k set once KEYS[k] was read
  let start = 0;
  while (start < length && found < KEYS.length) {
    let colon = start;
    while (colon < length && buf[colon] !== COLON && buf[colon] !== NEWLINE) colon++;
    if (colon < length && buf[colon] === COLON) {
      const key = keyAt(buf, start, colon - start);
      if (key !== -1 && (seen & (1 << key)) === 0) {
        seen |= 1 << key;
        found++;
        values[key] = decimalAt(buf, skipBlanks(buf, colon + 1, length), length);
      }
    }
    let end = colon;
    while (end < length && buf[end] !== NEWLINE) end++;
    start = end + 1;
  }
  const has = (key: number): boolean => (seen & (1 << key)) !== 0;
  if (!has(THREADS) || !has(UID) || !has(GID)) throw new Error('status: no Threads/Uid/Gid lines');
  // Every field read is unsigned in the kernel: a sign or a missing digit is a malformed file, not a value.
  for (let k = 0; k < KEYS.length; k++) if (has(k) && !(values[k]! >= 0)) throw new Error(`status: ${KEYS[k]!.toString('latin1')} is not an unsigned number`);
  const kb = (key: number): number | undefined => (has(key) ? values[key]! * 1024 : undefined);
  return {
    rssAnon: kb(RSS_ANON),
    vmSwap: kb(VM_SWAP),
    vmRss: kb(VM_RSS),
    vmSize: kb(VM_SIZE),
    threads: values[THREADS]!,
    uid: values[UID]!,
    gid: values[GID]!,
  };
}

/** Which of KEYS the `length` bytes at `start` spell, or -1. */
function keyAt(buf: Buffer, start: number, length: number): number {
  next: for (let k = 0; k < KEYS.length; k++) {
    const key = KEYS[k]!;
    if (key.length !== length) continue;
    for (let i = 0; i < length; i++) if (buf[start + i] !== key[i]) continue next;
    return k;
  }
  return -1;
}

/** The index of the first byte at or after `start` that is not a space or a tab. */
function skipBlanks(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  return i;
}
