import { join } from 'node:path';
import { collectLocalPorts, parsePortRange } from '../procfs/net-tcp.js';
import { readProcFile } from '../procfs/read.js';
import type { CollectorSpec } from './collector.js';

/**
 * Ephemeral TCP ports in use against ip_local_port_range: when every port of the range is taken
 * (often by TIME_WAIT after a burst of short connections to one backend), connect() fails with
 * EADDRNOTAVAIL. Counts distinct local ports in the range over /proc/net/tcp and tcp6, whatever the
 * socket's state: the figure that runs out for connections to one destination. Reads the two socket
 * tables whole: about 150 bytes per socket (see docs/performance.md). Kernel table "ephemeral_ports".
 */
export const ephemeralPortsCollector: CollectorSpec = {
  name: 'ephemeral_ports',
  description: 'Local TCP ports in use within ip_local_port_range',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      const { low, high } = parsePortRange(readProcFile(join(procfs, 'sys/net/ipv4/ip_local_port_range')));
      const ports = new Set<number>();
      let tables = 0;
      for (const file of ['net/tcp', 'net/tcp6']) {
        try {
          collectLocalPorts(readProcFile(join(procfs, file)), low, high, ports);
          tables++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // no IPv6: one table
        }
      }
      if (tables === 0) throw new Error('no /proc/net/tcp or tcp6');
      const size = high - low + 1;
      sink.set('contention_kernel_table_size_entries', { table: 'ephemeral_ports' }, size);
      sink.set('contention_kernel_table_free_entries', { table: 'ephemeral_ports' }, size - ports.size);
    },
  }),
};
