import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { expect } from 'vitest';
import { requireTool } from './tools.js';

/** Files a Prometheus glob (`*` within one path segment, in the last segment) names, relative to `base`. */
export function resolveGlob(base: string, pattern: string): string[] {
  const full = resolve(base, pattern);
  const name = new RegExp(`^${basename(full).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return readdirSync(dirname(full))
    .filter((f) => name.test(f))
    .map((f) => join(dirname(full), f))
    .sort();
}

/** promtool check config, which also loads every rule file the config names. */
export function checkPrometheusConfig(file: string): string {
  const out = spawnSync(requireTool('promtool'), ['check', 'config', file], { encoding: 'utf8' });
  const text = out.stdout + out.stderr;
  expect(text, text).toMatch(/SUCCESS: .* is valid prometheus config file syntax/);
  expect(out.status, text).toBe(0);
  return text;
}

export function checkAlertmanagerConfig(file: string): string {
  const out = spawnSync(requireTool('amtool'), ['check-config', file], { encoding: 'utf8' });
  const text = out.stdout + out.stderr;
  expect(text, text).toMatch(/SUCCESS/);
  expect(out.status, text).toBe(0);
  return text;
}

