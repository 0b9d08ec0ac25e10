import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild, type Child } from '../helpers/children.js';
import { startPrometheusWithConfig, startVictoriaMetrics, type RunningServer } from '../helpers/servers.js';
import { DASHBOARD_FILES, dataPanels } from './dashboard-json.js';

/**
 * A fleet on loopback: 20 agents, each on its own loopback address (127.0.0.11 to .30) with its own
 * procfs tree built from the recorded captures under test/procfs/fixtures, scraped by one Prometheus
 * running the shipped deploy/prometheus/prometheus.yml (its relabelling makes each address a host)
 * with the shipped rules, which remote-writes into VictoriaMetrics; and two more agents pushing by
 * remote write straight into VictoriaMetrics, judging themselves with their local rules. Some hosts
 * are made sick (a pids table exhausted or low, a leaking process), one is stopped. The fleet
 * dashboard's queries, run on VictoriaMetrics, must list all 22 hosts worst first.
 */

const FIXTURES = join(ROOT, 'test/procfs/fixtures');
/** Tasks in the recorded loadavg: the pids table's use. */
const TASKS = 89;

type Health = 'healthy' | 'pids_exhausted' | 'pids_low';

/** A procfs tree of recorded captures; the pids table sized for the wanted health; real processes linked in. */
function hostProcfs(health: Health, pids: readonly number[] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'ca-fleet-proc-'));
  const files: Record<string, string> = {
    meminfo: 'meminfo.txt', stat: 'stat.txt', loadavg: 'loadavg.txt', diskstats: 'diskstats.txt',
    'pressure/cpu': 'pressure-cpu.txt', 'pressure/io': 'pressure-io.txt', 'pressure/memory': 'pressure-io.txt', 'sys/fs/file-nr': 'file-nr.txt',
  };
  for (const [rel, fixture] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    cpSync(join(FIXTURES, fixture), join(root, rel));
  }
  expect(Number(readFileSync(join(root, 'loadavg'), 'utf8').split(/\s+/)[3]!.split('/')[1])).toBe(TASKS);
  // Exhausted: 1 free of 90 (1.1%, under KernelTableExhausted's 2%); low: 6 of 95 (6%, under KernelTableLow's 10%).
  const pidMax = { healthy: 4_194_304, pids_exhausted: TASKS + 1, pids_low: TASKS + 6 }[health];
  mkdirSync(join(root, 'sys/kernel'), { recursive: true });
  mkdirSync(join(root, 'sys/vm'), { recursive: true });
  writeFileSync(join(root, 'sys/kernel/pid_max'), `${pidMax}\n`);
  writeFileSync(join(root, 'sys/kernel/threads-max'), '191565\n');
  writeFileSync(join(root, 'sys/vm/overcommit_memory'), '0\n');
  for (const pid of pids) symlinkSync(`/proc/${pid}`, join(root, String(pid)));
  return root;
}

interface Host { name: string; health: Health; leak?: boolean; pushed?: boolean; stopped?: boolean }

const SCRAPED: Host[] = Array.from({ length: 20 }, (_, i) => ({ name: `127.0.0.${11 + i}`, health: 'healthy' as Health }));
for (const i of [2, 9, 15]) SCRAPED[i]!.health = 'pids_exhausted';
for (const i of [4, 12]) SCRAPED[i]!.health = 'pids_low';
SCRAPED[7]!.leak = true;
SCRAPED[17]!.stopped = true;
const PUSHED: Host[] = [
  { name: 'pushed-1', health: 'pids_exhausted', pushed: true },
  { name: 'pushed-2', health: 'healthy', pushed: true },
];
const HOSTS = [...SCRAPED, ...PUSHED];

/** The rank each host must get: the order the dashboard shows. */
function expectedRank(h: Host): number {
  if (h.stopped) return 6;
  if (h.health === 'pids_exhausted') return 3; // KernelTableExhausted (critical) pending
  if (h.health === 'pids_low' || h.leak) return 2; // KernelTableLow, LeakSuspected (warnings) pending
  return 0;
}

interface Row { metric: Record<string, string>; value: [number, string] }
async function query(url: string, expr: string): Promise<Row[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Row[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

const fleet = DASHBOARD_FILES.find((d) => d.file === 'fleet.json')!.json;
/**
 * A panel's queries as Grafana sends them with job = All, a 10-minute range and a reporting slack of
 * 5 s (60 s by default: this fleet samples every second and is scraped every second).
 */
const exprsOf = (title: string): string[] =>
  dataPanels(fleet).find((p) => p.title === title)!.targets!.map((t) => t.expr.replaceAll('$job', '.+').replaceAll('$__range', '10m').replaceAll('$slack', '5'));

describe('the fleet dashboard against a fleet of 22 agents: 20 scraped by Prometheus, 2 pushing, all in VictoriaMetrics', () => {
  const agents = new Map<string, RunningAgent>();
  let leaker: Child;
  let prometheus: RunningServer;
  let victoria: RunningServer;

  beforeAll(async () => {
    victoria = await startVictoriaMetrics();
    leaker = await startChild(SCRIPTS.leak(1, 100));
    const queues = mkdtempSync(join(tmpdir(), 'ca-fleet-rw-'));
    const configOf = (h: Host): string => {
      const lines = [
        `sampling: { interval: ${h.leak ? '500ms' : '1s'}, queue_interval: ${h.leak ? '500ms' : '1s'} }`,
        `paths: { procfs: ${hostProcfs(h.health, h.leak ? [leaker.pid] : [])} }`,
        // Capture readiness is this machine's, not the fixture host's: it would rank every host alike.
        'collectors: { capture: false }',
      ];
      if (h.leak) lines.push('detection: { window: 30s, min_window: 15s }', `criteria:\n  - name: leaky\n    include: [{ cmdline: "${leaker.token}" }]`);
      if (h.pushed) {
        lines.push(`rules: { enabled: true, instance: ${h.name} }`, 'remote_write:', `  - url: ${victoria.url}/api/v1/write`, `    disk_queue: { dir: ${join(queues, h.name)} }`, '    queue_config: { batch_send_deadline: 1s }');
      }
      return writeConfig(`${lines.join('\n')}\n`);
    };
    // Started a few at a time: 22 Node processes at once would only queue for the two cores.
    for (let i = 0; i < HOSTS.length; i += 6) {
      await Promise.all(
        HOSTS.slice(i, i + 6).map(async (h) => agents.set(h.name, await startAgent([`--config.file=${configOf(h)}`], h.pushed ? {} : { host: h.name, timeoutMs: 60_000 }))),
      );
    }
    // The shipped Prometheus config as it is, but for faster intervals, this fleet's targets, the
    // repository's rules and a remote_write into VictoriaMetrics (the "move to remote write" step of docs/deploy.md).
    const dir = mkdtempSync(join(tmpdir(), 'ca-fleet-prom-'));
    const shipped = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as Record<string, unknown> & { global: Record<string, string> };
    mkdirSync(join(dir, 'targets'));
    writeFileSync(join(dir, 'targets/fleet.yml'), stringify([{ targets: SCRAPED.map((h) => `${h.name}:${agents.get(h.name)!.port}`), labels: { env: 'test' } }]));
    const config = {
      ...shipped,
      global: { ...shipped.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [join(ROOT, 'rules/*.yml')],
      alerting: undefined,
      remote_write: [{ url: `${victoria.url}/api/v1/write`, queue_config: { batch_send_deadline: '1s' } }],
    };
    delete config.alerting;
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    prometheus = await startPrometheusWithConfig(join(dir, 'prometheus.yml'));
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await prometheus?.stop();
    await victoria?.stop();
    killAllChildren();
  });

  it('lists the 22 hosts worst first: the stopped one, critical, warnings (a leak before its peers), then the healthy', async () => {
    const [score, firing, suspects] = exprsOf('Hosts, worst first');
    await waitFor(async () => (await query(victoria.url, 'count(group by (instance) (contention_host_info))'))[0]?.value[1] === '22', 60_000, 'all 22 hosts in VictoriaMetrics');
    const stopped = SCRAPED.find((h) => h.stopped)!;
    await agents.get(stopped.name)!.stop();

    let rows: Row[] = [];
    const rankOf = (r: Row): number => Math.floor(Number(r.value[1]) / 10_000);
    // KernelTableExhausted holds for a minute before it fires: on a slow run it may be firing (5) already.
    const accepts = (h: Host, r: Row | undefined): boolean => r !== undefined && (rankOf(r) === expectedRank(h) || (expectedRank(h) === 3 && rankOf(r) === 5));
    await waitFor(async () => {
      rows = await query(victoria.url, score!);
      const got = Object.fromEntries(rows.map((r) => [r.metric.instance, r]));
      const wrong = HOSTS.filter((h) => !accepts(h, got[h.name])).map((h) => `${h.name}: ${got[h.name] ? `${rankOf(got[h.name]!)} ${got[h.name]!.metric.alertname}` : 'absent'} (want ${expectedRank(h)})`);
      if (wrong.length > 0) throw new Error(wrong.join(', '));
      const leak = rows.find((r) => r.metric.instance === SCRAPED[7]!.name)!;
      if (Number(leak.value[1]) % 100 === 0) throw new Error('the leaking host has no leak suspect yet');
      return rows.length === 22;
    }, 90_000, 'every host at its rank');

    // Worst first, as the table sorts: ranks never rise down the list, and the leak breaks its tie.
    const ranks = rows.map(rankOf);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(rows[0]!.metric).toMatchObject({ instance: stopped.name, alertname: 'NotReporting' });
    const warnings = rows.filter((r) => rankOf(r) === 2).map((r) => r.metric.instance);
    expect(warnings[0]).toBe(SCRAPED[7]!.name);
    expect(new Set(warnings)).toEqual(new Set(HOSTS.filter((h) => expectedRank(h) === 2).map((h) => h.name)));
    for (const r of rows.filter((r) => rankOf(r) === 3 || rankOf(r) === 5)) expect(r.metric).toMatchObject({ alertname: 'KernelTableExhausted', severity: 'critical' });
    // The pushing host judged itself (local rules), the scraped ones were judged by Prometheus.
    expect(rows.find((r) => r.metric.instance === 'pushed-1')!.metric.alertname).toBe('KernelTableExhausted');
    expect(rows.filter((r) => rankOf(r) === 0).map((r) => r.metric.alertname)).toEqual(Array(14).fill('none'));

    // The other columns: firing alerts (none yet, all pending) and leak suspects per host.
    const perHost = async (expr: string) => Object.fromEntries((await query(victoria.url, expr)).map((r) => [r.metric.instance, Number(r.value[1])]));
    const suspectCounts = await perHost(suspects!);
    expect(suspectCounts[SCRAPED[7]!.name]).toBeGreaterThanOrEqual(1);
    expect(Object.keys(suspectCounts).sort()).toEqual(HOSTS.map((h) => h.name).sort());
    expect(Object.values(await perHost(firing!)).every((n) => n >= 0)).toBe(true);

    // The same queries on Prometheus itself see its 20 scraped hosts, in the same order.
    const onPrometheus = (await query(prometheus.url, score!)).map((r) => rankOf(r));
    expect(onPrometheus).toEqual([...onPrometheus].sort((a, b) => b - a));
    expect(onPrometheus.map((r) => (r === 5 ? 3 : r))).toEqual(SCRAPED.map(expectedRank).sort((a, b) => b - a));
  }, 200_000);

  it('counts hosts by condition and lists the one that stopped reporting', async () => {
    const counts = exprsOf('Hosts by condition');
    const legends = dataPanels(fleet).find((p) => p.title === 'Hosts by condition')!.targets!.map((t) => (t as { legendFormat?: string }).legendFormat);
    const got: Record<string, number> = {};
    // The counts are read until they settle: the leaking host's verdict is re-judged every sample.
    await waitFor(async () => {
      for (const [i, expr] of counts.entries()) got[legends[i]!] = Number((await query(victoria.url, expr))[0]!.value[1]);
      return got.ok === 14 && got['not reporting'] === 1;
    }, 60_000, 'the host counts to settle');
    // The four exhausted hosts are critical, pending or (after its minute) firing; the three warnings pending.
    expect(got).toMatchObject({ 'not reporting': 1, 'warning firing': 0, ok: 14 });
    expect(got['critical firing']! + got.pending!).toBe(7);
    const [stoppedExpr] = exprsOf('Hosts that stopped reporting');
    expect((await query(victoria.url, stoppedExpr!)).map((r) => r.metric.instance)).toEqual([SCRAPED[17]!.name]);
  });
});
