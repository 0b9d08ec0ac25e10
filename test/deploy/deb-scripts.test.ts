// The .deb's maintainer scripts where this machine cannot go for real: systemd as PID 1, with and
// without a policy-rc.d. Each runs in a private mount namespace with its own /run and /usr/sbin, the
// real deb-systemd-invoke deciding, and systemctl, deb-systemd-helper, getent and install recorded
// instead of acting on the machine (whose /var/lib and /var/log the sandbox replaces with its own).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/agent.js';
import { requireTool } from '../helpers/tools.js';

const SCRIPTS = join(ROOT, 'deploy/package/debian');

interface Sandbox {
  /** Whether /run/systemd/system exists: systemd runs the machine. */
  systemd: boolean;
  /** policy-rc.d's exit code; none: no policy-rc.d. */
  policy?: number;
}

/** Runs a maintainer script with `args` in the sandbox; returns the commands it ran, one per line. */
function runScript(script: string, args: string[], box: Sandbox): string[] {
  requireTool('unshare');
  requireTool('deb-systemd-invoke');
  const dir = mkdtempSync(join(tmpdir(), 'ca-maint-'));
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const stub = (name: string, body = '') => {
    writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\n${body}\nexit 0\n`);
    chmodSync(join(dir, name), 0o755);
  };
  stub('systemctl', 'case "$*" in *--version*) echo "systemd 252 (252)";; *is-enabled*) echo enabled;; *is-active*) exit 3;; esac');
  stub('deb-systemd-helper', 'case "$*" in *was-enabled*) exit 0;; esac');
  stub('getent', 'echo "contention-agent:x:999:999::/:/usr/sbin/nologin"');
  // install -d makes the directory, in the sandbox's own /var (a tmpfs): the scripts write markers there.
  stub('install', 'for last; do :; done; mkdir -p "$last"');
  const setup = [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    box.systemd ? 'mkdir -p /run/systemd/system' : ':',
    'mount -t tmpfs tmpfs /usr/sbin',
    'mount -t tmpfs tmpfs /var/lib',
    'mount -t tmpfs tmpfs /var/log',
    box.policy === undefined ? ':' : `printf '#!/bin/sh\\necho "policy-rc.d $*" >> "${log}"\\nexit ${box.policy}\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d`,
    'exec sh "$@"',
  ].join('\n');
  const r = spawnSync('unshare', ['--mount', '--propagation=private', 'sh', '-c', setup, 'sandbox', join(SCRIPTS, script), ...args], {
    encoding: 'utf8',
    env: { PATH: `${dir}:/usr/bin:/bin`, LANG: 'C' },
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const starts = (calls: string[]) => calls.filter((c) => /^systemctl .*\b(start|restart|stop)\b/.test(c) && !/is-active|is-enabled/.test(c));

describe('postinst', () => {
  it('without systemd as PID 1 (a chroot, a container, this machine): enables the unit and starts nothing', () => {
    const calls = runScript('postinst', ['configure', ''], { systemd: false });
    expect(calls).toContain('deb-systemd-helper enable contention-agent.service');
    expect(calls.filter((c) => c.startsWith('systemctl'))).toEqual([]);
  });

  it('under systemd: reloads units and starts the service on a first install, restarts it on an upgrade', () => {
    const first = runScript('postinst', ['configure', ''], { systemd: true });
    expect(first).toContain('systemctl --system daemon-reload');
    expect(starts(first)).toEqual(['systemctl --quiet --system start contention-agent.service']);
    const upgrade = runScript('postinst', ['configure', '0.0.9'], { systemd: true });
    expect(starts(upgrade)).toEqual(['systemctl --quiet --system restart contention-agent.service']);
  });

  it('under systemd with a policy-rc.d that forbids it (exit 101): asks it, and starts nothing', () => {
    const calls = runScript('postinst', ['configure', ''], { systemd: true, policy: 101 });
    expect(calls.some((c) => /^policy-rc\.d contention-agent\.service start/.test(c))).toBe(true);
    expect(starts(calls)).toEqual([]);
  });

  it('under systemd with a policy-rc.d that allows it (exit 0): starts', () => {
    const calls = runScript('postinst', ['configure', ''], { systemd: true, policy: 0 });
    expect(starts(calls)).toEqual(['systemctl --quiet --system start contention-agent.service']);
  });
});

describe('prerm and postrm', () => {
  it('prerm stops the service on removal under systemd, and leaves a running one alone on upgrade', () => {
    expect(starts(runScript('prerm', ['remove'], { systemd: true }))).toEqual(['systemctl stop contention-agent.service']);
    expect(starts(runScript('prerm', ['upgrade', '0.2.0'], { systemd: true }))).toEqual([]);
    expect(runScript('prerm', ['remove'], { systemd: false }).filter((c) => c.startsWith('systemctl'))).toEqual([]);
  });

  it('postrm remove masks the unit, so a leftover enablement cannot start removed files (purge runs for real in the dpkg test)', () => {
    const calls = runScript('postrm', ['remove'], { systemd: false });
    expect(calls).toContain('deb-systemd-helper mask contention-agent.service');
  });
});
