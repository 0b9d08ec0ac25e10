import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, ROOT, startAgent, waitFor, writeConfig, type RunningAgent } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild, type Child } from '../helpers/children.js';
import { startAlertmanager, startPrometheus, type RunningServer } from '../helpers/servers.js';

interface AmAlert {
  startsAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
}

describe('alerts reach a real Alertmanager from the agent and from Prometheus evaluating rules/', () => {
  let alertmanager: RunningServer;
  let prometheus: RunningServer;
  let agent: RunningAgent;
  let leaker: Child;

  beforeAll(async () => {
    alertmanager = await startAlertmanager();
    leaker = await startChild(SCRIPTS.leak(1, 100));
    agent = await startAgent([
      `--config.file=${writeConfig(`
sampling: { interval: 500ms, queue_interval: 500ms }
detection: { window: 30s, min_window: 15s, confirm: 2s }
criteria:
  - name: leaky
    include: [{ cmdline: "${leaker.token}" }]
alerting:
  alertmanagers: ["${alertmanager.url}"]
  # long, so the alert can only leave Alertmanager early through the agent's resolution (endsAt)
  resend_interval: 1m
`)}`,
    ]);
    // The shipped rules, with every `for` cut to zero so a test need not wait 15 minutes.
    const rules = readFileSync(join(ROOT, 'rules/contention.yml'), 'utf8').replace(/^(\s+)for: \S+$/gm, '$1for: 0s');
    const rulesFile = join(alertmanager.dir, 'rules.yml');
    writeFileSync(rulesFile, rules);
    prometheus = await startPrometheus({
      targets: [`127.0.0.1:${agent.port}`],
      ruleFiles: [rulesFile],
      alertmanagers: [new URL(alertmanager.url).host],
    });
  });

  afterAll(async () => {
    killAllChildren();
    await prometheus?.stop();
    await agent?.stop();
    await alertmanager?.stop();
  });

  const alerts = async (): Promise<AmAlert[]> => (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as AmAlert[];

  it('the agent\'s detector raises a leak alert that names the leaking child', async () => {
    let found: AmAlert | undefined;
    await waitFor(async () => {
      found = (await alerts()).find(
        (a) => a.labels.alertname === 'LeakSuspected' && a.labels.source === 'detector' && a.labels.subject === `node ${leaker.token}.js[${leaker.pid}]`,
      );
      return found !== undefined;
    }, 45_000, 'the detector\'s LeakSuspected alert for the child');
    expect(found!.labels).toEqual({ alertname: 'LeakSuspected', severity: 'warning', subject_kind: 'process', subject: `node ${leaker.token}.js[${leaker.pid}]`, resource: 'private_bytes', instance: expect.any(String), source: 'detector' });
    expect(found!.annotations.summary).toMatch(/leaks private_bytes: \+\d/);
    expect(found!.status.state).toBe('active');
    // the log always hears it too, and the agent exports what it judged and what it delivered
    expect(agent.logs()).toMatch(new RegExp(`msg="alert firing" alertname=LeakSuspected .*summary="process node ${leaker.token}\\.js\\[${leaker.pid}\\] leaks private_bytes`));
    let metrics = parseExposition('');
    const value = (name: string, labels: Record<string, string>) =>
      metrics.find((m) => m.name === name && Object.entries(labels).every(([k, v]) => m.labels[k] === v))?.value;
    const receiver = { receiver: `alertmanager ${new URL(alertmanager.url).host}` };
    // delivery counters are exported with the sample after the one whose alerts they sent
    await waitFor(async () => {
      metrics = parseExposition(await (await fetch(`${agent.url}/metrics`)).text());
      return (value('contention_alert_batches_sent_total', receiver) ?? 0) >= 1;
    }, 10_000, 'the delivery counter');
    expect(value('contention_alert_batches_dropped_total', receiver)).toBe(0);
    const subject = { subject_kind: 'process', subject: `node ${leaker.token}.js[${leaker.pid}]`, resource: 'private_bytes' };
    expect(value('contention_leak_suspected', subject)).toBe(1);
    expect(value('contention_growth_bytes_per_second', subject)).toBeGreaterThan(0);
  });

  it('Prometheus, evaluating the shipped rules on the scraped agent, fires into the same Alertmanager', async () => {
    let found: AmAlert | undefined;
    await waitFor(async () => {
      found = (await alerts()).find((a) => a.labels.alertname === 'LeakSuspected' && a.labels.job === 'contention-agent' && a.labels.subject === `node ${leaker.token}.js[${leaker.pid}]`);
      return found !== undefined;
    }, 45_000, 'the rule-evaluated LeakSuspected alert for the child');
    expect(found!.labels).toMatchObject({ subject_kind: 'process', resource: 'private_bytes', severity: 'warning' });
    // one leak, one suspect: the child's group, which grows by what the child leaks, is not a second one
    expect((await alerts()).filter((a) => a.labels.subject === 'leaky' || a.labels.group === 'leaky')).toEqual([]);
    expect(found!.annotations.runbook_url).toBe('docs/runbooks/LeakSuspected.md');
  });

  it('a reload keeps the detector\'s alert: neither resolved nor started again', async () => {
    const mine = async () => (await alerts()).find((a) => a.labels.source === 'detector' && a.labels.subject === `node ${leaker.token}.js[${leaker.pid}]`);
    const before = await mine();
    expect(before).toBeDefined();
    agent.proc.kill('SIGHUP');
    await agent.waitForLog(/msg="config reloaded"/);
    const reloadedAt = Date.now() / 1000;
    // a few samples of the new runtime's detector
    await waitFor(async () => {
      const last = parseExposition(await (await fetch(`${agent.url}/metrics`)).text()).find((m) => m.name === 'contention_last_sample_timestamp_seconds');
      return (last?.value ?? 0) > reloadedAt + 2;
    }, 10_000, 'samples after the reload');
    const after = await mine();
    expect(after?.startsAt).toBe(before!.startsAt);
    expect(after?.status.state).toBe('active');
    // (with windows this short, other processes warming up come and go as suspects: only the child counts)
    expect(agent.logs()).not.toMatch(new RegExp(`msg="alert resolved" alertname=LeakSuspected .*summary="process node ${leaker.token}\\.js\\[${leaker.pid}\\]`));
  });

  it('resolves the detector\'s alert when the leak stops', async () => {
    leaker.kill();
    await waitFor(async () => {
      const mine = (await alerts()).filter((a) => a.labels.source === 'detector' && a.labels.subject === `node ${leaker.token}.js[${leaker.pid}]`);
      return mine.length === 0;
    }, 45_000, 'the detector alert to resolve');
    expect(agent.logs()).toMatch(new RegExp(`msg="alert resolved" alertname=LeakSuspected .*summary="process node ${leaker.token}\\.js\\[${leaker.pid}\\]`));
  });
});
