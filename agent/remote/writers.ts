import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Sample } from '../metrics/sample.js';
import type { Part, Settings } from '../part.js';
import { createRemoteWriter, remoteWriteMetricsStage, type RemoteWriter } from './remote-write.js';
import { remoteName } from './schema.js';

/**
 * Remote write as a long-lived part: its stage exports every endpoint's counters with each sample
 * (no endpoints, no series), and the agent hands it each finished sample.
 */
export interface RemoteWriters extends Part {
  /** Hands a sample to every endpoint; returns at once. */
  offer(sample: Sample): void;
  /**
   * Applies a reloaded config. Unchanged endpoints keep running; a changed set is rebuilt on the same
   * queue directories, so nothing queued is lost. An endpoint that cannot start (a TLS file gone)
   * keeps the running set and says why.
   */
  reconfigure(next: Settings): void;
  /** Resolves when a reconfigure under way is done (for tests and shutdown). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}


/** The agent's start time, which the exposition serves and pushed hosts need as well (restarts show as changes). */
const START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** What decides the writers: the endpoints and the labels they add. */
const shapeOf = (config: Config): string => JSON.stringify([config.remote_write, config.external_labels, config.rules.job, config.rules.instance]);

function build(config: Config, log: Logger): { ok: true; writers: RemoteWriter[] } | { ok: false; errors: string[] } {
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
  return { ok: true, writers };
}

/**
 * Every configured remote_write endpoint, with the labels a scraper would have given the series
 * (job and instance, from rules.job and rules.instance) under the configured external labels.
 * Throws, one line per endpoint, when one cannot start: the agent then exits at once.
 */
export function createRemoteWriters(config: Config, log: Logger): RemoteWriters {
  const first = build(config, log);
  // The agent cannot start with an endpoint that cannot (a TLS file missing, a queue directory it cannot write).
  if (!first.ok) throw new Error(first.errors.join('\n'));
  let writers = first.writers;
  let current = config;
  let changing: Promise<void> = Promise.resolve();
  /** Samples offered while the writers are being replaced, handed to the new ones (bounded like one writer's memory). */
  let held: Sample[] | undefined;
  const MAX_HELD = 100;
  return {
      stage: { name: 'remote_write', run: (sample, sink) => remoteWriteMetricsStage(writers).run(sample, sink) },
      offer(sample) {
        if (held) {
          if (held.length < MAX_HELD) held.push(sample);
          return;
        }
        for (const w of writers) w.offer(sample);
      },
      reconfigure({ config: next }) {
        changing = changing.then(async () => {
          if (shapeOf(next) === shapeOf(current)) return;
          // The old writers put what they hold on disk first, so the new ones find it in their queues.
          held = [];
          await Promise.all(writers.map((w) => w.stop()));
          let built = build(next, log);
          if (built.ok) {
            current = next;
            log.info({ endpoints: next.remote_write.map(remoteName).join(',') || 'none' }, 'remote_write reconfigured');
          } else {
            log.error({ errors: built.errors.join('; ') }, 'remote_write reload failed; keeping the running endpoints');
            built = build(current, log);
          }
          writers = built.ok ? built.writers : [];
          const replay = held;
          held = undefined;
          for (const sample of replay) for (const w of writers) w.offer(sample);
        });
      },
      settled: () => changing,
      stop: async () => {
        await changing;
        await Promise.all(writers.map((w) => w.stop()));
      },
  };
}
