// Every artifact `npm run package` builds, installed the way a user installs it, each serving lint-clean /metrics.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startAgent, waitFor, type RunningAgent } from '../helpers/agent.js';
import { requireTool } from '../helpers/tools.js';
import { freePort, prepareWine, startWine, stopAllWine, WINE_TMP, type WineProcess } from '../helpers/wine.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const V = pkg.version;
const ARTIFACTS = [
  `contention-agent-${V}.tgz`,
  `contention-agent-${V}.linux-amd64.tar.gz`,
  `contention-agent_${V}_amd64.deb`,
  `contention-agent-${V}.windows-amd64.zip`,
  `contention-agent-${V}.container.tar.gz`,
];

/** A world-readable scratch folder: the deb and container tests run the agent as another user. */
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

const sh = (cmd: string, args: readonly string[], opts: { cwd?: string; input?: string } = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });

/** Scrapes /metrics and asserts promtool finds nothing to lint; returns the body. */
async function lintCleanMetrics(agent: RunningAgent): Promise<string> {
  const body = await (await fetch(`${agent.url}/metrics`)).text();
  expect(body).toMatch(/^contention_kernel_table_free_entries\{/m);
  const lint = spawnSync(requireTool('promtool'), ['check', 'metrics'], { input: body, encoding: 'utf8' });
  expect(lint.stdout + lint.stderr).toBe('');
  expect(lint.status).toBe(0);
  // The status page ships too (the npm file list once left it out).
  const page = await fetch(`${agent.url}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<html/i);
  return body;
}

let out: string;
beforeAll(() => {
  out = scratch('ca-packages-');
  // The same command `npm run package` runs after the build; the test command has built dist/ already.
  const build = spawnSync(process.execPath, [join(ROOT, 'deploy/package/build.mjs'), `--out=${out}`], { encoding: 'utf8', cwd: ROOT });
  if (build.status !== 0) throw new Error(`npm run package failed:\n${build.stdout}\n${build.stderr}`);
}, 480_000);

describe('npm run package', () => {
  it('builds the five artifacts and a SHA256SUMS that checks', () => {
    expect(readdirSync(out).sort()).toEqual([...ARTIFACTS, 'SHA256SUMS'].sort());
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8');
    expect(sums.trim().split('\n').map((l) => l.split(/\s+/)[1]).sort()).toEqual([...ARTIFACTS].sort());
    expect(sh('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: out })).toMatch(new RegExp(`${ARTIFACTS.length === 5 ? '' : 'x'}OK`));
    for (const a of ARTIFACTS) console.log(`${a}: ${(statSync(join(out, a)).size / 1048576).toFixed(1)} MiB`);
  });
});

describe('the npm tarball', () => {
  let agent: RunningAgent;
  afterAll(() => agent?.stop());

  it('installed globally into a fresh prefix, runs and serves the page and lint-clean /metrics', async () => {
    const prefix = scratch('ca-npm-prefix-');
    sh('npm', ['install', '--global', `--prefix=${prefix}`, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(out, ARTIFACTS[0]!)]);
    const bin = join(prefix, 'bin/contention-agent');
    expect(sh(bin, ['--version'])).toMatch(new RegExp(`^contention-agent, version ${V.replace(/\./g, '\\.')} \\(revision: [0-9a-f]{40}`));
    agent = await startAgent([], { command: [bin] });
    await lintCleanMetrics(agent);
    // The shipped rules come along: local evaluation finds them without a path.
    expect(existsSync(join(prefix, 'lib/node_modules/contention-agent/rules/contention.yml'))).toBe(true);
  }, 240_000);
});

describe('the self-contained Linux tarball', () => {
  let agent: RunningAgent;
  let tree: string;
  afterAll(() => agent?.stop());

  beforeAll(() => {
    const dir = scratch('ca-linux-');
    sh('tar', ['-xzf', join(out, ARTIFACTS[1]!), '-C', dir]);
    tree = join(dir, `contention-agent-${V}.linux-amd64`);
  });

  // Every node on PATH and this test's own runtime, hidden behind /dev/null in a private mount namespace.
  const nodes = (): string[] => {
    const found = spawnSync('sh', ['-c', 'which -a node'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    return [...new Set([...found, process.execPath].map((p) => sh('readlink', ['-f', p]).trim()))];
  };
  const noNode = (): string[] => {
    const binds = nodes().map((n) => `mount --bind /dev/null '${n}'`).join(' && ');
    return ['unshare', '--mount', '--propagation=private', 'sh', '-c', `${binds} && exec "$@"`, 'no-node'];
  };

  it('carries the pinned runtime, the launcher and production dependencies only', () => {
    expect(sh(join(tree, 'node/bin/node'), ['--version']).trim()).toBe('v20.20.2');
    expect(statSync(join(tree, 'contention-agent')).mode & 0o111).not.toBe(0);
    expect(existsSync(join(tree, 'node_modules/@koromix/koffi-linux-x64'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'playwright-core']) expect(existsSync(join(tree, 'node_modules', dev)), dev).toBe(false);
  });

  it('runs where no system node is reachable, and serves lint-clean /metrics', async () => {
    requireTool('unshare');
    // The sandbox really has no node: running one fails.
    const probe = spawnSync(noNode()[0]!, [...noNode().slice(1), 'sh', '-c', 'node --version'], { encoding: 'utf8' });
    expect(probe.status, probe.stdout).not.toBe(0);
    agent = await startAgent([`--config.file=${join(tree, 'agent.yml')}`], { command: [...noNode(), join(tree, 'contention-agent')] });
    const body = await lintCleanMetrics(agent);
    expect(body).toMatch(new RegExp(`^contention_host_info\\{.*agent_version="${V.replace(/\./g, '\\.')}"`, 'm'));
  }, 120_000);
});

describe('the Debian package', () => {
  const deb = () => join(out, ARTIFACTS[2]!);
  const installed = () => spawnSync('dpkg-query', ['-W', '-f=${Status}', 'contention-agent'], { encoding: 'utf8' }).stdout;
  const userLine = (db: 'passwd' | 'group') => spawnSync('getent', [db, 'contention-agent'], { encoding: 'utf8' }).stdout;
  const OURS = [
    '/usr/bin/contention-agent',
    '/usr/lib/contention-agent',
    '/usr/share/contention-agent',
    '/etc/contention-agent',
    '/var/lib/contention-agent',
    '/var/log/contention-agent',
    '/usr/lib/systemd/system/contention-agent.service',
    '/usr/lib/sysusers.d/contention-agent.conf',
    '/etc/systemd/system/multi-user.target.wants/contention-agent.service',
    '/etc/systemd/system/contention-agent.service',
    '/var/lib/systemd/deb-systemd-helper-enabled/contention-agent.service.dsh-also',
  ];
  const ASIDE = ['/var/lib/contention-agent', '/var/log/contention-agent'];
  let before: { passwd: string; group: string; present: string[] };
  let agent: RunningAgent | undefined;
  afterAll(async () => {
    await agent?.stop();
    // Never leave the package on the machine, whatever failed.
    if (installed().includes('installed')) spawnSync('dpkg', ['--purge', 'contention-agent']);
    for (const p of ASIDE) {
      if (!existsSync(`${p}.ca-test-aside`)) continue;
      rmSync(p, { recursive: true, force: true });
      renameSync(`${p}.ca-test-aside`, p);
    }
  });

  /** dpkg takes a lock other package tools on this machine may hold for a moment. */
  const dpkg = (...args: string[]) => {
    for (let i = 0; ; i++) {
      const r = spawnSync('dpkg', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      if (r.status === 0) return r.stdout + r.stderr;
      if (!/lock/i.test(r.stderr) || i >= 30) throw new Error(`dpkg ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
      execFileSync('sleep', ['2']);
    }
  };

  it('has the layout, the conffile and the metadata', () => {
    const contents = sh('dpkg-deb', ['--contents', deb()]);
    for (const path of [
      './usr/bin/contention-agent -> ../lib/contention-agent/contention-agent',
      './usr/lib/contention-agent/node/bin/node',
      './usr/lib/systemd/system/contention-agent.service',
      './usr/lib/sysusers.d/contention-agent.conf',
      './etc/contention-agent/agent.yml',
      './usr/share/contention-agent/rules/contention.yml',
      './usr/share/contention-agent/rules/fleet.yml',
      './usr/share/contention-agent/dashboards/',
    ]) {
      expect(contents, path).toContain(path);
    }
    expect(sh('dpkg-deb', ['--field', deb(), 'Package', 'Version', 'Architecture'])).toBe(`Package: contention-agent\nVersion: ${V}\nArchitecture: amd64\n`);
    expect(sh('dpkg-deb', ['--info', deb(), 'conffiles'])).toBe('/etc/contention-agent/agent.yml\n');
    // The packaged unit is the shipped one, hardened the same, pointed at /usr/bin.
    const dir = scratch('ca-deb-x-');
    sh('dpkg-deb', ['-x', deb(), dir]);
    const unit = readFileSync(join(dir, 'usr/lib/systemd/system/contention-agent.service'), 'utf8');
    const shipped = readFileSync(join(ROOT, 'deploy/systemd/contention-agent.service'), 'utf8');
    const directives = (t: string) => t.split('\n').filter((l) => /^[A-Z]\w+=/.test(l));
    expect(directives(unit)).toEqual(directives(shipped).map((l) => l.replace('ExecStart=/usr/local/bin/', 'ExecStart=/usr/bin/')));
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/contention-agent --config\.file=\/etc\/contention-agent\/agent\.yml$/m);
    expect(unit).toMatch(/^Type=exec$/m);
    expect(unit).toMatch(/^StateDirectory=contention-agent$/m);
    expect(unit).toMatch(/^LogsDirectory=contention-agent$/m);
    expect(sh(join(dir, 'usr/lib/contention-agent/contention-agent'), ['check-config', join(dir, 'etc/contention-agent/agent.yml')])).toMatch(/valid/);
  });

  it('installs with dpkg -i, runs as its own user, serves lint-clean /metrics, keeps an edited conffile on upgrade, and purges to the machine it found', async () => {
    expect(installed(), 'contention-agent is already installed on this machine; remove it first').not.toContain('installed');
    // An agent run outside the package (another test's, a developer's) keeps its history in the same
    // state and log directories: set them aside while the package is installed and purged, and put
    // them back after, so the check sees only what the package does.
    for (const p of ASIDE) if (existsSync(p)) renameSync(p, `${p}.ca-test-aside`);
    before = { passwd: userLine('passwd'), group: userLine('group'), present: OURS.filter((p) => existsSync(p)) };
    dpkg('-i', deb());
    expect(installed()).toBe('install ok installed');
    expect(userLine('passwd')).toMatch(/^contention-agent:x:\d+:\d+:[^:]*:\/:\/usr\/sbin\/nologin$/m);
    const state = statSync('/var/lib/contention-agent');
    expect(state.mode & 0o777).toBe(0o750);
    expect(state.uid).toBe(Number(sh('id', ['-u', 'contention-agent']).trim()));
    // Enabled for boot; not started, since systemd is not PID 1 here (postinst starts it only then).
    expect(existsSync('/etc/systemd/system/multi-user.target.wants/contention-agent.service')).toBe(true);
    expect(sh('/usr/bin/contention-agent', ['--version'])).toMatch(`version ${V} `);

    agent = await startAgent(['--config.file=/etc/contention-agent/agent.yml'], {
      command: [requireTool('setpriv'), '--reuid=contention-agent', '--regid=contention-agent', '--init-groups', '--', '/usr/bin/contention-agent'],
    });
    await lintCleanMetrics(agent);
    await agent.stop();
    agent = undefined;

    // An upgrade (the same version again takes the same path) keeps the admin's edit of the conffile.
    const edited = `${readFileSync('/etc/contention-agent/agent.yml', 'utf8')}# edited by the admin\n`;
    writeFileSync('/etc/contention-agent/agent.yml', edited);
    dpkg('--force-confold', '-i', deb());
    expect(readFileSync('/etc/contention-agent/agent.yml', 'utf8')).toBe(edited);

    dpkg('--purge', 'contention-agent');
    expect(installed()).not.toContain('installed');
    expect(OURS.filter((p) => existsSync(p))).toEqual(before.present);
    expect(userLine('passwd')).toBe(before.passwd);
    expect(userLine('group')).toBe(before.group);
  }, 300_000);
});

describe('the Windows zip', () => {
  let listing: string[];
  beforeAll(() => {
    listing = sh('unzip', ['-Z1', join(out, ARTIFACTS[3]!)]).split('\n').filter(Boolean);
  });
  const top = `contention-agent-${V}.windows-amd64/`;

  it('carries node.exe, the WinSW wrapper, the scripts, the default config and koffi win32-x64 prebuild', () => {
    for (const f of [
      'node.exe',
      'contention-agent.exe',
      'contention-agent.exe.config',
      'contention-agent.xml',
      'install.ps1',
      'uninstall.ps1',
      'config.yaml',
      'README.txt',
      'dist/agent/cli.js',
      'agent/http/page/index.html',
      'rules/contention.yml',
      'node_modules/@koromix/koffi-win32-x64/win32_x64/koffi.node',
    ]) {
      expect(listing, f).toContain(top + f);
    }
    // Nothing for another platform, nothing for development.
    expect(listing.filter((f) => /koffi-linux|\/vitest\/|\/typescript\//.test(f))).toEqual([]);
  });

  it('node.exe and the wrapper are Windows x64 and .NET executables, and the XML names files the zip has', () => {
    const dir = scratch('ca-zip-');
    sh('unzip', ['-q', join(out, ARTIFACTS[3]!), `${top}node.exe`, `${top}contention-agent.exe`, `${top}contention-agent.xml`, '-d', dir]);
    const pe = (file: string) => {
      const b = readFileSync(file);
      expect(b.subarray(0, 2).toString()).toBe('MZ');
      const at = b.readUInt32LE(0x3c);
      expect(b.subarray(at, at + 4).toString('latin1')).toBe('PE\0\0');
      return b.readUInt16LE(at + 4);
    };
    expect(pe(join(dir, top, 'node.exe'))).toBe(0x8664); // AMD64
    pe(join(dir, top, 'contention-agent.exe'));
    const xml = readFileSync(join(dir, top, 'contention-agent.xml'), 'utf8');
    for (const m of xml.matchAll(/%BASE%\\([^"<\s]+)/g)) expect(listing, m[1]).toContain(top + m[1]!.replace(/\\/g, '/'));
  });
});

describe('the Windows zip under Wine, unpacked and run with its own node.exe', () => {
  let app: string;
  let agent: WineProcess;
  let port: number;
  beforeAll(async () => {
    await prepareWine();
    const dir = join(WINE_TMP, `zip-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    sh('unzip', ['-q', join(out, ARTIFACTS[3]!), '-d', dir]);
    app = join(dir, `contention-agent-${V}.windows-amd64`);
    // What the service runs (contention-agent.xml): node.exe beside the agent, the shipped config;
    // only the listen address is moved to a free loopback port. No file of the checkout is used.
    port = await freePort();
    agent = startWine(join(app, 'node.exe'), [join(app, 'dist/agent/cli.js'), 'run', `--config.file=${join(app, 'config.yaml')}`, `--web.listen-address=127.0.0.1:${port}`], {
      logFile: join(dir, 'agent.log'),
      cwd: app,
      timeoutSeconds: 180,
    });
    await waitFor(async () => {
      if (agent.proc.exitCode !== null) throw new Error(`the zip's agent exited (${agent.proc.exitCode}):\n${agent.log().slice(-4000)}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/-/ready`)).status === 200;
      } catch {
        return false;
      }
    }, 90_000, "the zip's agent under Wine to serve");
  }, 180_000);
  afterAll(async () => {
    agent?.kill('SIGINT');
    await stopAllWine();
    if (app) rmSync(join(app, '..'), { recursive: true, force: true });
  }, 60_000);

  it('serves lint-clean /metrics on win32, the native process list read through its own koffi prebuild', async () => {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const lint = spawnSync(requireTool('promtool'), ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(body).toMatch(/^contention_host_info\{os="win32",.*agent_version="[^"]+"\} 1$/m);
    expect(body).toMatch(/^contention_collector_success\{collector="processes"\} 1$/m);
    expect(body).toMatch(/^contention_process_group_processes\{group="node"\} [1-9]/m);
    expect(body).toMatch(/^contention_memory_commit_limit_bytes [1-9]/m);
    // The shipped config's interval, not the embedded default.
    expect(body).toMatch(/^contention_sample_interval_seconds 10$/m);
  });

  it('serves the status page at /', async () => {
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
  });
});

describe('the container build context', () => {
  let ctx: string;
  beforeAll(() => {
    ctx = scratch('ca-ctx-');
    sh('tar', ['-xzf', join(out, ARTIFACTS[4]!), '-C', ctx]);
  });

  it('holds the Dockerfile, the entrypoint and the self-contained tarball, and the Dockerfile uses exactly those', () => {
    expect(readdirSync(ctx).sort()).toEqual(['Dockerfile', 'contention-agent.linux-amd64.tar.gz', 'entrypoint.sh']);
    const dockerfile = readFileSync(join(ctx, 'Dockerfile'), 'utf8');
    const sources = [...dockerfile.matchAll(/^(?:ADD|COPY) (?!--from)(\S+) \S+$/gm)].map((m) => m[1]);
    expect(sources.sort()).toEqual(['contention-agent.linux-amd64.tar.gz', 'entrypoint.sh']);
    // The one folder in the tarball is what the Dockerfile's glob moves into place.
    const tops = new Set(sh('tar', ['-tzf', join(ctx, 'contention-agent.linux-amd64.tar.gz')]).split('\n').filter(Boolean).map((p) => p.split('/')[0]));
    expect([...tops]).toEqual([`contention-agent-${V}.linux-amd64`]);
    expect(dockerfile).toMatch(/^RUN mv \/unpack\/contention-agent-\*\.linux-amd64 \/opt\/contention-agent$/m);
    // Non-root, the same uid the entrypoint drops to, and the entrypoint is where COPY put it.
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/useradd --system --uid 10001 /);
    expect(readFileSync(join(ctx, 'entrypoint.sh'), 'utf8')).toMatch(/uid=\$\{CONTENTION_AGENT_UID:-10001\}/);
    expect(dockerfile).toMatch(/^COPY entrypoint\.sh \/usr\/local\/bin\/contention-agent-entrypoint$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/contention-agent-entrypoint"\]$/m);
    expect(statSync(join(ctx, 'entrypoint.sh')).mode & 0o111).not.toBe(0);
  });

  /** The entrypoint run as a container runtime would: root, with only `caps` in the bounding set. */
  async function asContainer(caps: string[]): Promise<{ agent: RunningAgent; status: string }> {
    const image = scratch('ca-image-');
    sh('tar', ['-xzf', join(ctx, 'contention-agent.linux-amd64.tar.gz'), '-C', image]);
    const launcher = join(image, `contention-agent-${V}.linux-amd64/contention-agent`);
    const bounding = ['-all', ...caps.map((c) => `+${c}`)].join(',');
    const agent = await startAgent([], {
      command: [requireTool('setpriv'), `--bounding-set=${bounding}`, '--inh-caps=-all', '--', 'env', `CONTENTION_AGENT_LAUNCHER=${launcher}`, join(ctx, 'entrypoint.sh')],
    });
    return { agent, status: readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8') };
  }
  const field = (status: string, name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)![1]!;
  const bits = (hex: string) => [0, 1, 2, 5, 6, 7, 19, 23].filter((b) => (BigInt(`0x${hex}`) >> BigInt(b)) & 1n);

  it('started as root with the two read capabilities and SETUID/SETGID, runs the agent as uid 10001 holding only the two', async () => {
    const { agent, status } = await asContainer(['sys_ptrace', 'dac_read_search', 'setuid', 'setgid']);
    try {
      expect(field(status, 'Uid').split(/\s+/)).toEqual(['10001', '10001', '10001', '10001']);
      for (const set of ['CapEff', 'CapPrm', 'CapAmb', 'CapInh']) expect(bits(field(status, set)), set).toEqual([2, 19]);
      expect(field(status, 'NoNewPrivs')).toBe('1');
      await lintCleanMetrics(agent);
    } finally {
      await agent.stop();
    }
  }, 120_000);

  it('started as root without SETUID, refuses in one line instead of running the agent as root', () => {
    const r = spawnSync(requireTool('setpriv'), ['--bounding-set=-all,+sys_ptrace', '--inh-caps=-all', '--', join(ctx, 'entrypoint.sh')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot become uid 10001/);
  });
});

// Keep the scratch builds from piling up across runs.
afterAll(() => {
  if (out) spawnSync('rm', ['-rf', out]);
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
});
