import { arch, hostname, platform, release, version } from 'node:os';
import { distroName, parseOsRelease } from '../procfs/os-release.js';
import { readProcFile } from '../procfs/read.js';
import { AGENT_VERSION } from '../version.js';
import type { CollectorSpec } from './collector.js';

/** Where os-release(5) says the distribution is described, in the order it says to look. */
const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'];

/** The distribution from the first os-release file that exists; undefined when none does. */
export function readDistro(paths = OS_RELEASE_PATHS): string | undefined {
  for (const path of paths) {
    try {
      return distroName(parseOsRelease(readProcFile(path)));
    } catch {
      // Absent or unreadable: the next one.
    }
  }
  return undefined;
}

/**
 * Host identity. On Linux the distribution comes from os-release, which every systemd-era
 * distribution has; systeminformation is the fallback for a host without one, loaded only then: once
 * imported, its 700 KB of source and compiled code stay in the heap for the agent's life, 1.6 MB of
 * resident memory for one label. On Windows the product name comes from Node (`os.version()`, the
 * registry's ProductName with the service pack): systeminformation would start four PowerShells
 * for it, and on a kernel before 10.0 writes to a PowerShell's stdin with no error handler, an
 * EPIPE that ends the agent when PowerShell is absent.
 */
export const hostInfoCollector: CollectorSpec = {
  name: 'host_info',
  description: 'Host and agent identity as labels of a constant',
  defaultEnabled: true,
  create: () => {
    const known = platform() === 'win32' ? version() : readDistro();
    let distro = known ?? '';
    const lookup = (known !== undefined ? Promise.resolve() : import('systeminformation').then((si) => si.default.osInfo()))
      .then((info) => {
        if (info) distro = [info.distro, info.release].filter(Boolean).join(' ');
      })
      .catch(() => undefined);
    // The first sample waits briefly for the look-up so the labels do not change after it.
    const ready = Promise.race([lookup, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    return {
      async update(sink) {
        await ready;
        sink.set(
          'contention_host_info',
          { os: platform(), kernel: release(), hostname: hostname(), arch: arch(), distro, agent_version: AGENT_VERSION },
          1,
        );
      },
    };
  },
};
