import type { Logger } from 'pino';
import { labelsKey } from '../metrics/labels.js';
import type { Stage } from '../metrics/sample.js';
import type { Part } from '../part.js';
import type { Alert } from './alert.js';

export interface DeliveryOptions {
  /** Alertmanager base URLs (`http://host:9093`); alerts are POSTed to `/api/v2/alerts` on each. */
  readonly alertmanagers: readonly string[];
  readonly webhook?: string;
  /** How often firing alerts are sent again (Alertmanager forgets alerts that are not re-sent). */
  readonly resendSeconds: number;
  readonly timeoutSeconds: number;
  /** Most batches waiting per receiver; the oldest is dropped first. */
  readonly maxQueue: number;
  /** Label added to every alert so receivers know which host spoke. */
  readonly instance: string;
  /** First retry delay; doubles on each failure up to a minute. */
  readonly retryBaseMs?: number;
  /** Told of each alert change the log records (the Windows event log listens here). */
  readonly onChange?: (alert: Alert) => void;
}

export interface ReceiverStats {
  /** `alertmanager host:port` or `webhook host:port`: never a full URL, which may carry credentials. */
  readonly receiver: string;
  /** Batches accepted by the receiver. */
  readonly sent: number;
  /** Attempts that failed (each retry counts). */
  readonly failed: number;
  /** Batches given up: pushed out of a full queue or refused by the receiver as invalid. */
  readonly dropped: number;
  readonly queued: number;
}

export interface Delivery extends Part {
  /**
   * Offers the current alerts of one source (all of them, each evaluation). New, changed and due
   * alerts are logged and sent; an alert the source no longer offers is sent as resolved: this is the
   * one place where an alert is said to have ended.
   */
  offer(source: Alert['source'], alerts: readonly Alert[], now: number): void;
  stats(): readonly ReceiverStats[];
  /** The alerts each source offered last that are still pending or firing. */
  active(): readonly Alert[];
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
  sent: number;
  failed: number;
  dropped: number;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * Sends alerts to the log always, and to Alertmanager (v2 API) and a webhook when configured. Each
 * receiver has a bounded queue and retries with exponential backoff; nothing here can block sampling.
 */
export function createDelivery(opts: DeliveryOptions, log: Logger): Delivery {
  const retryBaseMs = opts.retryBaseMs ?? 1000;
  /** What each receiver last heard of each alert, by source then alert key. */
  const lastSent = new Map<Alert['source'], Map<string, { alert: Alert; at: number }>>();
  /** What each source offered last, for the page. */
  const offeredLast = new Map<Alert['source'], readonly Alert[]>();
  let stopped = false;

  const receivers: Receiver[] = [
    ...opts.alertmanagers.map((base) => ({
      name: `alertmanager ${hostOf(base)}`,
      url: `${base.replace(/\/+$/, '')}/api/v2/alerts`,
      body: (alerts: readonly Alert[], now: number) => alerts.map((a) => toAlertmanager(a, now, opts)),
    })),
    ...(opts.webhook
      ? [{ name: `webhook ${hostOf(opts.webhook)}`, url: opts.webhook, body: (alerts: readonly Alert[], now: number) => toWebhook(alerts, now, opts) }]
      : []),
  ].map((r) => ({ ...r, queue: [], busy: false, backoffUntil: 0, failures: 0, sent: 0, failed: 0, dropped: 0 }));

  const pump = async (r: Receiver): Promise<void> => {
    if (r.busy || stopped) return;
    r.busy = true;
    try {
      while (r.queue.length > 0 && !stopped) {
        const wait = r.backoffUntil - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
        if (stopped) break;
        const batch = r.queue[0];
        let status = 0;
        try {
          const res = await fetch(r.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(batch),
            signal: AbortSignal.timeout(opts.timeoutSeconds * 1000),
          });
          status = res.status;
          const text = await res.text();
          if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
          if (r.queue[0] === batch) r.queue.shift();
          r.failures = 0;
          r.sent++;
        } catch (err) {
          r.failed++;
          // A request the receiver calls invalid fails the same way every time: retrying it would block the queue.
          if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
            if (r.queue[0] === batch) r.queue.shift();
            r.dropped++;
            log.error({ receiver: r.name, err: (err as Error).message }, 'alert batch refused by the receiver; dropped');
            continue;
          }
          r.failures++;
          r.backoffUntil = Date.now() + Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** Math.min(r.failures - 1, 16));
          log.warn({ receiver: r.name, err: (err as Error).message, retry_in_ms: r.backoffUntil - Date.now() }, 'alert delivery failed');
        }
      }
    } finally {
      r.busy = false;
    }
  };

  const logChange = (a: Alert): void => {
    const fields = { alertname: a.labels.alertname, severity: a.labels.severity, state: a.state, source: a.source, summary: a.annotations.summary };
    if (a.state === 'resolved') log.info(fields, 'alert resolved');
    else log.warn(fields, a.state === 'firing' ? 'alert firing' : 'alert pending');
    opts.onChange?.(a);
  };

  const stats = (): ReceiverStats[] => receivers.map((r) => ({ receiver: r.name, sent: r.sent, failed: r.failed, dropped: r.dropped, queued: r.queue.length }));

  return {
    stage: deliveryMetricsStage({ stats }),
    reconfigure() {
      // Receivers and their queues are fixed at start: a reload must not drop what is waiting.
    },
    active: () => [...offeredLast.values()].flat().filter((a) => a.state !== 'resolved'),
    offer(source, alerts, now) {
      offeredLast.set(source, alerts);
      let known = lastSent.get(source);
      if (!known) lastSent.set(source, (known = new Map()));
      const offered = new Set<string>();
      const due: Alert[] = [];
      for (const a of alerts) {
        const key = alertKey(a);
        offered.add(key);
        const last = known.get(key);
        const changed = last?.alert.state !== a.state;
        if (a.state === 'resolved') {
          // Only what fired is said to end: a pending alert that clears was never news.
          if (last?.alert.state === 'firing') {
            logChange(a);
            due.push(a);
          }
          known.delete(key);
          continue;
        }
        if (changed) logChange(a);
        const resend = a.state === 'firing' && last !== undefined && now - last.at >= opts.resendSeconds * 1000;
        // The latest version is kept (what a resolution repeats); the time only moves when it is sent.
        known.set(key, { alert: a, at: changed || resend || !last ? now : last.at });
        // Pending alerts stay local: Alertmanager only hears of firing and resolved ones, as from Prometheus.
        if (a.state === 'firing' && (changed || resend)) due.push(a);
      }
      // A source that stops offering an alert has stopped seeing its condition.
      for (const [key, last] of known) {
        if (offered.has(key)) continue;
        known.delete(key);
        if (last.alert.state !== 'firing') continue;
        const ended: Alert = { ...last.alert, state: 'resolved', resolvedAt: now };
        logChange(ended);
        due.push(ended);
      }
      if (due.length === 0) return;
      for (const r of receivers) {
        r.queue.push(r.body(due, now));
        while (r.queue.length > opts.maxQueue) {
          // The batch in flight stays; the oldest waiting one goes.
          r.queue.splice(r.busy && r.queue.length > 1 ? 1 : 0, 1);
          r.dropped++;
        }
        void pump(r);
      }
    },
    stats,
    stop() {
      stopped = true;
    },
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid-url';
  }
}

export const alertKey = (a: Alert): string => labelsKey(a.labels);

/** One alert in Alertmanager's v2 shape; a firing alert's endsAt is pushed ahead of the next resend. */
export function toAlertmanager(a: Alert, now: number, opts: Pick<DeliveryOptions, 'resendSeconds' | 'instance'>) {
  // Four resend intervals, as Prometheus does: a missed resend or two must not resolve the alert.
  const endsAt = a.state === 'resolved' ? (a.resolvedAt ?? now) : now + opts.resendSeconds * 4 * 1000;
  return {
    labels: { instance: opts.instance, ...a.labels, source: a.source },
    annotations: a.annotations,
    startsAt: new Date(a.activeAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
  };
}

/** The webhook's JSON body: the agent's host and the changed alerts, each in Alertmanager's shape plus its status. */
export function toWebhook(alerts: readonly Alert[], now: number, opts: Pick<DeliveryOptions, 'resendSeconds' | 'instance'>) {
  return {
    version: '1',
    instance: opts.instance,
    alerts: alerts.map((a) => ({ status: a.state === 'resolved' ? 'resolved' : 'firing', ...toAlertmanager(a, now, opts) })),
  };
}

/** A stage that exports each receiver's delivery counters with every sample. */
export function deliveryMetricsStage(delivery: Pick<Delivery, 'stats'>): Stage {
  return {
    name: 'alert_delivery',
    run(_sample, sink) {
      for (const r of delivery.stats()) {
        const labels = { receiver: r.receiver };
        sink.set('contention_alert_batches_sent_total', labels, r.sent);
        sink.set('contention_alert_delivery_failures_total', labels, r.failed);
        sink.set('contention_alert_batches_dropped_total', labels, r.dropped);
        sink.set('contention_alert_queue_batches', labels, r.queued);
      }
    },
  };
}
