import { arch, hostname, platform, release } from 'node:os';
import si from 'systeminformation';
import { AGENT_VERSION } from '../version.js';
import type { CollectorSpec } from './collector.js';

/** Host identity. systeminformation supplies the distribution once, in the background; it is inventory, not sampling. */
export const hostInfoCollector: CollectorSpec = {
  name: 'host_info',
  description: 'Host and agent identity as labels of a constant',
  defaultEnabled: true,
  create: () => {
    let distro = '';
    const lookup = si
      .osInfo()
      .then((info) => {
        distro = [info.distro, info.release].filter(Boolean).join(' ');
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
