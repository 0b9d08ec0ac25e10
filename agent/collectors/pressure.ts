import { join } from 'node:path';
import { parsePressure } from '../procfs/pressure.js';
import { readProcFile } from '../procfs/read.js';
import type { CollectorSpec } from './collector.js';

const RESOURCES = ['cpu', 'memory', 'io'] as const;

/** Linux pressure stall information (kernel 4.20+ with CONFIG_PSI). Windows has no counterpart. */
export const pressureCollector: CollectorSpec = {
  name: 'pressure',
  description: 'Time tasks stalled waiting for cpu, memory and io (Linux PSI)',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      for (const resource of RESOURCES) {
        const pressure = parsePressure(readProcFile(join(procfs, 'pressure', resource)));
        for (const scope of ['some', 'full'] as const) {
          const line = pressure[scope];
          if (line) sink.set('contention_pressure_stalled_seconds_total', { resource, scope }, line.totalMicros / 1e6);
        }
      }
    },
  }),
};
