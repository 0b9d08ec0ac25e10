import type { Logger } from 'pino';
import { createAgent, type Agent } from '../agent.js';
import type { Override } from '../cli/args.js';
import { resolveConfigOffThread } from '../config/load-off-thread.js';
import { collectPeriodically } from '../full-collections.js';
import type { Config } from '../config/schema.js';
import { createHttpServer, parseListenAddress } from '../http/server.js';
import { pageRoutes, stateRoute } from '../http/page-assets.js';
import { createPageState } from '../http/state.js';
import { createWebGuard } from '../http/web-guard.js';
import { currentPlatform } from '../platform/platform.js';
import { loadConfiguredRules } from '../rules/configured.js';

/** A reason the agent cannot start, told in one line; the command line exits non-zero on it. */
export class StartupError extends Error {}

/** Runs the agent until SIGTERM/SIGINT; SIGHUP reloads the config file and keeps the old one if the new is bad. */
export async function run(config: Config, log: Logger, configFile: string | undefined, overrides: readonly Override[]): Promise<number> {
  // Everything that can stop the start is checked before anything starts: a missing page or a
  // taken port must end the process, not leave a sampler running behind a server that never listened.
  let page: ReturnType<typeof pageRoutes>;
  try {
    page = pageRoutes();
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const web = createWebGuard(config.web.config_file);
  if (!web.ok) {
    for (const error of web.errors) process.stderr.write(`${error}\n`);
    return 1;
  }
  const rules = loadConfiguredRules(config, configFile);
  if (!rules.ok) {
    for (const error of rules.errors) process.stderr.write(`${error}\n`);
    return 1;
  }
  if (rules.groups) log.info({ files: rules.files.join(','), rules: rules.groups.reduce((n, g) => n + g.rules.length, 0) }, 'evaluating alert rules locally');
  // The port is bound before the agent is assembled (which reads back the saved history and logs
  // it): a taken port is the one line a failed start prints. Until the agent exists, scrapes get
  // "no sample yet" and the state route is absent.
  let agent: Agent | undefined;
  const routes = new Map(page);
  const server = createHttpServer({
    telemetryPath: config.web.telemetry_path,
    exposition: () => agent?.sampler.latest()?.exposition,
    routes,
    log,
    guard: web.guard,
  });
  const { host, port } = parseListenAddress(config.web.listen_address);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    const why = code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : message;
    throw new StartupError(`cannot listen on ${config.web.listen_address}: ${why}${code ? ` (${code})` : ''}`);
  }
  try {
    agent = await createAgent({ config, ruleGroups: rules.groups, platform: currentPlatform(), log });
  } catch (err) {
    // A part that cannot start (a remote_write endpoint's TLS file, say) fails the start at once.
    server.close();
    throw new StartupError((err as Error).message);
  }
  routes.set('/api/v1/state', stateRoute(createPageState(agent)));
  // Sampling starts once the agent serves: a start that fails has taken no sample and applied no policy.
  agent.start();
  const stopCollecting = collectPeriodically();
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : config.web.listen_address;
  log.info({ address, config: configFile ?? '(embedded defaults)' }, 'contention-agent listening');

  // Reloads load the file off the event loop, one at a time; a SIGHUP during one runs one more after it.
  let reloading = false;
  let again = false;
  const reload = async (): Promise<void> => {
    web.guard?.reload(server, log);
    const result = await resolveConfigOffThread(configFile, overrides);
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
    const running = agent.config();
    if (next.web.listen_address !== running.web.listen_address || next.web.telemetry_path !== running.web.telemetry_path) {
      log.warn('web.listen_address and web.telemetry_path take effect only after a restart');
    }
    await agent.reconfigure({ config: next, ruleGroups: nextRules.groups });
    log.info({ config: configFile ?? '(embedded defaults)' }, 'config reloaded');
  };
  const reloadInTurn = (): void => {
    reloading = true;
    reload()
      .catch((err: Error) => log.error({ err: err.message }, 'config reload failed'))
      .finally(() => {
        reloading = false;
        if (again) {
          again = false;
          reloadInTurn();
        }
      });
  };
  process.on('SIGHUP', () => {
    if (reloading) again = true;
    else reloadInTurn();
  });

  return new Promise<number>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      stopCollecting();
      void agent.stop().finally(() => {
        server.close(() => resolve(0));
        server.closeAllConnections();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
