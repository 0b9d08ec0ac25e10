import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../agent/cli/args.js';
import { loadConfigFile } from '../../agent/config/load.js';
import { ROOT } from '../helpers/agent.js';
import { requireTool } from '../helpers/tools.js';

const PLAYBOOK = join(ROOT, 'deploy/ansible/contention-agent.yml');
type Task = Record<string, unknown> & { name: string; notify?: string };
const [play] = parse(readFileSync(PLAYBOOK, 'utf8')) as Array<{ vars: Record<string, string>; tasks: Task[]; handlers: Task[] }>;

describe('deploy/ansible/contention-agent.yml', () => {
  const syntaxCheck = (playbook: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-ansible-'));
    writeFileSync(join(dir, 'inventory.ini'), '[contention_agent]\nhost1.example\n');
    return spawnSync(requireTool('ansible-playbook'), ['--syntax-check', '-i', join(dir, 'inventory.ini'), playbook], {
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: dir, HOME: dir },
    });
  };

  it('passes ansible-playbook --syntax-check without a warning', () => {
    const r = syntaxCheck(PLAYBOOK);
    expect(r.stdout + r.stderr).not.toMatch(/ERROR|WARNING/);
    expect(r.status).toBe(0);
  });

  it('the syntax check would catch a misspelt module', () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'ca-ansible-')), 'broken.yml');
    writeFileSync(broken, readFileSync(PLAYBOOK, 'utf8').replace('ansible.builtin.apt:', 'ansible.builtin.aptt:'));
    const r = syntaxCheck(broken);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/aptt/);
  });

  it('installs the .deb the package build names, with a config the agent accepts, validated by the installed binary', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(play!.vars.contention_agent_version).toBe(version);
    expect(play!.vars.contention_agent_deb).toBe('contention-agent_{{ contention_agent_version }}_amd64.deb');
    const config = resolve(dirname(PLAYBOOK), play!.vars.contention_agent_config!.replace('{{ playbook_dir }}/', ''));
    expect(existsSync(config), config).toBe(true);
    const loaded = loadConfigFile(config);
    expect(loaded.ok ? [] : loaded.errors).toEqual([]);
    const copy = play!.tasks.find((t) => (t['ansible.builtin.copy'] as { dest?: string } | undefined)?.dest === '/etc/contention-agent/agent.yml')!;
    const validate = (copy['ansible.builtin.copy'] as { validate: string }).validate.split(' ');
    expect(validate[0]).toBe('/usr/bin/contention-agent');
    expect(parseArgs(validate.slice(1).map((a) => (a === '%s' ? config : a)))).toMatchObject({ command: 'check-config', positionals: [config] });
    // The handler a config change notifies exists and reloads (SIGHUP keeps the running config if the new one is bad).
    expect(play!.handlers.map((h) => h.name)).toContain(copy.notify);
  });
});
