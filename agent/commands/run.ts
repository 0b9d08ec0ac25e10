import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createDelivery, deliveryMetricsStage } from '../alerts/delivery.js';
import type { Override } from '../cli/args.js';
import { resolveConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createHttpServer, parseListenAddress } from '../http/server.js';
import { pageRoutes, stateRoute } from '../http/page-assets.js';
import { buildState, type State } from '../http/state.js';
import type { Sample } from '../metrics/sample.js';
import type { SeriesSource } from '../history/source.js';
import { createAgentHistory, createRuntime, type Runtime } from '../runtime.js';
import { createLinuxProcessControl } from '../platform/linux/process-control.js';
import { createPolicyEngine, type PolicyEngine } from '../policy/engine.js';

/** Runs the agent until SIGTERM/SIGINT; SIGHUP reloads the config file and keeps the old one if the new is bad. */
export async function run(config: Config, log: Logger, configFile: string | undefined, overrides: readonly Override[]): Promise<number> {
  // History outlives reloads (a SIGHUP must not forget the last hour); its size is fixed at start.
  const history = createAgentHistory(config);
  // Delivery keeps its queues across reloads; its receivers are fixed at start.
  const delivery = createDelivery(
    {
      alertmanagers: config.alerting.alertmanagers,
      webhook: config.alerting.webhook,
      resendSeconds: config.alerting.resend_interval,
      timeoutSeconds: config.alerting.timeout,
      maxQueue: config.alerting.max_queue,
      instance: hostname(),
    },
    log,
  );
  // The policy engine outlives reloads: its clocks, rate limits and the priorities it changed stay.
  const policy = createPolicyEngine({ config, log, control: await createLinuxProcessControl(config.paths.procfs), history });
  const stages = [deliveryMetricsStage(delivery), policy.stage];
  let runtime: Runtime = createRuntime(config, log, { history }, stages);
  const deliverAfterEachSample = (r: Runtime) =>
    r.sampler.onSample((sample) => {
      // The detector stage recorded what the collectors read; this adds what stages and health derived.
      history.record(sample);
      delivery.offer('detector', r.detector?.alerts() ?? [], sample.timestamp);
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
    const result = resolveConfig(configFile, overrides);
    if (!result.ok) {
      log.error({ errors: result.errors }, 'config reload failed; keeping the running config');
      return;
    }
    const next = result.config;
    if (next.web.listen_address !== runtime.config.web.listen_address || next.web.telemetry_path !== runtime.config.web.telemetry_path) {
      log.warn('web.listen_address and web.telemetry_path take effect only after a restart');
    }
    const previous = runtime;
    policy.reconfigure(next);
    runtime = createRuntime({ ...next, web: previous.config.web, history: previous.config.history }, log, { history, detectorAlerts: previous.detector?.alerts() }, stages);
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
          alerts: [...(runtime.detector?.alerts() ?? []), ...policy.alerts()],
          policyActions: policy.recentActions(),
          exposeCmdline: runtime.config.web.expose_cmdline,
          now: Date.now(),
        }),
      };
    }
    return cached.state;
  };
}
