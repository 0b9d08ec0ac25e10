import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/agent.js';
import { requireTool } from '../helpers/tools.js';

const UNIT = join(ROOT, 'deploy/systemd/contention-agent.service');
const shipped = readFileSync(UNIT, 'utf8');

/** The shipped unit with only ExecStart changed, to the built agent: verify needs a binary that exists. */
function unitForThisMachine(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ca-unit-'));
  const file = join(dir, 'contention-agent.service');
  const lines = shipped.split('\n');
  const exec = lines.findIndex((l) => l.startsWith('ExecStart='));
  expect(exec).toBeGreaterThan(-1);
  lines[exec] = lines[exec]!.replace(/^ExecStart=\S+/, `ExecStart=${process.execPath} ${CLI}`);
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** Directive name to its values in [Service], comments dropped. */
function serviceDirectives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]!;
    else if (section === 'Service') {
      const eq = line.indexOf('=');
      out.set(line.slice(0, eq), [...(out.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
    }
  }
  return out;
}

describe('deploy/systemd/contention-agent.service', () => {
  it('passes systemd-analyze verify without a single warning', () => {
    const analyze = requireTool('systemd-analyze');
    const result = spawnSync(analyze, ['verify', '--man=no', unitForThisMachine()], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('verify would catch a broken unit: a misspelt key and a missing binary', () => {
    const analyze = requireTool('systemd-analyze');
    const file = unitForThisMachine();
    writeFileSync(file, readFileSync(file, 'utf8').replace('ProtectSystem=strict', 'ProtectSytem=strict'));
    expect(spawnSync(analyze, ['verify', '--man=no', file], { encoding: 'utf8' }).stderr).toMatch(/Unknown key 'ProtectSytem'/);
    const missing = join(mkdtempSync(join(tmpdir(), 'ca-unit-')), 'contention-agent.service');
    writeFileSync(missing, shipped);
    const result = spawnSync(analyze, ['verify', '--man=no', missing], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
  });

  it('is rated OK (exposure at most 3.0 of 10) by systemd-analyze security', () => {
    const analyze = requireTool('systemd-analyze');
    const result = spawnSync(analyze, ['security', '--offline=true', '--threshold=30', '--no-pager', unitForThisMachine()], { encoding: 'utf8' });
    expect(result.stdout).toMatch(/Overall exposure level for contention-agent\.service: ([0-2]\.\d|3\.0) /);
    expect(result.status).toBe(0);
  });

  it('runs as its own user with the four capabilities it needs and reloads with SIGHUP', () => {
    const d = serviceDirectives(shipped);
    expect(d.get('User')).toEqual(['contention-agent']);
    expect(d.get('ExecStart')![0]).toMatch(/--config\.file=\/etc\/contention-agent\//);
    expect(d.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(d.get('Restart')).toEqual(['on-failure']);
    // exec, with the agent exiting at once on a failed start: a unit that cannot serve never shows as active.
    expect(d.get('Type')).toEqual(['exec']);
    expect(d.get('StateDirectory')).toEqual(['contention-agent']);
    expect(d.get('LogsDirectory')).toEqual(['contention-agent']);
    const caps = ['CAP_DAC_READ_SEARCH', 'CAP_KILL', 'CAP_SYS_NICE', 'CAP_SYS_PTRACE'];
    expect(d.get('AmbientCapabilities')![0]!.split(/\s+/).sort()).toEqual(caps);
    expect(d.get('CapabilityBoundingSet')![0]!.split(/\s+/).sort()).toEqual(caps);
    for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes']]) {
      expect(d.get(key!), key).toEqual([value]);
    }
    // The agent reads every process and the kernel tables: /proc must not be narrowed.
    expect(d.has('ProtectProc')).toBe(false);
    expect(d.has('ProcSubset')).toBe(false);
    // Each capability is explained where it is granted.
    for (const cap of caps) expect(shipped).toMatch(new RegExp(`^#\\s+${cap}\\s+\\S`, 'm'));
  });

  it('the sysusers snippet creates the user the unit runs as', () => {
    const sysusers = readFileSync(join(ROOT, 'deploy/systemd/contention-agent.sysusers.conf'), 'utf8');
    expect(sysusers).toMatch(/^u contention-agent - "[^"]+" \S+ \/usr\/sbin\/nologin$/m);
  });
});
