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
  let rssAnon: number | undefined;
  let vmSwap: number | undefined;
  let vmRss: number | undefined;
  let vmSize: number | undefined;
  let threads: number | undefined;
  let uid: number | undefined;
  let gid: number | undefined;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon !== -1 && colon < end) {
      const key = text.slice(start, colon);
      const rest = text.slice(colon + 1, end);
      switch (key) {
        case 'RssAnon': rssAnon = kb(rest); break;
        case 'VmSwap': vmSwap = kb(rest); break;
        case 'VmRSS': vmRss = kb(rest); break;
        case 'VmSize': vmSize = kb(rest); break;
        case 'Threads': threads = Number(rest.trim()); break;
        case 'Uid': uid = Number(rest.trim().split(/\s+/)[0]); break;
        case 'Gid': gid = Number(rest.trim().split(/\s+/)[0]); break;
      }
    }
    start = end + 1;
  }
  if (threads === undefined || uid === undefined || gid === undefined) throw new Error('status: no Threads/Uid/Gid lines');
  return { rssAnon, vmSwap, vmRss, vmSize, threads, uid, gid };
}

function kb(rest: string): number {
  return Number.parseInt(rest.trim(), 10) * 1024;
}
