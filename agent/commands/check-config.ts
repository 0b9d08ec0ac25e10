import { enabledCollectors } from '../collectors/registry.js';
import { currentPlatform } from '../platform/platform.js';
import { loadConfigFile } from '../config/load.js';
import { loadWebConfig } from '../http/web-config.js';
import { loadConfiguredRules } from '../rules/configured.js';

/** Validates a config file: exit 0 with a one-line summary, or 1 with every error. */
export function checkConfig(file: string | undefined): number {
  if (!file) {
    process.stderr.write('check-config needs a FILE\n');
    return 2;
  }
  const loaded = loadConfigFile(file);
  // The web config file it names is checked too: a bad one stops the agent at start.
  const web = loaded.ok && loaded.config.web.config_file !== undefined ? loadWebConfig(loaded.config.web.config_file) : undefined;
  const result = loaded.ok && web && !web.ok ? { ok: false as const, errors: web.errors } : loaded;
  if (!result.ok) {
    for (const error of result.errors) process.stderr.write(`${error}\n`);
    process.stderr.write(`${file}: invalid (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})\n`);
    return 1;
  }
  const { config } = result;
  const rules = loadConfiguredRules(config, file);
  if (!rules.ok) {
    for (const error of rules.errors) process.stderr.write(`${error}\n`);
    process.stderr.write(`${file}: invalid (${rules.errors.length} error${rules.errors.length === 1 ? '' : 's'} in rule files)\n`);
    return 1;
  }
  const collectors = enabledCollectors(config, currentPlatform().collectors).map((c) => c.name);
  process.stdout.write(
    `${file}: valid; sampling every ${config.sampling.interval}s, ${collectors.length} collectors (${collectors.join(', ')}), listening on ${config.web.listen_address}${rules.groups ? `, ${rules.groups.reduce((n, g) => n + g.rules.length, 0)} rules evaluated locally` : ''}\n`,
  );
  return 0;
}
