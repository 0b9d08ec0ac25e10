import { arch, hostname, platform, release, version } from 'node:os';
import { AGENT_VERSION } from '../version.js';
import type { CollectorSpec } from './collector.js';

/**
 * Host identity. systeminformation supplies the Linux distribution once, in the background; it is
 * inventory, not sampling. On Windows the product name comes from Node (`os.version()`, the
 * registry's ProductName with the service pack): systeminformation would start four PowerShells
 * for it, and on a kernel before 10.0 writes to a PowerShell's stdin with no error handler, an
 * EPIPE that ends the agent when PowerShell is absent.
 */
export const hostInfoCollector: CollectorSpec = {
  name: 'host_info',
  description: 'Host and agent identity as labels of a constant',
  defaultEnabled: true,
  create: () => {
    let distro = platform() === 'win32' ? version() : '';
    // Loaded only here: it is a large library (3 MiB of resident memory) used once.
    const lookup = (platform() === 'win32' ? Promise.resolve() : import('systeminformation').then((si) => si.default.osInfo()))
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
