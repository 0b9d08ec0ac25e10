import { getconf } from './getconf.js';

/** /proc/PID/statm in bytes: the same counters /proc/PID/status prints, without the rest of that file. */
export interface PidStatm {
  /** VmSize. */
  readonly size: number;
  /** VmRSS: anonymous + file + shmem pages resident. */
  readonly resident: number;
  /** RssFile + RssShmem, so resident - shared is RssAnon. */
  readonly shared: number;
}

/** The size of a page, the unit of statm. */
export const pageSize = (): number => getconf('PAGESIZE', 4096);

export function parsePidStatm(text: string, page = pageSize()): PidStatm {
  const bytes = Buffer.from(text, 'latin1');
  return parsePidStatmBytes(bytes, bytes.length, page);
}

/** Parses the first three of statm's seven page counts; a process whose memory is gone reads all zeros. */
export function parsePidStatmBytes(buf: Buffer, length: number, page = pageSize()): PidStatm {
  const counts = scratch;
  counts[0] = counts[1] = counts[2] = 0;
  let field = 0;
  let digits = 0;
  for (let i = 0; i < length && field < 3; i++) {
    const d = buf[i]! - 48;
    if (d >= 0 && d <= 9) {
      counts[field] = counts[field]! * 10 + d;
      digits++;
    } else if (digits > 0 && buf[i] === 0x20) {
      field++;
      digits = 0;
    } else {
      break;
    }
  }
  if (digits > 0 && field < 3) field++;
  if (field < 3) throw new Error(`statm: ${field} numbers, expected at least 3`);
  return { size: counts[0]! * page, resident: counts[1]! * page, shared: counts[2]! * page };
}

const scratch = new Float64Array(3);
