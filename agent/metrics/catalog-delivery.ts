import type { FamilyDef } from './catalog.js';

const receiver = ['receiver'] as const;

export const deliveryCatalog = {
  contention_alert_batches_sent_total: {
    type: 'counter', labels: receiver,
    help: 'Alert batches a receiver (alertmanager host:port, webhook host:port) accepted.',
  },
  contention_alert_delivery_failures_total: {
    type: 'counter', labels: receiver,
    help: 'Failed attempts to deliver an alert batch (each retry counts).',
  },
  contention_alert_batches_dropped_total: {
    type: 'counter', labels: receiver,
    help: 'Alert batches given up: pushed out of a full queue (alerting.max_queue) or refused by the receiver as invalid.',
  },
  contention_alert_queue_batches: {
    type: 'gauge', labels: receiver,
    help: 'Alert batches waiting for a receiver.',
  },
} as const satisfies Record<string, FamilyDef>;
