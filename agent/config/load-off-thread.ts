import { Worker } from 'node:worker_threads';
import type { Override } from '../cli/args.js';
import { resolveConfig, type ConfigResult } from './load.js';

/**
 * resolveConfig on a worker thread, for reloads: parsing and validating a large file (a thousand
 * criteria, each regex compiled by RE2) takes seconds of CPU, and on the event loop that would delay
 * samples and scrapes. The config is plain data, so it crosses back by structured clone. Where no
 * worker can start (the sources run untranspiled, as under the unit tests), it loads in place.
 */
export function resolveConfigOffThread(file: string | undefined, overrides: readonly Override[]): Promise<ConfigResult> {
  const script = new URL('./load-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.js')) return Promise.resolve(resolveConfig(file, overrides));
  return new Promise<ConfigResult>((resolve) => {
    let settled = false;
    const worker = new Worker(script, { workerData: { file, overrides } });
    const done = (result: ConfigResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
      void worker.terminate();
    };
    worker.once('message', (result: ConfigResult) => done(result));
    worker.once('error', (err) => done({ ok: false, errors: [`${file ?? '(embedded defaults)'}: cannot be loaded: ${err.message}`] }));
    worker.once('exit', (code) => done({ ok: false, errors: [`${file ?? '(embedded defaults)'}: the config loader exited (${code})`] }));
  });
}
