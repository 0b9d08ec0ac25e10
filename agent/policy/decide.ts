import type { LinearRegex } from '../config/regex.js';
import { compileCriteria, type CompiledCriteria, type CriteriaConfig } from '../process/criteria.js';
import { globToRegExp } from '../process/glob.js';
import { processKey, type ProcessRow } from '../process/table.js';
import type { AllocationConfig, EnforcementConfig, PolicyConfig } from './schema.js';
import type { Target } from './process-control.js';

export type Measure = 'committed_memory' | 'working_set' | 'handles';
export type LimitAction = 'log' | 'stop' | 'trim';

/** What a decision is about: the process as the sample saw it. */
export interface Subject extends Target {
  readonly name: string;
  readonly uid: number;
  readonly user: string;
}

/** A process over one of its allocation's limits for at least the limit's `for`. */
export interface Violation {
  readonly policy: string;
  readonly criteria: string;
  readonly measure: Measure;
  readonly subject: Subject;
  readonly value: number;
  readonly limit: number;
  readonly action: LimitAction;
  /** Unix ms since when the limit has been exceeded without a break. */
  readonly since: number;
}

/**
 * `act`: take the action (log, stop, trim); `dry_run`: log what would be done; `refused`: a safety
 * rule forbids it (`reason` says which); `rate_limited`: the stop budget is spent for now.
 */
export type Verdict = 'act' | 'dry_run' | 'refused' | 'rate_limited';

export type Decision =
  | { readonly kind: 'limit'; readonly violation: Violation; readonly verdict: Verdict; readonly reason?: string }
  | { readonly kind: 'lower_priority'; readonly policy: string; readonly criteria: string; readonly subject: Subject; readonly nice: number; readonly cpu: number }
  | { readonly kind: 'restore_priority'; readonly policy: string; readonly criteria: string; readonly subject: Subject; readonly cpu: number | undefined; readonly originalNice: number | undefined }
  | { readonly kind: 'set_cpu_weight'; readonly policy: string; readonly criteria: string; readonly cgroup: string; readonly weight: number; readonly cpu: number }
  | { readonly kind: 'restore_cpu_weight'; readonly policy: string; readonly criteria: string; readonly cgroup: string; readonly cpu: number | undefined; readonly originalWeight: number | undefined };

/**
 * What became of a confirmed violation: `logged` (action log), `acted` (stopping, or trimmed),
 * `dry_run`, `refused` by a safety rule, or `rate_limited`: a stop held back by the stop budget,
 * retried each sample.
 */
export type LimitOutcome =
  | { readonly kind: 'logged' }
  | { readonly kind: 'acted'; readonly action: 'stop' | 'trim' }
  | { readonly kind: 'dry_run'; readonly action: 'stop' | 'trim' }
  | { readonly kind: 'refused'; readonly action: 'stop' | 'trim'; readonly reason: string }
  | { readonly kind: 'rate_limited'; readonly reason: string };

interface Episode {
  readonly since: number;
  /** The action was decided (or refused for good); nothing more happens until the episode ends. */
  readonly done: boolean;
  /** What became of it once confirmed; a rate-limited stop is retried each sample, recorded once. */
  readonly outcome?: LimitOutcome;
}

/** What the engine remembers between samples; survives reloads. */
export interface PolicyState {
  /** By policy, criteria, measure and process: when its limit started being exceeded. */
  readonly episodes: ReadonlyMap<string, Episode>;
  /** Stops taken in the last hour, for the rate limits. */
  readonly stops: ReadonlyArray<{ readonly policy: string; readonly at: number; /** The process stopped (processKey), so it costs one unit however many limits it is over. */ readonly key?: string }>;
  /** CPU seconds of every process at the previous sample, for each one's use since. */
  readonly cpu?: { readonly at: number; readonly seconds: ReadonlyMap<string, number> };
  /**
   * Processes whose priority the engine lowered, by process key, with the nice value to give back
   * (set by the engine once the change took); forgotten with the process when it exits.
   */
  readonly lowered: ReadonlyMap<string, Lowered>;
  /** Cgroups whose cpu.weight the engine set, by path, with the weight to give back once it took. */
  readonly weighted: ReadonlyMap<string, Weighted>;
}

export interface Lowered {
  readonly policy: string;
  readonly criteria: string;
  readonly subject: Subject;
  readonly originalNice?: number;
}

export interface Weighted {
  readonly policy: string;
  readonly criteria: string;
  readonly originalWeight?: number;
}

export const emptyState = (): PolicyState => ({ episodes: new Map(), stops: [], lowered: new Map(), weighted: new Map() });

/** One CPU allocation's figures in a sample: its share and what its processes used. */
export interface CpuUse {
  readonly criteria: string;
  readonly share: number;
  readonly used: number;
}

export interface DecideInput {
  readonly now: number;
  readonly rows: readonly ProcessRow[];
  /** Busy share of all CPUs since the previous sample. */
  readonly cpuUtilization?: number;
  readonly cpus?: number;
  /** The managing policy, or none. */
  readonly policy?: PolicyConfig;
  readonly rules: SafetyRules;
}

export interface DecideOutput {
  readonly state: PolicyState;
  readonly decisions: Decision[];
  /** Violations past their `for` this sample, each with what became of it. */
  readonly violations: Array<Violation & { readonly outcome: LimitOutcome }>;
  /** Violations that started being confirmed this sample (counted once per episode). */
  readonly confirmed: Violation[];
  readonly cpuUse: CpuUse[];
  readonly contended: boolean;
}

/** The safety rules and enforcement settings, compiled once per config. */
export interface SafetyRules {
  readonly enforcement: EnforcementConfig;
  /** The agent's own pid and its parent's. */
  readonly self: { readonly pid: number; readonly ppid: number };
  readonly protectedGlobs: ReadonlyArray<{ readonly glob: string; readonly re: LinearRegex }>;
  /** Per criteria, the include rules that name root (`user: root` or `user: 0`). */
  readonly rootRules: ReadonlyMap<string, CompiledCriteria>;
}

const HOUR_MS = 3_600_000;

export function compileSafetyRules(enforcement: EnforcementConfig, criteria: CriteriaConfig, self = { pid: process.pid, ppid: process.ppid }): SafetyRules {
  const namesRoot = (user: string | number | undefined) => user === 'root' || user === 0 || user === '0';
  const rootRules = new Map<string, CompiledCriteria>();
  for (const c of criteria) {
    const include = c.include.filter((r) => namesRoot(r.user));
    if (include.length > 0) rootRules.set(c.name, compileCriteria([{ ...c, include }])[0]!);
  }
  return { enforcement, self, protectedGlobs: enforcement.protected.map((glob) => ({ glob, re: globToRegExp(glob) })), rootRules };
}

/**
 * Why the engine must not act on a process, or undefined when it may. Guards stops, trims and
 * priority changes alike: pid 1, the agent and its parent, kernel threads, protected names, and
 * root's processes unless the criteria's matching rule names root.
 */
export function refusal(row: ProcessRow, criteria: string, rules: SafetyRules): string | undefined {
  if (row.pid === 1) return 'pid 1 (init) is never acted on';
  if (row.pid === rules.self.pid) return 'the agent never acts on itself';
  if (row.pid === rules.self.ppid) return "the agent never acts on its parent";
  if (row.pid === 2 || row.ppid === 2) return 'kernel threads are never acted on';
  const base = row.exe.slice(row.exe.lastIndexOf('/') + 1);
  const hit = rules.protectedGlobs.find((p) => p.re.test(row.comm) || p.re.test(base) || p.re.test(row.argv0));
  if (hit) return `protected: matches enforcement.protected "${hit.glob}"`;
  if (row.uid === 0 && !rules.rootRules.get(criteria)?.matches(row)) {
    return `runs as root and criteria "${criteria}" does not name user root`;
  }
  return undefined;
}

const subjectOf = (r: ProcessRow): Subject => ({ pid: r.pid, startTime: r.startTime, exe: r.exe, cmdline: r.cmdline, name: r.comm, uid: r.uid, user: r.user });

const LIMITS: ReadonlyArray<{ measure: Measure; key: 'max_committed_memory' | 'max_working_set' | 'max_handles'; value: (r: ProcessRow) => number }> = [
  { measure: 'committed_memory', key: 'max_committed_memory', value: (r) => r.privateBytes },
  { measure: 'working_set', key: 'max_working_set', value: (r) => r.workingSetBytes },
  { measure: 'handles', key: 'max_handles', value: (r) => r.handles },
];

/** The allocation of the policy that governs a process: the first whose criteria it matches. */
function allocationOf(policy: PolicyConfig, row: ProcessRow): AllocationConfig | undefined {
  return policy.allocations.find((a) => row.criteria.includes(a.criteria));
}

/**
 * The decision core: from one sample and what was remembered, the actions to take and what to
 * remember next. Pure: no clock, no /proc, no signals.
 */
export function decide(input: DecideInput, state: PolicyState): DecideOutput {
  const { now, rows, policy, rules } = input;
  const e = rules.enforcement;
  const decisions: Decision[] = [];
  const violations: Array<Violation & { outcome: LimitOutcome }> = [];
  const confirmed: Violation[] = [];
  const episodes = new Map<string, Episode>();
  let stops = state.stops.filter((s) => now - s.at < HOUR_MS);

  const budget = (policyName: string): boolean =>
    stops.filter((s) => s.policy === policyName).length < e.max_stops_per_hour && stops.length < e.max_stops_per_hour_total;

  // Each process's allocation, found once per sample.
  const governed = new Map<ProcessRow, AllocationConfig>();
  for (const row of policy ? rows : []) {
    const allocation = allocationOf(policy!, row);
    if (allocation) governed.set(row, allocation);
  }

  for (const [row, allocation] of governed) {
    for (const { measure, key, value: read } of LIMITS) {
      const limit = allocation[key];
      const value = read(row);
      if (!limit || value <= limit.limit) continue;
      const id = `${policy!.name}\u0000${allocation.criteria}\u0000${measure}\u0000${processKey(row)}`;
      const before = state.episodes.get(id);
      const since = before?.since ?? now;
      if (now - since < (limit.for ?? 0) * 1000) {
        episodes.set(id, before ?? { since, done: false });
        continue;
      }
      const violation: Violation = {
        policy: policy!.name, criteria: allocation.criteria, measure, subject: subjectOf(row),
        value, limit: limit.limit, action: limit.action, since,
      };
      if (before?.done && before.outcome) {
        episodes.set(id, before);
        violations.push({ ...violation, outcome: before.outcome });
        continue;
      }
      const wasRateLimited = before?.outcome?.kind === 'rate_limited';
      if (!wasRateLimited) confirmed.push(violation);
      let outcome: LimitOutcome;
      let done = true;
      if (limit.action === 'log') {
        decisions.push({ kind: 'limit', violation, verdict: 'act' });
        outcome = { kind: 'logged' };
      } else {
        const why = refusal(row, allocation.criteria, rules);
        if (why) {
          decisions.push({ kind: 'limit', violation, verdict: 'refused', reason: why });
          outcome = { kind: 'refused', action: limit.action, reason: why };
        } else if (e.dry_run) {
          decisions.push({ kind: 'limit', violation, verdict: 'dry_run' });
          outcome = { kind: 'dry_run', action: limit.action };
        } else if (limit.action === 'stop' && stops.some((s) => s.key === processKey(row))) {
          // Already being stopped for another limit (this sample or an earlier one): one stop, one unit of budget.
          outcome = { kind: 'acted', action: limit.action };
        } else if (limit.action === 'stop' && !budget(policy!.name)) {
          const reason = `stop rate limit reached (${e.max_stops_per_hour} per policy, ${e.max_stops_per_hour_total} in all, per hour)`;
          // Recorded once; the stop is retried each sample until the budget allows it.
          if (!wasRateLimited) decisions.push({ kind: 'limit', violation, verdict: 'rate_limited', reason });
          outcome = { kind: 'rate_limited', reason };
          done = false;
        } else {
          decisions.push({ kind: 'limit', violation, verdict: 'act' });
          if (limit.action === 'stop') stops = [...stops, { policy: policy!.name, at: now, key: processKey(row) }];
          outcome = { kind: 'acted', action: limit.action };
        }
      }
      episodes.set(id, { since, done, outcome });
      violations.push({ ...violation, outcome });
    }
  }

  const cpu = decideCpu(input, state, decisions, governed);
  return { state: { episodes, stops, ...cpu.state }, decisions, violations, confirmed, cpuUse: cpu.use, contended: cpu.contended };
}

/**
 * WSRM's CPU rule on Linux: while total CPU use is at or above the contention threshold, a criteria
 * whose processes together use more than their share gets its processes' priority lowered (or its
 * cgroup's cpu.weight set); when contention ends, or the policy no longer asks for it, it is undone.
 */
function decideCpu(input: DecideInput, state: PolicyState, decisions: Decision[], governed: ReadonlyMap<ProcessRow, AllocationConfig>) {
  const { now, rows, policy, rules } = input;
  const total = input.cpuUtilization;
  const contended = total !== undefined && total >= rules.enforcement.cpu_contention;
  const shares = (policy?.allocations ?? []).filter((a) => a.cpu_percent !== undefined);
  // No CPU share to hold and nothing to give back (every host without a CPU policy): no per-process
  // reading to keep. A share that appears later measures from its second sample, as after a reload.
  if (shares.length === 0 && state.lowered.size === 0 && state.weighted.size === 0) return { state: { lowered: state.lowered, weighted: state.weighted }, use: [] as CpuUse[], contended };
  const seconds = new Map(rows.map((r) => [processKey(r), r.cpuSeconds]));
  const elapsed = state.cpu ? (now - state.cpu.at) / 1000 : 0;
  const cpus = input.cpus ?? 0;
  const lowered = new Map(state.lowered);
  const weighted = new Map(state.weighted);
  const use: CpuUse[] = [];

  // Forget lowered processes that are gone: there is nothing left to restore.
  const present = new Map(rows.map((r) => [processKey(r), r]));
  for (const key of lowered.keys()) if (!present.has(key)) lowered.delete(key);

  const measurable = state.cpu !== undefined && elapsed > 0 && cpus > 0;
  const usedBy = new Map<string, number>();
  if (measurable) {
    for (const a of shares) {
      let used = 0;
      for (const r of rows) {
        if (governed.get(r) !== a) continue;
        const before = state.cpu!.seconds.get(processKey(r));
        const delta = before === undefined ? 0 : Math.max(0, r.cpuSeconds - before);
        usedBy.set(processKey(r), delta);
        used += delta;
      }
      use.push({ criteria: a.criteria, share: a.cpu_percent! / 100, used: used / (elapsed * cpus) });
    }
  }

  // No reading (the first sample after a start or reload) says nothing about contention: change nothing.
  if (total === undefined) return { state: { cpu: { at: now, seconds }, lowered, weighted }, use, contended };

  // A lowered process stays lowered while contention lasts under the same policy, even if it dipped
  // under its share this sample: that is what lowering it was for.
  for (const [key, entry] of lowered) {
    if (contended && policy?.name === entry.policy && shares.some((a) => a.criteria === entry.criteria)) continue;
    decisions.push({ kind: 'restore_priority', policy: entry.policy, criteria: entry.criteria, subject: entry.subject, cpu: total, originalNice: entry.originalNice });
    lowered.delete(key);
  }
  for (const [cgroup, entry] of weighted) {
    if (contended && policy?.name === entry.policy && shares.some((a) => a.criteria === entry.criteria && a.cgroup === cgroup)) continue;
    decisions.push({ kind: 'restore_cpu_weight', policy: entry.policy, criteria: entry.criteria, cgroup, cpu: total, originalWeight: entry.originalWeight });
    weighted.delete(cgroup);
  }

  if (contended && measurable) {
    for (const a of shares) {
      const u = use.find((x) => x.criteria === a.criteria)!;
      if (u.used <= u.share) continue;
      if (a.cgroup !== undefined) {
        if (!weighted.has(a.cgroup)) {
          decisions.push({ kind: 'set_cpu_weight', policy: policy!.name, criteria: a.criteria, cgroup: a.cgroup, weight: cpuWeightFor(u.share), cpu: total! });
          weighted.set(a.cgroup, { policy: policy!.name, criteria: a.criteria });
        }
        continue;
      }
      for (const r of rows) {
        const key = processKey(r);
        if (governed.get(r) !== a || lowered.has(key) || (usedBy.get(key) ?? 0) <= 0) continue;
        if (refusal(r, a.criteria, rules)) continue;
        decisions.push({ kind: 'lower_priority', policy: policy!.name, criteria: a.criteria, subject: subjectOf(r), nice: rules.enforcement.nice, cpu: total! });
        lowered.set(key, { policy: policy!.name, criteria: a.criteria, subject: subjectOf(r) });
      }
    }
  }
  return { state: { cpu: { at: now, seconds }, lowered, weighted }, use, contended };
}

/**
 * The cpu.weight that gives a cgroup `share` of the CPU against siblings at the default weight of
 * 100 taking the rest: weight / (weight + 100) = share. Clamped to the kernel's 1 to 10000.
 */
export function cpuWeightFor(share: number): number {
  if (share >= 1) return 10_000;
  return Math.min(10_000, Math.max(1, Math.round((100 * share) / (1 - share))));
}
