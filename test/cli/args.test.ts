import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../agent/cli/args.js';

describe('parseArgs', () => {
  it('defaults to run with no overrides', () => {
    expect(parseArgs([])).toMatchObject({ command: 'run', positionals: [], overrides: [], json: false });
  });

  it('takes exporter-style flags with = or a separate value', () => {
    const args = parseArgs(['--config.file=/etc/a.yaml', '--web.listen-address', ':9100', '--log.format=json']);
    expect(args.configFile).toBe('/etc/a.yaml');
    expect(args.overrides).toEqual([
      { flag: '--web.listen-address', path: ['web', 'listen_address'], value: ':9100' },
      { flag: '--log.format', path: ['log', 'format'], value: 'json' },
    ]);
  });

  it('takes --web.config.file as the web.config_file setting, apart from --config.file', () => {
    const args = parseArgs(['--config.file=/etc/a.yaml', '--web.config.file=/etc/web.yml']);
    expect(args.configFile).toBe('/etc/a.yaml');
    expect(args.overrides).toEqual([{ flag: '--web.config.file', path: ['web', 'config_file'], value: '/etc/web.yml' }]);
  });

  it('turns collectors on and off', () => {
    expect(parseArgs(['--no-collector.pressure', '--collector.disk_queue']).overrides).toEqual([
      { flag: '--no-collector.pressure', path: ['collectors', 'pressure'], value: false },
      { flag: '--collector.disk_queue', path: ['collectors', 'disk_queue'], value: true },
    ]);
  });

  it('reads subcommands and their arguments', () => {
    expect(parseArgs(['check-config', 'a.yaml'])).toMatchObject({ command: 'check-config', positionals: ['a.yaml'] });
    expect(parseArgs(['snapshot', '--json'])).toMatchObject({ command: 'snapshot', json: true });
  });

  it('rejects unknown flags and collectors with a usage error', () => {
    expect(() => parseArgs(['--nope'])).toThrow(UsageError);
    expect(() => parseArgs(['--no-collector.nope'])).toThrow(/unknown collector "nope"/);
    expect(() => parseArgs(['--web.listen-address'])).toThrow(/needs a value/);
  });
});
