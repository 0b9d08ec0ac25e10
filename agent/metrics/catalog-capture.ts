import type { FamilyDef } from './catalog.js';

export const captureCatalog = {
  contention_capture_ready: {
    type: 'gauge', labels: ['kind', 'required'],
    help: 'Whether this host could capture this kind of evidence now (1), or not or cannot tell (0); required="true" for what an investigation needs. `contention-agent doctor` gives the reason and the fix.',
  },
  contention_capture_dumps_total: {
    type: 'counter', labels: ['trigger', 'outcome'],
    help: 'Process dumps the agent attempted, by trigger (before_stop, leak) and outcome (captured, refused, not_possible, gone, mismatch, failed).',
  },
  contention_capture_kept_dumps: {
    type: 'gauge', labels: [],
    help: 'Process dumps kept in the evidence directories (bounded by capture.max_dumps).',
  },
  contention_capture_kept_bytes: {
    type: 'gauge', labels: [],
    help: 'Bytes the kept process dumps take (bounded by capture.max_bytes).',
  },
} as const satisfies Record<string, FamilyDef>;
