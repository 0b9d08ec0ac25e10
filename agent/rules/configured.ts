import { dirname } from 'node:path';
import type { Config } from '../config/schema.js';
import { expandRuleFiles, loadRuleFiles, type RuleGroup } from './load.js';

export type ConfiguredRules = { ok: true; groups?: RuleGroup[]; files: string[] } | { ok: false; errors: string[] };

/**
 * The rule groups a config asks the agent to evaluate: none when rules.enabled is off, else its
 * files (relative to the config file's directory, as Prometheus resolves rule_files), or the shipped
 * rules. Any file, group or rule it cannot evaluate makes the whole config invalid.
 */
export function loadConfiguredRules(config: Pick<Config, 'rules'>, configFile: string | undefined): ConfiguredRules {
  if (!config.rules.enabled) return { ok: true, files: [] };
  const { files, errors } = expandRuleFiles(config.rules.files, configFile ? dirname(configFile) : process.cwd());
  if (errors.length > 0) return { ok: false, errors: errors.map((e) => `${configFile ?? '(embedded defaults)'}: ${e}`) };
  const loaded = loadRuleFiles(files);
  if (!loaded.ok) return loaded;
  return { ok: true, groups: loaded.groups, files };
}
