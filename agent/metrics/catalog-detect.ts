import type { FamilyDef } from './catalog.js';

const subject = ['subject_kind', 'subject', 'resource'] as const;

export const detectCatalog = {
  contention_leak_suspected: {
    type: 'gauge', labels: subject,
    help: '1 when the trend test finds steady growth that does not come back (a leak), 0 for a judged candidate that is not.',
  },
  contention_process_group_leak_suspected: {
    type: 'gauge', labels: ['group'],
    help: '1 for a process group under leak suspicion, itself or through one of its processes (absent otherwise).',
  },
  contention_growth_bytes_per_second: {
    type: 'gauge', labels: subject,
    help: 'Robust (Theil-Sen) growth rate of the floor of a byte measure over the detection window, in bytes per second.',
  },
  contention_growth_per_second: {
    type: 'gauge', labels: subject,
    help: 'Robust (Theil-Sen) growth rate of the floor of a count (handles, threads, table entries), per second.',
  },
  contention_trend_confidence: {
    type: 'gauge', labels: subject,
    help: 'Mann-Kendall confidence, 0 to 1, that the floor of the measure rises.',
  },
  contention_seconds_to_exhaustion: {
    type: 'gauge', labels: ['resource'],
    help: 'Seconds until a limited resource (commit where enforced, available memory, kernel tables, pools with a limit) runs out at its steady growth rate; absent when it is not growing.',
  },
  contention_history_series: {
    type: 'gauge', labels: [],
    help: 'Series held in the agent\'s local history.',
  },
  contention_history_bytes: {
    type: 'gauge', labels: [],
    help: 'Bytes of typed arrays the local history holds (each series grows with its points up to a fixed size).',
  },
  contention_history_series_dropped_total: {
    type: 'counter', labels: [],
    help: 'New series refused by the local history because it held history.max_series already.',
  },
} as const satisfies Record<string, FamilyDef>;
