import type { FamilyDef } from './catalog.js';

const remote = ['remote'] as const;

export const remoteWriteCatalog = {
  contention_remote_write_samples_sent_total: {
    type: 'counter', labels: remote,
    help: 'Samples a remote_write endpoint (its name, or the URL\'s host:port) accepted.',
  },
  contention_remote_write_failures_total: {
    type: 'counter', labels: remote,
    help: 'Requests to a remote_write endpoint that failed and will be retried (5xx, 429, network errors, timeouts).',
  },
  contention_remote_write_samples_dropped_total: {
    type: 'counter', labels: ['remote', 'reason'],
    help: 'Samples given up by reason: memory_full (queue_config.capacity), disk_full (disk_queue.max_bytes, oldest first), disk_error, rejected (a 4xx other than 429).',
  },
  contention_remote_write_pending_samples: {
    type: 'gauge', labels: remote,
    help: 'Samples in memory waiting to be written to the disk queue as a batch.',
  },
  contention_remote_write_queue_samples: {
    type: 'gauge', labels: remote,
    help: 'Samples in the disk queue waiting for the endpoint.',
  },
  contention_remote_write_queue_bytes: {
    type: 'gauge', labels: remote,
    help: 'Bytes of the disk queue (compressed requests).',
  },
  contention_remote_write_queue_max_bytes: {
    type: 'gauge', labels: remote,
    help: 'Bound of the disk queue (disk_queue.max_bytes); past it the oldest requests are dropped.',
  },
  contention_remote_write_queue_oldest_timestamp_seconds: {
    type: 'gauge', labels: remote,
    help: 'Unix time of the oldest sample in the disk queue; absent when the queue is empty.',
  },
} as const satisfies Record<string, FamilyDef>;
