import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Alert } from './alerts/alert.js';
import { enabledCollectors } from './collectors/registry.js';
import type { Config } from './config/schema.js';
import { createLeakDetector, type DetectorState, type LeakDetector } from './detect/leak-stage.js';
import { createHistory, type History } from './history/history.js';
import type { RulesState } from './rules/engine.js';
import type { RuleGroup } from './rules/load.js';
import { createRulesStage, type RulesStage } from './rules/stage.js';
import { createExpositionRenderer } from './sampler/exposition.js';
import { startPlatformQueueWatch } from './sampler/platform-queue-watch.js';
import { createSampler, type Sampler, type Stage } from './sampler/sampler.js';

export interface Runtime {
  readonly config: Config;
  readonly sampler: Sampler;
  /** Present when the runtime was given a history to record into. */
  readonly detector?: LeakDetector;
  /** Present when rule groups were given (rules.enabled) and a history to evaluate them on. */
  readonly rules?: RulesStage;
  stop(): void;
}

/** Parts that outlive a reload: what the agent remembers must not be lost to a SIGHUP. */
export interface LongLived {
  readonly history?: History;
  /** The retired runtime's detector alerts, so a reload neither resolves nor re-fires them. */
  readonly detectorAlerts?: readonly Alert[];
  /** The retired (or persisted) detector's hysteresis state. */
  readonly detectorState?: DetectorState;
  /** When the host booted, Unix ms. */
  readonly bootTimeMs?: number;
  /** The retired runtime's rule evaluation state, so pending and firing alerts carry on. */
  readonly rulesState?: RulesState;
}

/**
 * Wires the sampling side for one config: the queue poller, the enabled collectors, the stages that
 * derive from each sample, and the renderer. A reload builds a new runtime and retires the old one.
 */
export function createRuntime(
  config: Config,
  log: Logger,
  longLived: LongLived = {},
  extraStages: readonly Stage[] = [],
  ruleGroups?: readonly RuleGroup[],
): Runtime {
  const queueWatch = startPlatformQueueWatch(config);
  const ctx = { config, procfs: config.paths.procfs, sysfs: config.paths.sysfs, queueWatch };
  const collectors = enabledCollectors(config).map((spec) => ({ spec, instance: spec.create(ctx) }));
  // Where local rules alert on the detector's metric, the rule's alert is each leak's one alert.
  const rulesAlertOnLeaks = (ruleGroups ?? []).some((g) => g.rules.some((r) => r.kind === 'alert' && /\bcontention_leak_suspected\b/.test(r.exprText)));
  const detector = longLived.history
    ? createLeakDetector(longLived.history, config, longLived.detectorAlerts, {
        carriedState: longLived.detectorState,
        bootTimeMs: longLived.bootTimeMs,
        raiseAlerts: !rulesAlertOnLeaks,
      })
    : undefined;
  const rules =
    longLived.history && ruleGroups
      ? createRulesStage(ruleGroups, longLived.history, {
          target: { job: config.rules.job, instance: config.rules.instance },
          intervalSeconds: config.sampling.interval,
          carried: longLived.rulesState,
          log,
        })
      : undefined;
  const stages = [...(detector ? [detector] : []), ...(rules ? [rules] : []), ...extraStages];
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
    detector,
    rules,
    stop() {
      sampler.stop();
      queueWatch.stop();
      for (const c of collectors) c.instance.stop?.();
    },
  };
}

/** When this host booted, Unix ms: from /proc/stat's btime on Linux (exact), from the uptime elsewhere (to the minute). */
export function bootTimeMs(procfs: string): number {
  if (process.platform === 'linux') {
    try {
      const m = /^btime (\d+)$/m.exec(readFileSync(join(procfs, 'stat'), 'utf8'));
      if (m) return Number(m[1]) * 1000;
    } catch {
      // fall through to the uptime
    }
  }
  return Math.round((Date.now() - uptime() * 1000) / 60_000) * 60_000;
}

/** The history the running agent keeps, sized by its config. */
export function createAgentHistory(config: Config): History {
  return createHistory({
    rawSeconds: config.history.raw_retention,
    sampleSeconds: config.sampling.interval,
    bucketSeconds: config.history.downsample_interval,
    retentionSeconds: config.history.retention,
    maxSeries: config.history.max_series,
    families: ['contention_'],
  });
}
