import type { Logger } from 'pino';
import { enabledCollectors } from './collectors/registry.js';
import type { Config } from './config/schema.js';
import { createExpositionRenderer } from './sampler/exposition.js';
import { startQueueWatch } from './sampler/queue-watch.js';
import { createSampler, type Sampler, type Stage } from './sampler/sampler.js';

export interface Runtime {
  readonly config: Config;
  readonly sampler: Sampler;
  stop(): void;
}

/**
 * Wires the sampling side for one config: the queue poller, the enabled collectors, the stages that
 * derive from each sample, and the renderer. A reload builds a new runtime and retires the old one.
 */
export function createRuntime(config: Config, log: Logger, stages: readonly Stage[] = []): Runtime {
  const queueWatch = startQueueWatch(config.paths.procfs, config.sampling.queue_interval);
  const ctx = { config, procfs: config.paths.procfs, sysfs: config.paths.sysfs, queueWatch };
  const collectors = enabledCollectors(config).map((spec) => ({ spec, instance: spec.create(ctx) }));
  const sampler = createSampler({
    collectors,
    stages,
    renderer: createExpositionRenderer(),
    intervalSeconds: config.sampling.interval,
    log,
  });
  return {
    config,
    sampler,
    stop() {
      sampler.stop();
      queueWatch.stop();
    },
  };
}
