import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createDelivery, deliveryMetricsStage } from '../alerts/delivery.js';
import type { Override } from '../cli/args.js';
import { resolveConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createHttpServer, parseListenAddress } from '../http/server.js';
import { pageRoutes, stateRoute } from '../http/page-assets.js';
import { createWebGuard } from '../http/web-guard.js';
import { buildState, type State } from '../http/state.js';
import type { Sample } from '../metrics/sample.js';
import type { SeriesSource } from '../history/source.js';
import { createAgentHistory, createRuntime, type Runtime } from '../runtime.js';
import { eventLogMetricsStage, openEventLog } from '../platform/windows/event-log.js';
import { loadConfiguredRules } from '../rules/configured.js';
import { createLinuxProcessControl } from '../platform/linux/process-control.js';
import { createWindowsProcessControl } from '../platform/windows/process-control.js';
import { createPolicyEngine, type PolicyEngine } from '../policy/engine.js';

/** Runs the agent until SIGTERM/SIGINT; SIGHUP reloads the config file and keeps the old one if the new is bad. */
export async function run(config: Config, log: Logger, configFile: string | undefined, overrides: readonly Override[]): Promise<number> {
  const web = createWebGuard(config.web.config_file);
  if (!web.ok) {
    for (const error of web.errors) process.stderr.write(`${error}\n`);
    return 1;
  }
  // History outlives reloads (a SIGHUP must not forget the last hour); its size is fixed at start.
  const history = createAgentHistory(config);
  // On Windows, alert changes also go to the Application log under the source the installer registered.
  const eventLog = process.platform === 'win32' ? openEventLog((err) => log.warn({ err: err.message }, 'cannot write to the Windows event log')) : undefined;
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
  // The policy engine outlives reloads: its clocks, rate limits and the priorities it changed stay.
  const control = process.platform === 'win32' ? await createWindowsProcessControl() : await createLinuxProcessControl(config.paths.procfs);
  const policy = createPolicyEngine({
    config,
    log,
    control,
    history,
    ...(eventLog
      ? { onRecord: (a) => eventLog.write({ kind: 'policy', decision: { policy: a.policy, action: a.action, outcome: a.outcome, pid: a.pid, name: a.name, reason: `${a.criteria}: ${a.measure}` } }) }
      : {}),
  });
  const stages = [deliveryMetricsStage(delivery), policy.stage, ...(eventLog ? [eventLogMetricsStage(eventLog)] : [])];
  const rules = loadConfiguredRules(config, configFile);
  if (!rules.ok) {
    for (const error of rules.errors) process.stderr.write(`${error}\n`);
    delivery.stop();
    await policy.stop();
    return 1;
  }
  if (rules.groups) log.info({ files: rules.files.join(','), rules: rules.groups.reduce((n, g) => n + g.rules.length, 0) }, 'evaluating alert rules locally');
  let runtime: Runtime = createRuntime(config, log, { history }, stages, rules.groups);
  const deliverAfterEachSample = (r: Runtime) =>
    r.sampler.onSample((sample) => {
      // The detector stage recorded what the collectors read; this adds what stages and health derived.
      history.record(sample);
      delivery.offer('detector', r.detector?.alerts() ?? [], sample.timestamp);
      // Offered even when local evaluation is off, so turning it off by a reload resolves what it fired.
      delivery.offer('rules', r.rules?.alerts() ?? [], sample.timestamp);
      delivery.offer('policy', policy.alerts(), sample.timestamp);
    });
  deliverAfterEachSample(runtime);
  runtime.sampler.start();

  const pageState = createPageState(() => runtime, history, policy);
  const server = createHttpServer({
    telemetryPath: config.web.telemetry_path,
    exposition: () => runtime.sampler.latest()?.exposition,
    routes: new Map([...pageRoutes(), ['/api/v1/state', stateRoute(pageState)]]),
    log,
    guard: web.guard,
  });
  const { host, port } = parseListenAddress(config.web.listen_address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : config.web.listen_address;
  log.info({ address, config: configFile ?? '(embedded defaults)' }, 'contention-agent listening');

  process.on('SIGHUP', () => {
    web.guard?.reload(server, log);
    const result = resolveConfig(configFile, overrides);
    if (!result.ok) {
      log.error({ errors: result.errors }, 'config reload failed; keeping the running config');
      return;
    }
    const next = result.config;
    const nextRules = loadConfiguredRules(next, configFile);
    if (!nextRules.ok) {
      log.error({ errors: nextRules.errors }, 'config reload failed: rule files; keeping the running config');
      return;
    }
    if (next.web.listen_address !== runtime.config.web.listen_address || next.web.telemetry_path !== runtime.config.web.telemetry_path) {
      log.warn('web.listen_address and web.telemetry_path take effect only after a restart');
    }
    const previous = runtime;
    policy.reconfigure(next);
    runtime = createRuntime(
      { ...next, web: previous.config.web, history: previous.config.history },
      log,
      { history, detectorAlerts: previous.detector?.alerts(), rulesState: previous.rules?.state() },
      stages,
      nextRules.groups,
    );
    previous.stop();
    deliverAfterEachSample(runtime);
    runtime.sampler.start();
    log.info({ config: configFile ?? '(embedded defaults)' }, 'config reloaded');
  });

  return new Promise<number>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      runtime.stop();
      delivery.stop();
      eventLog?.close();
      // Priorities and weights the policy lowered go back before the agent exits.
      void policy.stop().finally(() => {
        server.close(() => resolve(0));
        server.closeAllConnections();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

/** The page's state, built at most once per sample however often it is polled. */
function createPageState(current: () => Runtime, history: SeriesSource, policy: PolicyEngine): () => State | undefined {
  let cached: { sample: Sample; state: State } | undefined;
  let previous: Sample | undefined;
  return () => {
    const runtime = current();
    const sample = runtime.sampler.latest()?.sample;
    if (!sample) return undefined;
    if (cached?.sample !== sample) {
      if (cached && cached.sample.timestamp < sample.timestamp) previous = cached.sample;
      cached = {
        sample,
        state: buildState({
          sample,
          previous,
          history,
          alerts: [...(runtime.detector?.alerts() ?? []), ...(runtime.rules?.alerts() ?? []), ...policy.alerts()],
          policyActions: policy.recentActions(),
          exposeCmdline: runtime.config.web.expose_cmdline,
          now: Date.now(),
        }),
      };
    }
    return cached.state;
  };
}
