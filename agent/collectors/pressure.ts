import { join } from 'node:path';
import { parsePressure } from '../procfs/pressure.js';
import { readProcFile } from '../procfs/read.js';
import { isAbsent, unsupported, type CollectorSpec } from './collector.js';

const RESOURCES = ['cpu', 'memory', 'io'] as const;

/** Linux pressure stall information (kernel 4.20+ with CONFIG_PSI). Windows has no counterpart. */
export const pressureCollector: CollectorSpec = {
  name: 'pressure',
  description: 'Time tasks stalled waiting for cpu, memory and io (Linux PSI)',
  defaultEnabled: true,
  create: ({ procfs }) => ({
    update(sink) {
      for (const resource of RESOURCES) {
        const pressure = parsePressure(readPressure(join(procfs, 'pressure', resource)));
        for (const scope of ['some', 'full'] as const) {
          const line = pressure[scope];
          if (line) sink.set('contention_pressure_stalled_seconds_total', { resource, scope }, line.totalMicros / 1e6);
        }
      }
    },
  }),
};

/** No /proc/pressure (before 4.20, or built without CONFIG_PSI) or PSI off at boot (psi=0): unsupported, not failing. */
function readPressure(path: string): string {
  try {
    return readProcFile(path);
  } catch (err) {
    if (isAbsent(err)) throw unsupported(`${path} is absent: this kernel has no pressure stall information (Linux 4.20+ with CONFIG_PSI, not booted with psi=0)`);
    throw err;
  }
}
