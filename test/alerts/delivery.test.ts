import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../agent/alerts/alert.js';
import { createDelivery, type Delivery, type DeliveryOptions } from '../../agent/alerts/delivery.js';
import { createLogger } from '../../agent/log.js';
import { waitFor } from '../helpers/agent.js';
import { freePort, startAlertmanager, type RunningServer } from '../helpers/servers.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function alert(name: string, state: Alert['state'] = 'firing', extra: Partial<Alert> = {}): Alert {
  return {
    labels: { alertname: name, severity: 'warning', subject: 'web' },
    annotations: { summary: `${name} on web`, description: 'd', runbook_url: `docs/runbooks/${name}.md` },
    activeAt: T0,
    state,
    source: 'detector',
    ...extra,
  };
}

/** A logger whose lines the test can read. */
function capturedLog() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
  return { log: createLogger('info', 'json', stream), lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** A webhook receiver on loopback: records bodies; `status` decides each reply. */
async function startReceiver(status: (n: number) => number = () => 200) {
  const bodies: unknown[] = [];
  let requests = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const code = status(requests++);
      if (code < 300) bodies.push(JSON.parse(body));
      res.writeHead(code).end(code < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, bodies, requests: () => requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const base: DeliveryOptions = { alertmanagers: [], resendSeconds: 60, timeoutSeconds: 5, maxQueue: 10, instance: 'host-a', retryBaseMs: 10 };
const running: Delivery[] = [];
const start = (opts: Partial<DeliveryOptions>, log = capturedLog().log) => {
  const d = createDelivery({ ...base, ...opts }, log);
  running.push(d);
  return d;
};
afterEach(() => running.splice(0).forEach((d) => d.stop()));

describe('delivery to a real Alertmanager (v2 API)', () => {
  let am: RunningServer;
  beforeAll(async () => {
    am = await startAlertmanager();
  });
  afterAll(async () => {
    await am?.stop();
  });

  interface AmAlert { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; status: { state: string } }
  const amAlerts = async (): Promise<AmAlert[]> => (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as AmAlert[];

  it('posts a firing alert with its labels, the host and the source, and ends it on resolution', async () => {
    const d = start({ alertmanagers: [`${am.url}/`] });
    const now = Date.now();
    const firing = alert('DeliveryTestFires', 'firing', { activeAt: now - 60_000 });
    d.offer('detector', [firing], now);
    let got: AmAlert | undefined;
    await waitFor(async () => (got = (await amAlerts()).find((a) => a.labels.alertname === 'DeliveryTestFires')) !== undefined, 10_000, 'the alert in Alertmanager');
    expect(got!.labels).toEqual({ alertname: 'DeliveryTestFires', severity: 'warning', subject: 'web', instance: 'host-a', source: 'detector' });
    expect(got!.annotations.runbook_url).toBe('docs/runbooks/DeliveryTestFires.md');
    expect(Date.parse(got!.startsAt)).toBe(now - 60_000);
    // ends four resends ahead unless sent again
    expect(Date.parse(got!.endsAt)).toBe(now + 4 * 60_000);
    expect(got!.status.state).toBe('active');

    // the source stops offering it: resolved, gone from the active alerts
    d.offer('detector', [], Date.now());
    await waitFor(async () => !(await amAlerts()).some((a) => a.labels.alertname === 'DeliveryTestFires'), 10_000, 'the alert to resolve');
    expect(d.stats()).toEqual([{ receiver: `alertmanager ${new URL(am.url).host}`, sent: 2, failed: 0, dropped: 0, queued: 0 }]);
  });

  it('Alertmanager accepts every alert the detector and the rules make (a refusal would show as dropped)', async () => {
    const d = start({ alertmanagers: [am.url] });
    d.offer('rules', [alert('DeliveryTestRules', 'firing', { source: 'rules', labels: { alertname: 'DeliveryTestRules', severity: 'critical', table: 'file_handles' } })], Date.now());
    await waitFor(async () => (await amAlerts()).some((a) => a.labels.alertname === 'DeliveryTestRules' && a.labels.source === 'rules'), 10_000, 'the rules alert');
    expect(d.stats()[0]).toMatchObject({ sent: 1, dropped: 0, failed: 0 });
  });
});

describe('delivery to a webhook', () => {
  it('sends firing and resolved alerts as JSON with their status', async () => {
    const hook = await startReceiver();
    try {
      const d = start({ webhook: hook.url });
      d.offer('rules', [alert('A', 'firing', { source: 'rules' })], T0);
      d.offer('rules', [alert('A', 'resolved', { source: 'rules', resolvedAt: T0 + 5000 })], T0 + 5000);
      await waitFor(() => hook.bodies.length === 2, 5000, 'two webhook calls');
      const [fire, end] = hook.bodies as Array<{ instance: string; alerts: Array<{ status: string; labels: Record<string, string>; endsAt: string }> }>;
      expect(fire!.instance).toBe('host-a');
      expect(fire!.alerts).toEqual([expect.objectContaining({ status: 'firing', labels: expect.objectContaining({ alertname: 'A', source: 'rules' }) })]);
      expect(end!.alerts[0]).toMatchObject({ status: 'resolved', endsAt: new Date(T0 + 5000).toISOString() });
    } finally {
      await hook.close();
    }
  });

  it('sends changes and resends only: nothing for an unchanged alert before resend_interval, again after it', async () => {
    const hook = await startReceiver();
    try {
      const d = start({ webhook: hook.url, resendSeconds: 60 });
      const a = alert('B');
      d.offer('detector', [a], T0);
      d.offer('detector', [a], T0 + 30_000);
      d.offer('detector', [a], T0 + 59_999);
      d.offer('detector', [a], T0 + 60_000);
      d.offer('detector', [a], T0 + 61_000);
      await waitFor(() => hook.bodies.length === 2, 5000, 'a first send and one resend');
      expect(hook.requests()).toBe(2);
    } finally {
      await hook.close();
    }
  });

  it('keeps pending alerts local and logs every change; a pending alert that clears is not news', async () => {
    const hook = await startReceiver();
    const { log, lines } = capturedLog();
    try {
      const d = start({ webhook: hook.url }, log);
      d.offer('rules', [alert('C', 'pending', { source: 'rules' }), alert('D', 'pending', { source: 'rules' })], T0);
      d.offer('rules', [alert('C', 'firing', { source: 'rules' })], T0 + 1000);
      await waitFor(() => hook.bodies.length === 1, 5000, 'the firing alert');
      const sent = (hook.bodies[0] as { alerts: Array<{ labels: Record<string, string> }> }).alerts.map((x) => x.labels.alertname);
      expect(sent).toEqual(['C']);
      expect(lines().map((l) => `${l.msg} ${l.alertname}`)).toEqual(['alert pending C', 'alert pending D', 'alert firing C']);
    } finally {
      await hook.close();
    }
  });

  it('retries a failing receiver with backoff until it takes the batch', async () => {
    const hook = await startReceiver((n) => (n < 3 ? 503 : 200));
    try {
      const d = start({ webhook: hook.url });
      d.offer('detector', [alert('E')], T0);
      await waitFor(() => hook.bodies.length === 1, 10_000, 'the batch to get through');
      // The receiver has the body before the sender has read its answer: wait for the sender's count.
      await waitFor(() => d.stats()[0]!.sent === 1, 10_000, 'the sender to count the batch sent');
      expect(d.stats()[0]).toMatchObject({ sent: 1, failed: 3, dropped: 0, queued: 0 });
    } finally {
      await hook.close();
    }
  });

  it('drops a batch the receiver refuses as invalid instead of blocking the queue on it', async () => {
    const hook = await startReceiver((n) => (n === 0 ? 400 : 200));
    try {
      const d = start({ webhook: hook.url });
      d.offer('detector', [alert('F')], T0);
      d.offer('detector', [alert('G')], T0);
      await waitFor(() => hook.bodies.length === 1, 5000, 'the second batch');
      await waitFor(() => d.stats()[0]!.sent === 1, 5000, 'the sender to count the second batch sent');
      expect(d.stats()[0]).toMatchObject({ sent: 1, failed: 1, dropped: 1, queued: 0 });
    } finally {
      await hook.close();
    }
  });

  it('bounds the queue of an unreachable receiver and counts what it drops', async () => {
    const closed = await freePort();
    const d = start({ webhook: `http://127.0.0.1:${closed}/hook`, maxQueue: 3, retryBaseMs: 60_000 });
    for (let i = 0; i < 10; i++) d.offer('detector', [alert(`H${i}`)], T0);
    const [s] = d.stats();
    expect(s).toMatchObject({ receiver: `webhook 127.0.0.1:${closed}`, queued: 3, dropped: 7, sent: 0 });
  });
});
