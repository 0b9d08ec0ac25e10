import { join } from 'node:path';
import { collectLocalPorts, parsePortRange } from '../procfs/net-tcp.js';
import { readProcFile } from '../procfs/read.js';
import { isAbsent, unsupported, type CollectorSpec } from './collector.js';

/** While less than this share of the range is in use, the socket tables are read every RELAXED_EVERY samples only. */
const RELAXED_BELOW = 0.5;
const RELAXED_EVERY = 6;

/**
 * Ephemeral TCP ports in use against ip_local_port_range: when every port of the range is taken
 * (often by TIME_WAIT after a burst of short connections to one backend), connect() fails with
 * EADDRNOTAVAIL. Counts distinct local ports in the range over /proc/net/tcp and tcp6, whatever the
 * socket's state: the figure that runs out for connections to one destination. Kernel table
 * "ephemeral_ports".
 *
 * The kernel makes those files by walking its whole socket hash (sized by memory, not by sockets), so a
 * read costs milliseconds even on an idle host (docs/performance.md). While under half the range is in
 * use the tables are read every RELAXED_EVERY samples and the last count is exported between; from half
 * on, every sample. A range fills over minutes, not within one sample.
 */
export const ephemeralPortsCollector: CollectorSpec = {
  name: 'ephemeral_ports',
  description: 'Local TCP ports in use within ip_local_port_range',
  defaultEnabled: true,
  create: ({ procfs }) => {
    let last: { size: number; used: number; low: number; high: number } | undefined;
    let age = 0;
    return {
    update(sink) {
      let range: string;
      try {
        range = readProcFile(join(procfs, 'sys/net/ipv4/ip_local_port_range'));
      } catch (err) {
        if (isAbsent(err)) throw unsupported('no ip_local_port_range: this host has no IPv4 stack in /proc');
        throw err;
      }
      const { low, high } = parsePortRange(range);
      age++;
      const relaxed = last !== undefined && last.low === low && last.high === high && last.used / last.size < RELAXED_BELOW && age < RELAXED_EVERY;
      if (relaxed) {
        sink.set('contention_kernel_table_size_entries', { table: 'ephemeral_ports' }, last!.size);
        sink.set('contention_kernel_table_free_entries', { table: 'ephemeral_ports' }, last!.size - last!.used);
        return;
      }
      age = 0;
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
      if (tables === 0) throw unsupported('no /proc/net/tcp or tcp6');
      const size = high - low + 1;
      last = { size, used: ports.size, low, high };
      sink.set('contention_kernel_table_size_entries', { table: 'ephemeral_ports' }, size);
      sink.set('contention_kernel_table_free_entries', { table: 'ephemeral_ports' }, size - ports.size);
    },
    };
  },
};
