import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE_MAX_BYTES, readBounded } from '../files/bounded-read.js';
import { makeDirs } from '../files/make-dirs.js';
import type { PolicyState } from './decide.js';

type Stops = PolicyState['stops'];
const HOUR_MS = 3_600_000;

/**
 * The stop budget on disk (`<state_dir>/policy-stops.json`), so a restart does not reset
 * `max_stops_per_hour`: the stops of the last hour are written (fsynced, then renamed into place)
 * whenever they change and read back at start. A missing or unreadable file is an empty budget,
 * reported through `onError`, never a failure to start.
 */
export function createStopBudgetStore(stateDir: string, onError: (err: Error) => void) {
  const file = join(stateDir, 'policy-stops.json');
  let written = '';
  return {
    file,
    load(now: number): Stops {
      try {
        const raw = JSON.parse(readBounded(file, CONFIG_FILE_MAX_BYTES).toString('utf8')) as unknown;
        if (!Array.isArray(raw)) return [];
        return raw
          .filter((s): s is { policy: string; at: number; key?: string } => typeof s?.policy === 'string' && Number.isFinite(s?.at) && (s.key === undefined || typeof s.key === 'string'))
          .filter((s) => now - s.at < HOUR_MS && s.at <= now + 60_000)
          .map((s) => ({ policy: s.policy, at: s.at, ...(s.key !== undefined ? { key: s.key } : {}) }));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError(err as Error);
        return [];
      }
    },
    save(stops: Stops): void {
      const text = JSON.stringify(stops);
      if (text === written) return;
      try {
        makeDirs(stateDir, 0o750);
        const tmp = `${file}.tmp`;
        const fd = openSync(tmp, 'w', 0o640);
        try {
          writeSync(fd, text);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, file);
        written = text;
      } catch (err) {
        onError(err as Error);
      }
    },
  };
}
