import { execFileSync } from 'node:child_process';

const PACKAGES: Record<string, string> = {
  promtool: 'prometheus',
  prometheus: 'prometheus',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  amtool: 'prometheus-alertmanager',
  chromium: 'chromium',
  'prometheus-node-exporter': 'prometheus-node-exporter',
  'prometheus-process-exporter': 'prometheus-process-exporter',
  'systemd-analyze': 'systemd',
  openssl: 'openssl',
  setpriv: 'util-linux',
  gdb: 'gdb',
  gcore: 'gdb',
  file: 'file',
  readelf: 'binutils',
  unshare: 'util-linux',
  zip: 'zip',
  unzip: 'unzip',
  'ansible-playbook': 'ansible-core',
  'victoria-metrics': 'victoria-metrics',
};

/**
 * The absolute path of a real tool a test drives. A missing tool fails the test with the command
 * that installs it: these tests never skip silently.
 */
export function requireTool(name: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    const pkg = PACKAGES[name] ?? name;
    throw new Error(`${name} is not installed; install it with: apt-get update && apt-get install -y ${pkg} (or run: bash test/setup/install-tools.sh)`);
  }
}
