import type { Config } from './config/schema.js';
import type { Stage } from './metrics/sample.js';
import type { RuleGroup } from './rules/load.js';

/** What a reload hands every long-lived part: the new config and the rule groups loaded for it. */
export interface Settings {
  readonly config: Config;
  /** Present when rules.enabled is on and the rule files loaded. */
  readonly ruleGroups?: readonly RuleGroup[];
}

/**
 * The contract of every long-lived part of the agent (detector, rules, policy, delivery): its stage
 * in the sample pipeline, a reconfigure that keeps what it remembers, and a stop.
 */
export interface Part {
  readonly stage: Stage;
  reconfigure(next: Settings): void;
  stop(): void | Promise<void>;
}
