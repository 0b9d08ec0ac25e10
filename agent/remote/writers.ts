import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Sample } from '../metrics/sample.js';
import type { Stage } from '../sampler/sampler.js';
import { createRemoteWriter, remoteWriteMetricsStage, type RemoteWriter } from './remote-write.js';
import { remoteName } from './schema.js';

export type RemoteWriters =
  | { readonly ok: true; readonly stage?: Stage; offer(sample: Sample): void; stop(): Promise<void> }
  | { readonly ok: false; readonly errors: readonly string[] };

/** The agent's start time, which the exposition serves and pushed hosts need as well (restarts show as changes). */
const START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/**
 * Every configured remote_write endpoint, with the labels a scraper would have given the series
 * (job and instance, from rules.job and rules.instance) under the configured external labels.
 */
export function createRemoteWriters(config: Config, log: Logger): RemoteWriters {
  const labels = { job: config.rules.job, instance: config.rules.instance, ...config.external_labels };
  const writers: RemoteWriter[] = [];
  const errors: string[] = [];
  for (const [i, cfg] of config.remote_write.entries()) {
    try {
      writers.push(createRemoteWriter(cfg, { labels, log, extra: () => [{ name: 'process_start_time_seconds', value: START_SECONDS }] }));
    } catch (err) {
      errors.push(`remote_write[${i}] (${remoteName(cfg)}): ${(err as Error).message}`);
    }
  }
  if (errors.length > 0) {
    void Promise.all(writers.map((w) => w.stop()));
    return { ok: false, errors };
  }
  if (writers.length > 0) log.info({ endpoints: writers.map((w) => w.stats().remote).join(','), instance: labels.instance }, 'remote write on');
  return {
    ok: true,
    ...(writers.length > 0 ? { stage: remoteWriteMetricsStage(writers) } : {}),
    offer(sample) {
      for (const w of writers) w.offer(sample);
    },
    stop: async () => void (await Promise.all(writers.map((w) => w.stop()))),
  };
}
