/**
 * An alert as the agent raises it, from its local rule evaluation or its trend detectors, in the
 * shape Alertmanager's v2 API takes. Delivery (log, Alertmanager, webhook) reads these and nothing else.
 */
export interface Alert {
  /** Identifying labels; must include alertname and severity. */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Unix ms when the condition started to hold (pending) or fired. */
  readonly activeAt: number;
  readonly state: 'pending' | 'firing' | 'resolved';
  /** Unix ms when it resolved; set only when state is resolved. */
  readonly resolvedAt?: number;
  /** Where it came from: "rules" (local evaluation of rules/), "detector" (trend statistics) or "policy" (limits and enforcement). */
  readonly source: 'rules' | 'detector' | 'policy';
}
