import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess, waitFor } from './agent.js';
import { requireTool } from './tools.js';

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  readonly url: string;
  readonly dir: string;
  readonly proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function startServer(
  tool: string,
  args: (port: number, dir: string) => string[],
  readyPath: string,
  at: { port?: number; dir?: string } = {},
): Promise<RunningServer> {
  const binary = requireTool(tool);
  const dir = at.dir ?? mkdtempSync(join(tmpdir(), `ca-${tool}-`));
  const port = at.port ?? (await freePort());
  const proc = spawn(binary, args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = (): Promise<void> => stopProcess(proc);
  try {
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`${tool} exited: ${output}`);
      return (await fetch(`${url}${readyPath}`)).ok;
    }, 30_000, `${tool} to be ready`);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${tool} output:\n${output}`);
  }
  return { url, dir, proc, output: () => output, stop };
}

/** A real Prometheus on loopback with its own config and storage, scraping `targets` every second. */
export function startPrometheus(opts: { targets: string[]; ruleFiles?: string[]; alertmanagers?: string[]; evaluationInterval?: string }): Promise<RunningServer> {
  return startServer(
    'prometheus',
    (port, dir) => {
      const config = [
        'global:',
        '  scrape_interval: 1s',
        `  evaluation_interval: ${opts.evaluationInterval ?? '1s'}`,
        ...(opts.ruleFiles?.length ? ['rule_files:', ...opts.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
        ...(opts.alertmanagers?.length
          ? ['alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: [${opts.alertmanagers.map((a) => JSON.stringify(a)).join(', ')}]`]
          : []),
        'scrape_configs:',
        '  - job_name: contention-agent',
        '    static_configs:',
        `      - targets: [${opts.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      ].join('\n');
      writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
      return [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ];
    },
    '/-/ready',
  );
}

/** A real Prometheus on loopback running a config file as it is (a shipped one, for instance). */
export function startPrometheusWithConfig(configFile: string): Promise<RunningServer> {
  return startServer(
    'prometheus',
    (port, dir) => [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    '/-/ready',
  );
}

/** A real Alertmanager on loopback, clustering off, grouping fast enough for tests. */
export function startAlertmanager(): Promise<RunningServer> {
  return startServer(
    'prometheus-alertmanager',
    (port, dir) => {
      writeFileSync(
        join(dir, 'alertmanager.yml'),
        ['route:', '  receiver: sink', '  group_wait: 1s', '  group_interval: 1s', 'receivers:', '  - name: sink', ''].join('\n'),
      );
      return [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ];
    },
    '/-/ready',
  );
}

/** Runs an instant query and returns the result vector. */
export async function promQuery(prometheusUrl: string, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error}`);
  return body.data.result;
}

/**
 * A real Prometheus accepting remote write (`/api/v1/write`), scraping nothing. Given the port and
 * directory of a stopped one, it starts again on the same storage: a receiver outage and its end.
 */
export function startPrometheusReceiver(at: { port?: number; dir?: string } = {}): Promise<RunningServer> {
  return startServer(
    'prometheus',
    (port, dir) => {
      writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
      return [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--log.level=warn',
      ];
    },
    '/-/ready',
    at,
  );
}

/**
 * A real VictoriaMetrics (Debian's victoria-metrics) on loopback. Queries see samples as soon as
 * they are stored (no latency offset), so a test need not wait half a minute for them.
 */
export function startVictoriaMetrics(at: { port?: number; dir?: string } = {}): Promise<RunningServer> {
  return startServer(
    'victoria-metrics',
    (port, dir) => [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${join(dir, 'data')}`,
      '-retentionPeriod=1',
      '-search.latencyOffset=0s',
      '-search.disableCache',
      '-loggerLevel=WARN',
    ],
    '/health',
    at,
  );
}

/** Raw samples of the series matching `selector` over the last `seconds`, from Prometheus or VictoriaMetrics alike. */
export async function rawSamples(url: string, selector: string, seconds: number): Promise<Array<{ metric: Record<string, string>; values: Array<[number, string]> }>> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(`${selector}[${seconds}s]`)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
  if (body.status !== 'success') throw new Error(`query ${selector} failed: ${body.error}`);
  return body.data.result;
}
