import type { Logger } from 'pino';
import type { Override } from '../cli/args.js';
import { resolveConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createHttpServer, parseListenAddress } from '../http/server.js';
import { createRuntime, type Runtime } from '../runtime.js';

/** Runs the agent until SIGTERM/SIGINT; SIGHUP reloads the config file and keeps the old one if the new is bad. */
export async function run(config: Config, log: Logger, configFile: string | undefined, overrides: readonly Override[]): Promise<number> {
  let runtime: Runtime = createRuntime(config, log);
  runtime.sampler.start();

  const server = createHttpServer({
    telemetryPath: config.web.telemetry_path,
    exposition: () => runtime.sampler.latest()?.exposition,
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
    runtime = createRuntime({ ...next, web: previous.config.web }, log);
    previous.stop();
    runtime.sampler.start();
    log.info({ config: configFile ?? '(embedded defaults)' }, 'config reloaded');
  });

  return new Promise<number>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      runtime.stop();
      server.close(() => resolve(0));
      server.closeAllConnections();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
