import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../agent/config/load.js';
import { CLI, ROOT } from '../helpers/agent.js';
import { checkPrometheusConfig } from '../helpers/config-checks.js';

const DIR = join(ROOT, 'deploy/remote-write');

describe('deploy/remote-write samples', () => {
  it.each([
    ['agent-mimir.yaml', '/api/v1/push', 'X-Scope-OrgID'],
    ['agent-thanos-receive.yaml', '/api/v1/receive', 'THANOS-TENANT'],
    ['agent-victoriametrics.yaml', '/api/v1/write', undefined],
  ])('%s is a valid agent config pushing to the receiver\'s write path', (file, path, header) => {
    const result = loadConfigFile(join(DIR, file));
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    const [rw] = result.config.remote_write;
    expect(new URL(rw!.url).pathname).toBe(path);
    if (header) expect(Object.keys(rw!.headers)).toContain(header);
    expect(result.config.external_labels.site).toMatch(/\S/);
  });

  it('prometheus-remote-write.yml passes promtool check config, with external labels that tell its copy apart', () => {
    expect(checkPrometheusConfig(join(DIR, 'prometheus-remote-write.yml'))).toMatch(/SUCCESS/);
    const config = parse(readFileSync(join(DIR, 'prometheus-remote-write.yml'), 'utf8')) as { global: { external_labels: Record<string, string> }; remote_write: Array<{ url: string }> };
    expect(Object.keys(config.global.external_labels)).toEqual(['site', 'replica']);
    expect(config.remote_write.map((r) => new URL(r.url).pathname)).toEqual(['/api/v1/push']);
  });

  it('a remote_write whose TLS file cannot be read fails the start at once, naming the entry and the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-rw-start-'));
    writeFileSync(join(dir, 'agent.yaml'), `remote_write:\n  - url: https://127.0.0.1:9/api/v1/write\n    tls_config: { ca_file: ${join(dir, 'missing.crt')} }\n    disk_queue: { dir: ${join(dir, 'q')} }\n`);
    const out = spawnSync(process.execPath, [CLI, `--config.file=${join(dir, 'agent.yaml')}`, '--web.listen-address=127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000 });
    expect(out.status).toBe(2); // a start-up failure, like a taken port
    expect(out.stderr).toContain(`remote_write[0] (127.0.0.1:9): ENOENT: no such file or directory, open '${join(dir, 'missing.crt')}'`);
  });
});
