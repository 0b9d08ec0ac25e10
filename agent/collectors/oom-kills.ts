import { join } from 'node:path';
import { readProcFile } from '../procfs/read.js';
import { vmstatCounter } from '../procfs/vmstat.js';
import { isAbsent, unsupported, type CollectorSpec } from './collector.js';

/**
 * Processes the kernel's OOM killer killed since boot (/proc/vmstat oom_kill, Linux 4.13+), host-wide
 * and in any cgroup. One file read per sample.
 */
export const oomKillsCollector: CollectorSpec = {
  name: 'oom_kills',
  description: 'Processes killed by the kernel OOM killer since boot',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      let text: string;
      try {
        text = readProcFile(join(procfs, 'vmstat'));
      } catch (err) {
        if (isAbsent(err)) throw unsupported(`${join(procfs, 'vmstat')} is absent`);
        throw err;
      }
      const kills = vmstatCounter(text, 'oom_kill');
      if (kills === undefined) throw unsupported('this kernel reports no oom_kill in /proc/vmstat (before 4.13)');
      sink.set('contention_oom_kills_total', {}, kills);
    },
  }),
};
