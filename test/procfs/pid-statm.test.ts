import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePidStatm } from '../../agent/procfs/pid-statm.js';
import { parsePidStatus } from '../../agent/procfs/pid-status.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';

afterAll(killAllChildren);

describe('parsePidStatm', () => {
  it('reads size, resident and shared pages in bytes', () => {
    expect(parsePidStatm('765 409 381 5 0 123 0\n', 4096)).toEqual({ size: 765 * 4096, resident: 409 * 4096, shared: 381 * 4096 });
  });
  it('reads all zeros for a process whose memory is gone', () => {
    expect(parsePidStatm('0 0 0 0 0 0 0\n', 4096).size).toBe(0);
  });
  it('refuses text with fewer than three numbers', () => {
    expect(() => parsePidStatm('12 34\n', 4096)).toThrow(/numbers/);
  });
  it('gives the counters status prints: resident minus shared is RssAnon', async () => {
    // An idle child, so that nothing moves between the two reads (a settling GC may; then read again).
    const child = await startChild(SCRIPTS.idle());
    try {
      const pairs = [];
      for (let i = 0; i < 10; i++) {
        const statm = parsePidStatm(readFileSync(`/proc/${child.pid}/statm`, 'latin1'));
        const status = parsePidStatus(readFileSync(`/proc/${child.pid}/status`, 'latin1'));
        pairs.push([statm.resident - statm.shared, statm.resident, statm.size, status.rssAnon, status.vmRss, status.vmSize]);
      }
      expect(pairs.some(([anon, rss, size, rssAnon, vmRss, vmSize]) => anon === rssAnon && rss === vmRss && size === vmSize)).toBe(true);
    } finally {
      child.kill();
    }
  });
});
