import type { FamilyDef } from './catalog.js';

const allocation = ['policy', 'criteria'] as const;

export const policyCatalog = {
  contention_policy_active: {
    type: 'gauge', labels: ['policy'],
    help: '1 for the policy that manages now, 0 for every other configured policy.',
  },
  contention_policy_actions_total: {
    type: 'counter', labels: ['policy', 'criteria', 'action', 'outcome'],
    help: 'Policy decisions by action (log, stop, trim, lower_priority, restore_priority, set_cpu_weight, restore_cpu_weight) and outcome.',
  },
  contention_policy_violations_total: {
    type: 'counter', labels: ['policy', 'criteria', 'measure'],
    help: 'Times a process exceeded an allocation limit (committed_memory, working_set, handles) for the limit\'s duration; one per episode.',
  },
  contention_policy_cpu_contended: {
    type: 'gauge', labels: [],
    help: '1 while total CPU use is at or above enforcement.cpu_contention (CPU shares apply), else 0.',
  },
  contention_policy_cpu_share_ratio: {
    type: 'gauge', labels: allocation,
    help: 'CPU share an allocation of the active policy gets under contention, 0 to 1; criteria="residual" is what no allocation claims.',
  },
  contention_policy_cpu_used_ratio: {
    type: 'gauge', labels: allocation,
    help: 'Share of all CPUs the allocation\'s processes used since the previous sample, 0 to 1.',
  },
  contention_policy_deprioritized_processes: {
    type: 'gauge', labels: allocation,
    help: 'Processes whose priority the agent lowered because their criteria was above its CPU share under contention.',
  },
  contention_policy_audit_write_failures_total: {
    type: 'counter', labels: [],
    help: 'Audit log lines that could not be written or synced (the decision is still logged to stderr).',
  },
} as const satisfies Record<string, FamilyDef>;
