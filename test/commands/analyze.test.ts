import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, startAgent, waitFor, writeConfig } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';
import { promQuery, startPrometheus } from '../helpers/servers.js';
import { noise, pdhCsv } from '../analyze/pdh-log.js';

const write = (name: string, text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'ca-analyze-')), name);
  writeFileSync(file, text);
  return file;
};
const analyze = (...args: string[]) => spawnSync(process.execPath, [CLI, 'analyze', ...args], { encoding: 'utf8' });
const MiB = 2 ** 20;

describe('contention-agent analyze', () => {
  it('exits 1 with findings, and --json gives counter (the exact header), instance, finding, severity, evidence, message', () => {
    const n = noise(1);
    const file = write('leak.csv', pdhCsv({
      rows: 480,
      columns: [
        { path: '\\Process(w3wp#1)\\Private Bytes', value: (i) => 300 * MiB + i * 0.5 * MiB + MiB * n(i) },
        { path: '\\Memory\\Free System Page Table Entries', value: () => 200_000 },
      ],
    }));
    const text = analyze(file);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/^.*: 1 finding, worst first/);
    expect(text.stdout).toMatch(/Judged healthy: 1 series \(.*Free System Page Table Entries\); --verbose lists them/);
    expect(analyze(file, '--verbose').stdout).toMatch(/Examined and judged healthy:\n.*Free System Page Table Entries +min 200,000, max 200,000 over 2\.0 h/);
    const json = analyze(file, '--json');
    expect(json.status).toBe(1);
    const [finding] = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(Object.keys(finding!).sort()).toEqual(['counter', 'evidence', 'finding', 'instance', 'message', 'severity']);
    expect(finding).toMatchObject({ counter: '\\\\WEB01\\Process(w3wp#1)\\Private Bytes', instance: 'w3wp#1', finding: 'leak' });
  });

  it('analyses a log a hung host cut off mid-line up to its last complete row, with a warning naming the line', () => {
    const n = noise(2);
    const full = pdhCsv({ rows: 480, columns: [{ path: '\\Memory\\Pool Nonpaged Bytes', value: (i) => 200 * MiB + i * 0.2 * MiB + 0.1 * MiB * n(i) }] });
    const file = write('cut.csv', full.slice(0, full.length - 9));
    const out = analyze(file);
    expect(out.status).toBe(1);
    expect(out.stderr).toMatch(/^warning: .*cut\.csv: the last line is cut off \(line 481: not CSV: a quoted cell is not closed\); analysed up to the row before it$/m);
    expect(out.stdout).toMatch(/CRITICAL leak: \\\\WEB01\\Memory\\Pool Nonpaged Bytes\n  Kernel pool nonpaged grew steadily at /);
    expect(out.stdout).not.toMatch(/projected_commit_exhaustion/); // a pool exhausts its own limit, not commit
  });

  it('exits 0 when nothing is wrong', () => {
    const file = write('ok.csv', pdhCsv({ rows: 100, columns: [{ path: '\\Memory\\Available Bytes', value: () => 4000 * MiB }] }));
    const out = analyze(file);
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/no leak, exhaustion or saturation found/);
  });

  it('exits 2 naming the line for bad input, and for a missing file', () => {
    const ragged = write('bad.csv', '"(PDH-CSV 4.0) (UTC)(0)","\\\\H\\Memory\\Committed Bytes"\n"01/01/2026 00:00:00.000","1","2"\n');
    const out = analyze(ragged);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/bad\.csv: no readable row \(line 2: ragged row/);
    expect(analyze('/nonexistent/log.csv').status).toBe(2);
    const noMeaning = write('other.csv', '"(PDH-CSV 4.0) (UTC)(0)","\\\\H\\Network Interface(x)\\Bytes Total/sec"\n"01/01/2026 00:00:00.000","1"\n');
    expect(analyze(noMeaning).stderr).toMatch(/none of its 1 counters/);
  });

  it('finds the leaking child in a query_range export from a real Prometheus scraping a real agent', async () => {
    const leaker = await startChild(SCRIPTS.leak(1, 100));
    const agent = await startAgent([`--config.file=${writeConfig(`sampling: { interval: 500ms, queue_interval: 500ms }\ncriteria:\n  - name: leaky\n    include: [{ cmdline: "${leaker.token}" }]\n`)}`]);
    const prometheus = await startPrometheus({ targets: [`127.0.0.1:${agent.port}`] });
    try {
      const start = Date.now() / 1000;
      await waitFor(async () => (await promQuery(prometheus.url, 'count_over_time(contention_process_group_private_bytes{group="leaky"}[2m])')).some((r) => Number(r.value[1]) >= 70), 120_000, '70 scrapes of the leaking group');
      const end = Date.now() / 1000;
      const query = 'contention_process_group_private_bytes';
      const res = await fetch(`${prometheus.url}/api/v1/query_range?query=${encodeURIComponent(query)}&start=${start}&end=${end}&step=1`);
      const file = write('export.json', await res.text());
      const out = analyze(file, '--json');
      expect(out.status, out.stderr).toBe(1);
      const findings = JSON.parse(out.stdout) as Array<{ counter: string; finding: string; evidence: { slope_per_second: number } }>;
      // Other processes on a busy test machine may warm up during so short a window, and other tests'
      // leaking children (each its own group, by display name) may leak faster; the child's leak
      // (10 MiB/s) must be found, at its rate.
      const leaks = findings.filter((f) => f.finding === 'leak');
      const leaky = leaks.find((f) => f.counter === 'contention_process_group_private_bytes{group="leaky"}');
      expect(leaky, JSON.stringify(leaks.map((f) => f.counter))).toBeDefined();
      expect(leaky!.evidence.slope_per_second).toBeGreaterThan(4 * MiB);

      // The same straight from the server: at a 10 ms step two minutes are 12,000 points a series,
      // more than Prometheus answers in one query, so this passes only if the requests are chunked.
      const direct = analyze('--prometheus', prometheus.url, '--match', 'contention_process_group_private_bytes{group="leaky"}', '--since', '2m', '--step', '10ms', '--json');
      expect(direct.status, direct.stderr).toBe(1);
      const [directLeak] = JSON.parse(direct.stdout) as Array<{ counter: string; finding: string }>;
      expect(directLeak).toMatchObject({ counter: 'contention_process_group_private_bytes{group="leaky"}', finding: 'leak' });
      const unchunked = await fetch(`${prometheus.url}/api/v1/query_range?query=up&start=${end - 120}&end=${end}&step=0.01`);
      expect(unchunked.status).toBe(400); // what a single request would have met
    } finally {
      await prometheus.stop();
      await agent.stop();
      killAllChildren();
    }
  }, 240_000);
});
