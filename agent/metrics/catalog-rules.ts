import type { FamilyDef } from './catalog.js';

const alert = ['alertname', 'severity'] as const;

export const rulesCatalog = {
  contention_alert_state: {
    type: 'gauge', labels: alert,
    help: 'State of a locally evaluated alert rule: 0 inactive, 1 pending (condition holds, for not yet reached), 2 firing. Exported only with rules.enabled.',
  },
  contention_alerts_firing: {
    type: 'gauge', labels: alert,
    help: 'Alerts of a locally evaluated alert rule that fire now (one per label set, for example per pool or table).',
  },
  contention_rule_evaluation_failures_total: {
    type: 'counter', labels: ['rule_group', 'rule'],
    help: 'Local evaluations of a rule that failed (for example many-to-many matching); the rule keeps its alerts as they were.',
  },
} as const satisfies Record<string, FamilyDef>;
