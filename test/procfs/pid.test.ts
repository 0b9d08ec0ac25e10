import { describe, expect, it } from 'vitest';
import { parseIdNames } from '../../agent/procfs/passwd.js';
import { isKernelThread, parsePidStat } from '../../agent/procfs/pid-stat.js';
import { parsePidStatus } from '../../agent/procfs/pid-status.js';

const STAT = '4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1520 0 0 0 321 45 0 0 20 0 7 0 123456 1073741824 5120 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';
const KTHREAD = '57 (kworker/1:1-events) I 2 0 0 0 -1 69238880 0 0 0 0 0 12 0 0 20 0 1 0 300 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 0 0 0 0';

describe('parsePidStat', () => {
  it('reads a name holding spaces and parentheses by counting from the last ")"', () => {
    expect(parsePidStat(STAT)).toEqual({
      pid: 4242, comm: 'my (odd) proc', state: 'S', ppid: 1, flags: 4194560,
      utime: 321, stime: 45, numThreads: 7, startTicks: 123456, vsize: 1073741824,
    });
  });
  it('knows a kernel thread by its flag or its parent kthreadd', () => {
    expect(isKernelThread(parsePidStat(KTHREAD))).toBe(true);
    expect(isKernelThread(parsePidStat(STAT))).toBe(false);
  });
  it('refuses truncated text', () => {
    expect(() => parsePidStat('12 (x) S 1 2')).toThrow(/fields/);
  });
});

describe('parsePidStatus', () => {
  it('reads memory in bytes, threads and real ids', () => {
    const s = parsePidStatus('Name:\tnode\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\nVmSize:\t 1048576 kB\nVmRSS:\t   51200 kB\nRssAnon:\t   40960 kB\nVmSwap:\t    1024 kB\nThreads:\t11\n');
    expect(s).toEqual({ rssAnon: 40960 * 1024, vmSwap: 1024 * 1024, vmRss: 51200 * 1024, vmSize: 1048576 * 1024, threads: 11, uid: 1000, gid: 100 });
  });
  it('leaves memory absent for a kernel thread or a zombie', () => {
    const s = parsePidStatus('Name:\tkworker\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n');
    expect(s.vmRss).toBeUndefined();
    expect(s.threads).toBe(1);
  });
});

describe('parseIdNames', () => {
  it('maps ids to names, first entry wins, comments skipped', () => {
    const names = parseIdNames('# users\nroot:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\ndup:x:33:33::/:/bin/sh\n');
    expect(names.get(0)).toBe('root');
    expect(names.get(33)).toBe('www-data');
  });
});
