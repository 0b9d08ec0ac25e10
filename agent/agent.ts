import { readFileSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createDelivery, type Delivery } from './alerts/delivery.js';
import { createPlatformDumper } from './capture/capture.js';
import { createCaptures, type Captures } from './capture/captures.js';
import type { Collector, CollectorSpec } from './collectors/collector.js';
import { enabledCollectors } from './collectors/registry.js';
import type { Config } from './config/schema.js';
import { createLeakDetector, type DetectorState, type LeakDetector } from './detect/leak-stage.js';
import { bytesPerSeries, createHistory, type History } from './history/history.js';
import { loadHistory, saveHistory } from './history/persist.js';
import { createHistoryStage } from './history/stage.js';
import { logMetricsStage } from './log.js';
import type { Sample, Stage } from './metrics/sample.js';
import type { Part, Settings } from './part.js';
import type { Platform } from './platform/platform.js';
import { eventLogMetricsStage, type EventLog } from './platform/windows/event-log.js';
import { aboutOf, actionOf, outcomeOf } from './policy/audit.js';
import { createPolicyEngine, type PolicyEngine } from './policy/engine.js';
import { createRemoteWriters, type RemoteWriters } from './remote/writers.js';
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
  /** remote_write: every finished sample, pushed off the sampling path. */
  readonly remote: RemoteWriters;
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

/**
 * Reads back the history a previous run saved in paths.state_dir, into `history`; returns the
 * detector's saved state. A missing file starts afresh; a bad one is ignored with a warning.
 */
async function restoreHistory(config: Config, history: History, log: Logger): Promise<DetectorState | undefined> {
  const dir = config.paths.state_dir;
  // Twice what the configured history can hold, plus the header: a bigger file is not ours to trust.
  const perSeries = bytesPerSeries({ rawSeconds: config.history.raw_retention, sampleSeconds: config.sampling.interval, bucketSeconds: config.history.downsample_interval, retentionSeconds: config.history.retention });
  const loaded = await loadHistory(dir, 2 * config.history.max_series * perSeries + 16 * 2 ** 20);
  if (!loaded.ok) {
    if (loaded.absent) log.debug({ dir }, 'no history saved yet; starting afresh');
    else log.warn({ reason: loaded.reason }, 'saved history ignored; starting afresh');
    return undefined;
  }
  history.restore(loaded.persisted.series);
  log.info({ dir, series: loaded.persisted.series.length, saved_at: new Date(loaded.persisted.savedAt).toISOString() }, 'history restored');
  const state = loaded.persisted.detector;
  const valid = typeof state === 'object' && state !== null && !Array.isArray(state) && Object.values(state).every((v) => typeof v === 'object' && v !== null);
  return valid ? (state as DetectorState) : undefined;
}

export async function createAgent(opts: AgentOptions): Promise<Agent> {
  const { platform, log } = opts;
  let config = opts.config;
  // First, before any part acts: an endpoint that cannot start fails the start (and throws).
  const remote = createRemoteWriters(config, log);
  // History outlives reloads (a SIGHUP must not forget the last hour); its size is fixed at start.
  const history = createAgentHistory(config);
  // It also outlives the agent: saved in the state directory, so a restart or a reboot does not forget.
  const persisting = config.history.persist_interval > 0;
  let started = false;
  const carriedState = persisting ? await restoreHistory(config, history, log) : undefined;
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
  const detector = createLeakDetector(history, config, { carriedState, ruleGroups: opts.ruleGroups });
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
  const historyStage = createHistoryStage(history, { watchedProcesses: (rows) => detector.watchedProcesses(rows), bootTimeMs: bootTimeMs(config.paths.procfs) });

  // The history goes to disk every persist_interval and at stop; one write at a time, and a failed
  // one is a warning (the agent keeps its memory in RAM and tries again at the next interval).
  let saving: Promise<void> | undefined;
  let lastSaved = Date.now();
  let saveFailing = false;
  const persist = (): Promise<void> => {
    if (!persisting) return Promise.resolve();
    if (saving) return saving;
    lastSaved = Date.now();
    const dir = config.paths.state_dir;
    saving = saveHistory(dir, history, detector.state())
      .then(() => {
        if (saveFailing) log.info({ dir }, 'history saved again');
        saveFailing = false;
      })
      .catch((err: Error) => {
        if (!saveFailing) log.warn({ dir, err: err.message }, 'cannot save the history; it is kept in memory only until this works');
        saveFailing = true;
      })
      .finally(() => {
        saving = undefined;
      });
    return saving;
  };
  // Rules without groups (rules.enabled off) are left out of the pipeline: no stage, no health series.
  const eventLogStage = eventLog ? [eventLogMetricsStage(eventLog)] : [];
  const logStage = logMetricsStage();
  const stagesFor = (s: Settings): Stage[] => [detector.stage, ...(s.ruleGroups ? [rules.stage] : []), policy.stage, captures.stage, delivery.stage, ...eventLogStage, logStage, remote.stage];
  const parts: readonly Part[] = [detector, rules, policy, captures, delivery, remote];

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
    if (persisting && Date.now() - lastSaved >= config.history.persist_interval * 1000) void persist();
    delivery.offer('detector', detector.alerts(), sample.timestamp);
    // Offered even when local evaluation is off, so turning it off by a reload resolves what it fired.
    delivery.offer('rules', rules.alerts(), sample.timestamp);
    delivery.offer('policy', policy.alerts(), sample.timestamp);
    // Last, and only a hand-over: encoding, disk and network happen outside the sample.
    remote.offer(sample);
  });

  return {
    platform,
    history,
    detector,
    rules,
    policy,
    captures,
    delivery,
    remote,
    sampler,
    config: () => config,
    start: () => {
      started = true;
      sampler.start();
    },
    async reconfigure(next) {
      const settings: Settings = { ...next, config: { ...next.config, web: config.web, history: config.history, paths: { ...next.config.paths, state_dir: config.paths.state_dir } } };
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
    // A dump under way finishes first; priorities and weights the policy lowered go back before the
    // agent exits (and are logged); what remote write holds in memory goes to its disk queue, for the
    // next start to send; the history is saved.
    await captures.stop();
    // An agent that never started (its start failed) has nothing of its own to save over the last run's.
    await Promise.all([policy.stop(), remote.stop(), started ? persist() : Promise.resolve()]);
    eventLog?.close();
  }
}
