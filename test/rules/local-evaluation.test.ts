import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, parseExposition, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { startAlertmanager } from '../helpers/servers.js';

/**
 * Local evaluation in the built agent: the shipped KernelTableExhausted rule (under 2% free, held 1m)
 * fires on this host's own figures, with /proc copied and pid_max lowered to just above the number of
 * tasks, so the pids table is really nearly full as the agent reads it.
 */
function nearlyFullPidsProcfs(): { procfs: string; tasks: number } {
  const procfs = mkdtempSync(join(tmpdir(), 'ca-proc-'));
  for (const rel of ['meminfo', 'stat', 'loadavg', 'sys/fs/file-nr', 'sys/kernel/pid_max', 'sys/kernel/threads-max', 'sys/vm/overcommit_memory']) {
    mkdirSync(dirname(join(procfs, rel)), { recursive: true });
    // Read and write: procfs files report size 0, so a copy would be empty.
    writeFileSync(join(procfs, rel), readFileSync(join('/proc', rel)));
  }
  const tasks = Number(readFileSync(join(procfs, 'loadavg'), 'utf8').split(/\s+/)[3]!.split('/')[1]);
  // One free PID: 1 of tasks + 1 free is under 2% on any host running more than 49 tasks.
  writeFileSync(join(procfs, 'sys/kernel/pid_max'), `${tasks + 2}\n`);
  return { procfs, tasks };
}

async function metric(agent: RunningAgent, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const series = parseExposition(await (await fetch(`${agent.url}/metrics`)).text());
  return series.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const EXHAUSTED = { alertname: 'KernelTableExhausted', severity: 'critical' };

describe('local rule evaluation in the running agent', () => {
  it('fires a shipped rule on the host\'s own figures, exports its state, logs it and delivers it; a reload keeps it firing', async () => {
    const { procfs, tasks } = nearlyFullPidsProcfs();
    expect(tasks).toBeGreaterThan(49);
    const alertmanager = await startAlertmanager();
    const file = writeConfig(
      `sampling:\n  interval: 1s\npaths:\n  procfs: ${procfs}\nrules:\n  enabled: true\n  instance: test-host\nalerting:\n  alertmanagers: ["${alertmanager.url}"]\n`,
    );
    const agent = await startAgent([`--config.file=${file}`]);
    try {
      await agent.waitForLog(/evaluating alert rules locally/);
      await waitFor(async () => (await metric(agent, 'contention_alert_state', EXHAUSTED)) === 1, 15_000, 'KernelTableExhausted pending');
      expect(agent.logs()).toMatch(/alert pending.*alertname=KernelTableExhausted.*severity=critical.*source=rules/);
      // Every other shipped alert is exported too; a healthy table keeps FreeSystemPTEsLow (Windows only) inactive.
      expect(await metric(agent, 'contention_alert_state', { alertname: 'FreeSystemPTEsLow', severity: 'critical' })).toBe(0);
      expect(await metric(agent, 'contention_alert_state', { alertname: 'AgentAbsent', severity: 'warning' })).toBe(0);

      // Held for the rule's full minute: firing, with the table and the target's labels in the log line.
      await waitFor(async () => (await metric(agent, 'contention_alert_state', EXHAUSTED)) === 2, 90_000, 'KernelTableExhausted firing');
      expect(await metric(agent, 'contention_alerts_firing', EXHAUSTED)).toBe(1);
      const firing = await agent.waitForLog(/alert firing.*alertname=KernelTableExhausted.*/);
      expect(firing).toMatch(/source=rules/);
      expect(firing).toMatch(/summary="Kernel table pids nearly full \([0-9.]+% free\) on test-host"/);
      expect(await metric(agent, 'contention_rule_evaluation_failures_total', { rule_group: 'contention-kernel', rule: 'KernelTableExhausted' })).toBe(0);
      // Delivered like the detector's alerts, marked as coming from the rules.
      let delivered: { labels: Record<string, string>; annotations: Record<string, string> } | undefined;
      await waitFor(async () => {
        const alerts = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as Array<{ labels: Record<string, string>; annotations: Record<string, string> }>;
        delivered = alerts.find((a) => a.labels.alertname === 'KernelTableExhausted');
        return delivered !== undefined;
      }, 15_000, 'KernelTableExhausted at Alertmanager');
      expect(delivered!.labels).toEqual({ alertname: 'KernelTableExhausted', severity: 'critical', table: 'pids', job: 'contention-agent', instance: 'test-host', source: 'rules' });
      expect(delivered!.annotations.runbook_url).toBe('docs/runbooks/KernelTableExhausted.md');

      const pendingBefore = agent.logs().match(/alert pending.*alertname=KernelTableExhausted/g)?.length;
      agent.proc.kill('SIGHUP');
      await agent.waitForLog(/config reloaded/);
      await waitFor(async () => (await metric(agent, 'contention_last_sample_timestamp_seconds', {}))! > Date.now() / 1000 - 1, 10_000, 'a sample after the reload');
      expect(await metric(agent, 'contention_alert_state', EXHAUSTED)).toBe(2);
      expect(agent.logs().match(/alert pending.*alertname=KernelTableExhausted/g)?.length).toBe(pendingBefore);
      expect(agent.logs()).not.toMatch(/alert resolved.*alertname=KernelTableExhausted/);
    } finally {
      await agent.stop();
      await alertmanager.stop();
    }
  }, 150_000);

  it('refuses to start on a rule file it cannot evaluate, naming the file, group, alert and construct', () => {
    const file = writeConfig('rules:\n  enabled: true\n  files: [site-*.yml]\n');
    writeFileSync(join(dirname(file), 'site-a.yml'), 'groups:\n  - name: site\n    rules:\n      - alert: Busy\n        expr: sum(contention_cpu_queue_length) > 4\n');
    const out = spawnSync(process.execPath, [CLI, `--config.file=${file}`, '--web.listen-address=127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000 });
    expect(out.status).toBe(1);
    expect(out.stderr).toContain(`${join(dirname(file), 'site-a.yml')}: group site: alert Busy: unsupported construct: aggregation ("sum(contention_cpu_queue_length)")`);
    const check = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8', timeout: 20_000 });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('alert Busy: unsupported construct: aggregation');
    writeFileSync(file, 'rules:\n  enabled: true\n');
    const valid = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8', timeout: 20_000 });
    expect(valid.status).toBe(0);
    expect(valid.stdout).toMatch(/valid; .*, 38 rules evaluated locally\n$/);
  });

  it('keeps the running rules when a reload brings a bad rule file', async () => {
    const file = writeConfig('sampling:\n  interval: 1s\nrules:\n  enabled: true\n');
    const agent = await startAgent([`--config.file=${file}`]);
    try {
      await waitFor(async () => (await metric(agent, 'contention_alert_state', { alertname: 'CPUQueueSaturated' })) !== undefined, 10_000, 'rule states');
      writeFileSync(join(dirname(file), 'bad.yml'), 'groups:\n  - name: site\n    rules:\n      - alert: Late\n        expr: contention_cpus offset 5m\n');
      writeFileSync(file, 'sampling:\n  interval: 2s\nrules:\n  enabled: true\n  files: [bad.yml]\n');
      agent.proc.kill('SIGHUP');
      await agent.waitForLog(/config reload failed: rule files/);
      expect(agent.logs()).toMatch(/alert Late: unsupported construct: offset modifier/);
      const at = Date.now() / 1000;
      await waitFor(async () => (await metric(agent, 'contention_last_sample_timestamp_seconds', {}))! > at, 10_000, 'a sample after the refused reload');
      expect(await metric(agent, 'contention_sample_interval_seconds', {})).toBe(1);
      expect(await metric(agent, 'contention_alert_state', { alertname: 'CPUQueueSaturated' })).toBeDefined();
    } finally {
      await agent.stop();
    }
  }, 60_000);
});
