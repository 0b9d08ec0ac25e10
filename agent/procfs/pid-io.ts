/** What /proc/PID/io says a process moved through the block layer, in bytes. */
export interface PidIo {
  /** Bytes this process caused to be fetched from storage (read_bytes). */
  readonly readBytes: number;
  /** Bytes this process caused to be sent to storage, counted when the page is dirtied (write_bytes). */
  readonly writeBytes: number;
}

/**
 * Parses /proc/PID/io. read_bytes and write_bytes are the storage figures (what loads a disk); rchar and
 * wchar also count reads served from the page cache and socket traffic, so they are not taken. A kernel
 * without task I/O accounting has no such lines: that is an error, not zero.
 */
export function parsePidIo(text: string): PidIo {
  let readBytes: number | undefined;
  let writeBytes: number | undefined;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    if (key !== 'read_bytes' && key !== 'write_bytes') continue;
    const value = Number(line.slice(colon + 1).trim());
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`io: bad ${key} "${line}"`);
    if (key === 'read_bytes') readBytes = value;
    else writeBytes = value;
  }
  if (readBytes === undefined || writeBytes === undefined) throw new Error('io: no read_bytes/write_bytes');
  return { readBytes, writeBytes };
}
