import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { PINNED_HOST_METRICS } from '../helpers/pinned.js';
import { requireTool } from '../helpers/tools.js';

const PINNED = PINNED_HOST_METRICS;

describe('the running agent (built binary, embedded defaults)', () => {
  let agent: RunningAgent;
  beforeAll(async () => {
    agent = await startAgent();
  });
  afterAll(() => agent?.stop());

  it('serves every pinned metric with sane values', async () => {
    const body = await (await fetch(`${agent.url}/metrics`)).text();
    const series = parseExposition(body);
    const names = new Set(series.map((s) => s.name));
    for (const name of PINNED) expect(names, name).toContain(name);

    const value = (name: string, labels: Record<string, string> = {}) =>
      series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    for (const table of ['file_handles', 'pids', 'threads']) {
      const free = value('contention_kernel_table_free_entries', { table })!;
      const size = value('contention_kernel_table_size_entries', { table })!;
      expect(free, table).toBeGreaterThan(0);
      expect(free, table).toBeLessThanOrEqual(size);
    }
    expect(value('contention_cpus')).toBe(Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
    expect(value('contention_memory_available_bytes')).toBeGreaterThan(0);
    expect(value('contention_memory_available_bytes')).toBeLessThanOrEqual(value('contention_memory_physical_bytes')!);
    expect(value('contention_kernel_pool_bytes', { pool: 'slab_unreclaimable' })).toBeGreaterThan(0);
    expect(value('contention_cpu_queue_length_peak')).toBeGreaterThanOrEqual(0);
    expect(Math.abs(value('contention_last_sample_timestamp_seconds')! - Date.now() / 1000)).toBeLessThan(30);
    for (const s of series.filter((x) => x.name === 'contention_collector_success')) expect(s.value, s.labels.collector).toBe(1);
    for (const s of series.filter((x) => x.name === 'contention_disk_queue_length')) {
      expect(s.labels.device).not.toMatch(/^(loop|ram)\d+$/);
    }
  });

  it('draws no lint from promtool check metrics', async () => {
    const promtool = requireTool('promtool');
    const body = await (await fetch(`${agent.url}/metrics`)).text();
    const lint = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  it('serves gzip when asked, the same text as plain', async () => {
    const res = await fetch(`${agent.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    // fetch decodes gzip itself; the body must still be a valid exposition
    expect(parseExposition(await res.text()).length).toBeGreaterThan(50);
    const raw = await new Promise<Buffer>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(`${agent.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
        }).on('error', reject),
      );
    });
    expect(gunzipSync(raw).toString()).toMatch(/^# HELP /m);
  });

  it('serves the cached sample: scrapes between samples return identical text', async () => {
    const texts = await Promise.all([1, 2, 3].map(async () => (await fetch(`${agent.url}/metrics`)).text()));
    const stamps = texts.map((t) => /contention_last_sample_timestamp_seconds (\S+)/.exec(t)![1]);
    // Three scrapes in the same few milliseconds share a sample unless a new one landed between them.
    expect(new Set(stamps).size).toBeLessThanOrEqual(2);
  });

  it('answers health and readiness, and refuses anything but GET/HEAD', async () => {
    expect((await fetch(`${agent.url}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${agent.url}/-/ready`)).status).toBe(200);
    expect((await fetch(`${agent.url}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await fetch(`${agent.url}/nope`)).status).toBe(404);
  });
});

describe('config reload', () => {
  it('keeps the running config when the new file is bad, and takes a good one', async () => {
    const file = writeConfig('sampling:\n  interval: 1s\n');
    const agent = await startAgent([`--config.file=${file}`]);
    try {
      const interval = async () =>
        parseExposition(await (await fetch(`${agent.url}/metrics`)).text()).find((s) => s.name === 'contention_sample_interval_seconds')?.value;
      expect(await interval()).toBe(1);

      writeFileSync(file, 'sampling:\n  interval: -3s\n  nonsense: true\n');
      agent.proc.kill('SIGHUP');
      const failure = await agent.waitForLog(/config reload failed.*\n/);
      expect(failure).toMatch(/sampling\.interval/);
      expect(failure).toMatch(/sampling\.nonsense: unknown setting/);
      expect(await interval()).toBe(1);
      expect((await fetch(`${agent.url}/-/healthy`)).status).toBe(200);

      writeFileSync(file, 'sampling:\n  interval: 2s\n');
      agent.proc.kill('SIGHUP');
      await agent.waitForLog(/config reloaded/);
      await waitFor(async () => (await interval()) === 2, 10_000, 'the new interval to be served');
    } finally {
      await agent.stop();
    }
  });
});

describe('a /proc without PSI or diskstats', () => {
  const fakeProc = (): string => {
    const procfs = mkdtempSync(join(tmpdir(), 'ca-proc-'));
    for (const rel of ['meminfo', 'stat', 'loadavg', 'sys/fs/file-nr', 'sys/kernel/pid_max', 'sys/kernel/threads-max', 'sys/vm/overcommit_memory']) {
      mkdirSync(dirname(join(procfs, rel)), { recursive: true });
      // copyFileSync sees procfs files as empty (they report size 0), so read and write them.
      writeFileSync(join(procfs, rel), readFileSync(join('/proc', rel)));
    }
    return procfs;
  };
  const health = (series: ReturnType<typeof parseExposition>, name: string) =>
    Object.fromEntries(series.filter((s) => s.name === name).map((s) => [s.labels.collector, s.value]));

  it('shows those collectors as unsupported, not failing: logged once at info, and CollectorFailing stays inactive', async () => {
    const procfs = fakeProc();
    const file = writeConfig('sampling: { interval: 500ms, queue_interval: 250ms }\nrules: { enabled: true }\n');
    const agent = await startAgent([`--config.file=${file}`, `--path.procfs=${procfs}`]);
    try {
      // A few samples, so "once" means once.
      await waitFor(async () => {
        const text = await (await fetch(`${agent.url}/metrics`)).text();
        return parseExposition(text).some((s) => s.name === 'contention_alert_state' && s.labels.alertname === 'CollectorFailing');
      }, 15_000, 'the local rules to run');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const series = parseExposition(await (await fetch(`${agent.url}/metrics`)).text());
      const success = health(series, 'contention_collector_success');
      expect(success).toMatchObject({ kernel_tables: 1, kernel_pools: 1, memory: 1, cpu: 1 });
      expect(success).not.toHaveProperty('pressure');
      expect(success).not.toHaveProperty('disk_queue');
      expect(health(series, 'contention_collector_unsupported')).toEqual({ pressure: 1, disk_queue: 1 });
      expect(series.some((s) => s.name === 'contention_pressure_stalled_seconds_total')).toBe(false);
      expect(series.some((s) => s.name === 'contention_kernel_table_free_entries')).toBe(true);
      // The shipped CollectorFailing rule, evaluated locally, is not even pending.
      expect(series.find((s) => s.name === 'contention_alert_state' && s.labels.alertname === 'CollectorFailing')?.value).toBe(0);
      const lines = agent.logs().split('\n');
      expect(lines.filter((l) => /level=info .*msg="collector unsupported on this host" .*collector=pressure/.test(l))).toHaveLength(1);
      expect(lines.filter((l) => /collector failed.*collector=(pressure|disk_queue)/.test(l))).toEqual([]);
    } finally {
      await agent.stop();
    }
  });

  it('still fails a collector whose file is there but unreadable as PSI', async () => {
    const procfs = fakeProc();
    mkdirSync(join(procfs, 'pressure'));
    for (const r of ['cpu', 'memory', 'io']) writeFileSync(join(procfs, 'pressure', r), 'not pressure at all\n');
    const agent = await startAgent([`--path.procfs=${procfs}`]);
    try {
      const series = parseExposition(await (await fetch(`${agent.url}/metrics`)).text());
      expect(health(series, 'contention_collector_success')).toMatchObject({ pressure: 0 });
      expect(health(series, 'contention_collector_unsupported')).toEqual({ disk_queue: 1 });
      expect(agent.logs()).toMatch(/collector failed.*collector=pressure/);
    } finally {
      await agent.stop();
    }
  });
});
