import { assessCaptureReadiness } from '../capture/doctor.js';
import { readyValue, type Check } from '../capture/verdict.js';
import type { CollectorSpec } from './collector.js';

/** Readiness changes with configuration, not load: judged again at most this often. */
const REFRESH_MS = 60_000;

/** doctor's verdicts as contention_capture_ready{kind}, so a fleet sees which hosts could not be investigated. */
const captureCollectorFor = (platform: 'linux' | 'win32'): CollectorSpec => ({
  name: 'capture',
  description: 'Whether the host could take the process, crash and kernel dumps an investigation needs (doctor)',
  defaultEnabled: true,
  create: ({ config }) => {
    let checks: Check[] | undefined;
    let at = 0;
    return {
      async update(sink) {
        if (!checks || Date.now() - at >= REFRESH_MS) {
          checks = await assessCaptureReadiness(config, platform);
          at = Date.now();
        }
        for (const c of checks) sink.set('contention_capture_ready', { kind: c.kind, required: String(c.required) }, readyValue(c));
      },
    };
  },
});

export const captureCollector = captureCollectorFor('linux');
export const windowsCaptureCollector = captureCollectorFor('win32');
