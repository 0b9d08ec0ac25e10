import type { Logger } from 'pino';
import type { Alert } from './alert.js';

export interface DeliveryOptions {
  /** Alertmanager base URLs (`http://host:9093`); alerts are POSTed to `/api/v2/alerts` on each. */
  readonly alertmanagers: readonly string[];
  readonly webhook?: string;
  /** How often firing alerts are sent again (Alertmanager forgets alerts that are not re-sent). */
  readonly resendSeconds: number;
  readonly timeoutSeconds: number;
  /** Most batches waiting per receiver; older batches are dropped first. */
  readonly maxQueue: number;
  /** Label added to every alert so receivers know which host spoke. */
  readonly instance: string;
}

export interface Delivery {
  /** Offers the current alerts of one source; new, changed and due alerts are sent. */
  offer(alerts: readonly Alert[], now: number): void;
  stats(): { sent: number; failed: number; dropped: number; queued: number };
  stop(): void;
}

interface Receiver {
  readonly name: string;
  readonly url: string;
  readonly body: (alerts: readonly Alert[], now: number) => unknown;
  queue: unknown[];
  busy: boolean;
  backoffUntil: number;
  failures: number;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * Sends alerts to the log always, and to Alertmanager (v2 API) and a webhook when configured. Each
 * receiver has a bounded queue and retries with exponential backoff; nothing here can block sampling.
 */
export function createDelivery(opts: DeliveryOptions, log: Logger): Delivery {
  const lastSent = new Map<string, { state: Alert['state']; at: number }>();
  let sent = 0;
  let failed = 0;
  let dropped = 0;
  let stopped = false;

  const receivers: Receiver[] = [
    ...opts.alertmanagers.map((base) => ({
      name: `alertmanager ${base}`,
      url: `${base.replace(/\/$/, '')}/api/v2/alerts`,
      body: (alerts: readonly Alert[], now: number) => alerts.map((a) => toAlertmanager(a, now, opts)),
    })),
    ...(opts.webhook
      ? [{ name: `webhook ${opts.webhook}`, url: opts.webhook, body: (alerts: readonly Alert[]) => ({ version: '1', instance: opts.instance, alerts }) }]
      : []),
  ].map((r) => ({ ...r, queue: [], busy: false, backoffUntil: 0, failures: 0 }));

  const pump = async (r: Receiver): Promise<void> => {
    if (r.busy || stopped) return;
    r.busy = true;
    try {
      while (r.queue.length > 0 && !stopped) {
        const wait = r.backoffUntil - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
        const batch = r.queue[0];
        try {
          const res = await fetch(r.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(batch),
            signal: AbortSignal.timeout(opts.timeoutSeconds * 1000),
          });
          if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
          r.queue.shift();
          r.failures = 0;
          sent++;
        } catch (err) {
          failed++;
          r.failures++;
          r.backoffUntil = Date.now() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(r.failures, 10));
          log.warn({ receiver: r.name, err: (err as Error).message, retry_in_ms: r.backoffUntil - Date.now() }, 'alert delivery failed');
        }
      }
    } finally {
      r.busy = false;
    }
  };

  return {
    offer(alerts, now) {
      const due = alerts.filter((a) => {
        const key = alertKey(a);
        const last = lastSent.get(key);
        const changed = !last || last.state !== a.state;
        if (changed) {
          const fields = { alertname: a.labels.alertname, severity: a.labels.severity, state: a.state, source: a.source, summary: a.annotations.summary };
          if (a.state === 'resolved') log.info(fields, 'alert resolved');
          else log.warn(fields, a.state === 'firing' ? 'alert firing' : 'alert pending');
        }
        const resend = a.state === 'firing' && last !== undefined && now - last.at >= opts.resendSeconds * 1000;
        if (changed || resend) lastSent.set(key, { state: a.state, at: now });
        if (a.state === 'resolved') lastSent.delete(key);
        // Pending alerts stay local: Alertmanager only hears of firing and resolved ones, as from Prometheus.
        return a.state !== 'pending' && (changed || resend);
      });
      if (due.length === 0) return;
      for (const r of receivers) {
        r.queue.push(r.body(due, now));
        while (r.queue.length > opts.maxQueue) {
          r.queue.shift();
          dropped++;
        }
        void pump(r);
      }
    },
    stats: () => ({ sent, failed, dropped, queued: receivers.reduce((n, r) => n + r.queue.length, 0) }),
    stop() {
      stopped = true;
    },
  };
}

export function alertKey(a: Alert): string {
  return Object.keys(a.labels).sort().map((k) => `${k}=${a.labels[k]}`).join(',');
}

/** One alert in Alertmanager's v2 shape; a firing alert's endsAt is pushed ahead of the next resend. */
export function toAlertmanager(a: Alert, now: number, opts: Pick<DeliveryOptions, 'resendSeconds' | 'instance'>) {
  const endsAt = a.state === 'resolved' ? (a.resolvedAt ?? now) : now + opts.resendSeconds * 4 * 1000;
  return {
    labels: { instance: opts.instance, ...a.labels, source: a.source },
    annotations: a.annotations,
    startsAt: new Date(a.activeAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    generatorURL: '',
  };
}
