import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createDelivery, type Delivery } from './alerts/delivery.js';
import { createPlatformDumper } from './capture/capture.js';
import { createCaptures, type Captures } from './capture/captures.js';
import type { Collector, CollectorSpec } from './collectors/collector.js';
import { enabledCollectors } from './collectors/registry.js';
import type { Config } from './config/schema.js';
import { createLeakDetector, type LeakDetector } from './detect/leak-stage.js';
import { createHistory, type History } from './history/history.js';
import { createHistoryStage } from './history/stage.js';
import type { Sample, Stage } from './metrics/sample.js';
import type { Part, Settings } from './part.js';
import type { Platform } from './platform/platform.js';
import { eventLogMetricsStage, type EventLog } from './platform/windows/event-log.js';
import { aboutOf, actionOf, outcomeOf } from './policy/audit.js';
import { createPolicyEngine, type PolicyEngine } from './policy/engine.js';
import { createRules, targetOf, type Rules } from './rules/stage.js';
import { createExpositionRenderer } from './sampler/exposition.js';
import type { QueueWatch } from './sampler/queue-watch.js';
import { createSampler, type Sampler } from './sampler/sampler.js';

export interface AgentOptions extends Settings {
  readonly platform: Platform;
  readonly log: Logger;
}

/**
 * The running agent, assembled once: the platform's collectors and queue watch, the history, and the
 * long-lived parts (detector, rules, policy, delivery), each a stage of one sample pipeline with the
 * same reload contract. Commands add signals and HTTP around it; tests build it the same way.
 */
export interface Agent {
  readonly platform: Platform;
  readonly history: History;
  readonly detector: LeakDetector;
  readonly rules: Rules;
  readonly policy: PolicyEngine;
  /** Process dumps before stops and at first leak flags. */
  readonly captures: Captures;
  readonly delivery: Delivery;
  readonly sampler: Sampler;
  /** The config in force (web and history settings stay as at start). */
  config(): Config;
  start(): void;
  /** Applies a reloaded config and rule groups; every part keeps what it remembers. */
  reconfigure(next: Settings): Promise<void>;
  /** Stops sampling and every part; priorities and weights the policy changed are given back. Once: later calls get the same promise. */
  stop(): Promise<void>;
}

/** The collectors of a config on a platform, with the queue watch they read peaks from. */
export interface Sampling {
  readonly collectors: ReadonlyArray<{ spec: CollectorSpec; instance: Collector }>;
  readonly queueWatch: QueueWatch;
  stop(): void;
}

export function createCollectors(config: Config, platform: Platform): Sampling {
  const queueWatch = platform.startQueueWatch(config);
  const ctx = { config, procfs: config.paths.procfs, sysfs: config.paths.sysfs, queueWatch };
  const collectors = enabledCollectors(config, platform.collectors).map((spec) => ({ spec, instance: spec.create(ctx) }));
  return {
    collectors,
    queueWatch,
    stop() {
      queueWatch.stop();
      for (const c of collectors) c.instance.stop?.();
    },
  };
}

/** Just the collectors on a sampler, for one-shot commands (snapshot): no history, no stages. */
export function createOneShotSampler(config: Config, platform: Platform, log: Logger): { sampler: Sampler; stop(): void } {
  const sampling = createCollectors(config, platform);
  const sampler = createSampler({ collectors: sampling.collectors, renderer: createExpositionRenderer(), intervalSeconds: config.sampling.interval, log });
  return {
    sampler,
    stop() {
      sampler.stop();
      sampling.stop();
    },
  };
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

export async function createAgent(opts: AgentOptions): Promise<Agent> {
  const { platform, log } = opts;
  let config = opts.config;
  // History outlives reloads (a SIGHUP must not forget the last hour); its size is fixed at start.
  const history = createAgentHistory(config);
  // On Windows, alert changes and policy decisions also go to the Application log.
  const eventLog: EventLog | undefined = platform.openEventLog((err) => log.warn({ err: err.message }, 'cannot write to the Windows event log'));
  // Delivery keeps its queues across reloads; its receivers are fixed at start.
  const delivery = createDelivery(
    {
      alertmanagers: config.alerting.alertmanagers,
      webhook: config.alerting.webhook,
      resendSeconds: config.alerting.resend_interval,
      timeoutSeconds: config.alerting.timeout,
      maxQueue: config.alerting.max_queue,
      instance: hostname(),
      ...(eventLog ? { onChange: (alert) => eventLog.write({ kind: 'alert', alert }) } : {}),
    },
    log,
  );
  const detector = createLeakDetector(history, config);
  const rules = createRules(opts.ruleGroups, history, { target: targetOf(config), log });
  // Dumps are audited by the policy engine, which asks for one before each stop.
  const captures: Captures = createCaptures({
    config,
    log,
    dumper: await createPlatformDumper(config, platform.os === 'windows' ? 'win32' : 'linux'),
    alerts: () => [...detector.alerts(), ...rules.alerts(), ...policy.alerts()],
    onRecord: (record) => {
      if (record.trigger !== 'before_stop') policy.recordCapture(record);
    },
  });
  // The policy engine's clocks, rate limits and the priorities it changed outlive reloads.
  const policy = createPolicyEngine({
    config,
    log,
    control: await platform.createProcessControl(config),
    history,
    capture: (req) => captures.capture(req),
    ...(eventLog
      ? {
          onRecord: (e) => {
            const about = aboutOf(e);
            const criteria = e.kind === 'activate' ? '' : e.criteria;
            eventLog.write({ kind: 'policy', decision: { policy: e.policy, action: actionOf(e), outcome: outcomeOf(e), pid: about.pid, name: about.name, reason: `${criteria}: ${about.measure}` } });
          },
        }
      : {}),
  });
  const historyStage = createHistoryStage(history, { watchedProcesses: (rows) => detector.watchedProcesses(rows) });
  // Rules without groups (rules.enabled off) are left out of the pipeline: no stage, no health series.
  const eventLogStage = eventLog ? [eventLogMetricsStage(eventLog)] : [];
  const stagesFor = (s: Settings): Stage[] => [detector.stage, ...(s.ruleGroups ? [rules.stage] : []), policy.stage, captures.stage, delivery.stage, ...eventLogStage];
  const parts: readonly Part[] = [detector, rules, policy, captures, delivery];

  let sampling = createCollectors(config, platform);
  let stopping: Promise<void> | undefined;
  const sampler = createSampler({
    collectors: sampling.collectors,
    history: historyStage,
    stages: stagesFor(opts),
    renderer: createExpositionRenderer(),
    intervalSeconds: config.sampling.interval,
    log,
  });
  sampler.onSample((sample: Sample) => {
    delivery.offer('detector', detector.alerts(), sample.timestamp);
    // Offered even when local evaluation is off, so turning it off by a reload resolves what it fired.
    delivery.offer('rules', rules.alerts(), sample.timestamp);
    delivery.offer('policy', policy.alerts(), sample.timestamp);
  });

  return {
    platform,
    history,
    detector,
    rules,
    policy,
    captures,
    delivery,
    sampler,
    config: () => config,
    start: () => sampler.start(),
    async reconfigure(next) {
      const settings: Settings = { ...next, config: { ...next.config, web: config.web, history: config.history } };
      config = settings.config;
      for (const part of parts) part.reconfigure(settings);
      const previous = sampling;
      sampling = createCollectors(config, platform);
      await sampler.reconfigure({ collectors: sampling.collectors, stages: stagesFor(settings), intervalSeconds: config.sampling.interval });
      previous.stop();
    },
    stop: () => (stopping ??= stopAll()),
  };

  async function stopAll(): Promise<void> {
    sampler.stop();
    sampling.stop();
    delivery.stop();
    detector.stop();
    rules.stop();
    // Priorities and weights the policy lowered go back before the agent exits (and are logged).
    await captures.stop();
    await policy.stop();
    eventLog?.close();
  }
}
