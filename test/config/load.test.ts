import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfigFile, parseConfigText, resolveConfig } from '../../agent/config/load.js';

const errorsOf = (text: string, file = 'agent.yaml'): string[] => {
  const result = parseConfigText(text, file);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.errors;
};

describe('config loading', () => {
  it('embeds every default: an empty file is the default config', () => {
    const config = defaultConfig();
    expect(config.sampling).toEqual({ interval: 10, queue_interval: 1, quiet_process_interval: 60 });
    expect(config.web.listen_address).toBe(':9947');
    expect(config.web.telemetry_path).toBe('/metrics');
    expect(config.web.expose_cmdline).toBe(false);
    expect(parseConfigText('', 'empty.yaml')).toEqual({ ok: true, config });
  });

  it('accepts durations with units', () => {
    const result = parseConfigText('sampling:\n  interval: 1m\n  queue_interval: 500ms\n', 'a.yaml');
    expect(result.ok && result.config.sampling).toEqual({ interval: 60, queue_interval: 0.5, quiet_process_interval: 60 });
  });

  it('names file, line and path of an unknown key', () => {
    expect(errorsOf('sampling:\n  interval: 5s\n  intervall: 10s\n')).toEqual([
      'agent.yaml:3: sampling.intervall: unknown setting (not one of the keys this section takes)',
    ]);
  });

  it('names file, line and path of a wrong type', () => {
    const [error] = errorsOf('web:\n  expose_cmdline: "yes"\n');
    expect(error).toMatch(/^agent\.yaml:2: web\.expose_cmdline: .*expected boolean/);
  });

  it('rejects a negative interval with what was expected', () => {
    const [error] = errorsOf('sampling:\n  interval: -5\n');
    expect(error).toBe('agent.yaml:2: sampling.interval: expected a duration above 0.1s (got -5)');
  });

  it('rejects a queue interval longer than the sample interval', () => {
    const [error] = errorsOf('sampling:\n  interval: 2s\n  queue_interval: 5s\n');
    expect(error).toMatch(/sampling\.queue_interval: queue_interval must not be longer than interval/);
  });

  it('reports a YAML syntax error with line and column', () => {
    const [error] = errorsOf('sampling:\n  interval: [5s\nweb: {}\n');
    expect(error).toMatch(/^agent\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('reports every error at once', () => {
    expect(errorsOf('sampling:\n  interval: 0\nlog:\n  level: loud\nbogus: 1\n')).toHaveLength(3);
  });

  it('rejects a list at the top level', () => {
    expect(errorsOf('- a\n- b\n')[0]).toMatch(/expected a mapping of settings at the top level \(got a list\)/);
  });

  it('names a file it cannot read and why', () => {
    const missing = loadConfigFile('/nonexistent/agent.yaml');
    expect(missing.ok === false && missing.errors[0]).toMatch(/^\/nonexistent\/agent\.yaml: cannot read the file \(ENOENT\)/);
  });

  it('names an unreadable file (permissions)', () => {
    if (process.getuid?.() === 0) {
      // root reads any file; a directory stands in for an unreadable one
      const dir = mkdtempSync(join(tmpdir(), 'ca-cfg-'));
      const result = loadConfigFile(dir);
      expect(result.ok === false && result.errors[0]).toMatch(/cannot read the file \(EISDIR\)/);
      return;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'ca-cfg-')), 'locked.yaml');
    writeFileSync(file, 'sampling: {}\n');
    chmodSync(file, 0o000);
    const result = loadConfigFile(file);
    expect(result.ok === false && result.errors[0]).toMatch(/cannot read the file \(EACCES\)/);
  });

  it('applies command-line overrides on top of the file and names the flag in errors', () => {
    const ok = resolveConfig(undefined, [{ flag: '--web.listen-address', path: ['web', 'listen_address'], value: '127.0.0.1:1234' }]);
    expect(ok.ok && ok.config.web.listen_address).toBe('127.0.0.1:1234');
    const bad = resolveConfig(undefined, [{ flag: '--log.level', path: ['log', 'level'], value: 'loud' }]);
    expect(bad.ok === false && bad.errors[0]).toMatch(/^--log\.level: /);
  });
});
