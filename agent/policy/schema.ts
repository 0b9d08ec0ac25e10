import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { byteSize, duration } from '../config/units.js';
import { glob } from '../process/criteria.js';
import { writablePathProblem } from '../files/make-dirs.js';

/** A path the agent writes files at: refused at load when it lies on a kernel pseudo-filesystem. */
const writablePath = z
  .string()
  .min(1)
  .superRefine((path, ctx) => {
    const problem = writablePathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const limitFields = {
  /** How long the limit must be exceeded without a break before the action is taken. */
  for: duration().optional(),
};

const memoryLimit = <A extends readonly [string, ...string[]]>(actions: A) =>
  z.object({ limit: byteSize(), action: z.enum(actions).default(actions[0]), ...limitFields }).strict();

const countLimit = <A extends readonly [string, ...string[]]>(actions: A) =>
  z.object({ limit: z.number().int().min(1).max(2 ** 32), action: z.enum(actions).default(actions[0]), ...limitFields }).strict();

export const allocationSchema = z
  .object({
    /** A criteria name from the top-level `criteria:` list. */
    criteria: z.string().min(1),
    /** Share of all CPUs the criteria's processes get while the host is contended. */
    cpu_percent: z.number().gt(0).max(100).optional(),
    /** Private bytes (committed memory) of each matching process. */
    max_committed_memory: memoryLimit(['log', 'stop'] as const).optional(),
    /** Resident memory of each matching process; `trim` sets the cgroup's memory.high to the limit. */
    max_working_set: memoryLimit(['log', 'trim'] as const).optional(),
    /** Open file descriptors (handles) of each matching process. */
    max_handles: countLimit(['log', 'stop'] as const).optional(),
    /** A cgroup v2 directory holding the criteria's processes: cpu.weight and memory.high are set there. */
    cgroup: z.string().startsWith('/', 'expected an absolute path to a cgroup v2 directory').optional(),
  })
  .strict();

export const policySchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-"'),
    allocations: z.array(allocationSchema).default([]),
  })
  .strict();

export const policiesSchema = z
  .array(policySchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `policy "${p.name}" is defined twice` });
      seen.add(p.name);
    });
  });

const cronExpression = z.string().superRefine((expr, ctx) => {
  const result = validateDetailed(expr);
  if (result.valid) return;
  const why = result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  ctx.addIssue({
    code: 'custom',
    message: `expected a cron expression ("[second] minute hour day-of-month month day-of-week", e.g. "0 8 * * 1-5") (got ${JSON.stringify(expr)}${why ? `: ${why}` : ''})`,
  });
});

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as "Europe/Paris" or "UTC"');

export const calendarSchema = z
  .array(z.object({ cron: cronExpression, policy: z.string().min(1), timezone: timezone.optional() }).strict())
  .default([]);

export const enforcementSchema = z
  .object({
    /** Log and audit what would be done, and do nothing. */
    dry_run: z.boolean().default(false),
    /** Process name globs never acted on (matched like a criteria's `name`). */
    protected: z.array(glob).default(['sshd', 'systemd*', 'init', 'login', 'agetty', 'dbus-daemon']),
    /** Stops allowed per policy in any hour; past it the agent logs and alerts instead. */
    max_stops_per_hour: z.number().int().min(0).max(10_000).default(5),
    /** Stops allowed for all policies together in any hour. */
    max_stops_per_hour_total: z.number().int().min(0).max(10_000).default(10),
    /** Time between SIGTERM and SIGKILL. */
    stop_grace: duration().default(10),
    /** Total CPU use (0 to 1) at and above which CPU shares apply: WSRM's 70%. */
    cpu_contention: z.number().gt(0).max(1).default(0.7),
    /** Nice value set on a process above its criteria's share (restored when contention ends). */
    nice: z.number().int().min(1).max(19).default(10),
    audit_log: z
      .object({
        path: writablePath.default('/var/log/contention-agent/policy-audit.jsonl'),
        /** Size at which the log is rotated to `.1`, `.1` to `.2`, and so on. */
        max_bytes: byteSize().default(10 * 2 ** 20),
        /** Rotated files kept. */
        keep: z.number().int().min(0).max(100).default(5),
      })
      .strict()
      .prefault({}),
    /** Where a directory of evidence is written before each stop. */
    evidence_dir: writablePath.default('/var/lib/contention-agent/evidence'),
    /** Where state that must outlive a restart is kept (the stop budget of the last hour); unset: evidence_dir's parent. */
    state_dir: writablePath.optional(),
    /** Evidence directories kept; the oldest go first. */
    max_evidence: z.number().int().min(1).max(10_000).default(50),
    /** How much of the tripped measure's history goes into the evidence. */
    evidence_history: duration().default(900),
  })
  .strict();

export type PoliciesConfig = z.output<typeof policiesSchema>;
export type PolicyConfig = PoliciesConfig[number];
export type AllocationConfig = PolicyConfig['allocations'][number];
export type CalendarConfig = z.output<typeof calendarSchema>;
export type EnforcementConfig = z.output<typeof enforcementSchema>;

/** What the cross-field checks read of the whole config. */
export interface PolicyConfigView {
  readonly criteria: ReadonlyArray<{ name: string }>;
  readonly policies: PoliciesConfig;
  readonly active_policy?: string;
  readonly calendar: CalendarConfig;
}

export interface ConfigIssue {
  readonly path: Array<string | number>;
  readonly message: string;
}

/**
 * Checks that need more than one section: allocations name defined criteria, CPU shares fit in 100%,
 * `trim` has a cgroup to trim (on Linux), and the active policy and calendar name defined policies.
 */
export function policyConfigIssues(config: PolicyConfigView, platform: NodeJS.Platform = process.platform): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const criteria = config.criteria.map((c) => c.name);
  const policies = new Set(config.policies.map((p) => p.name));
  const known = (names: Iterable<string>) => [...names].map((n) => `"${n}"`).join(', ') || 'none';
  config.policies.forEach((policy, i) => {
    const seen = new Set<string>();
    let shares = 0;
    policy.allocations.forEach((a, j) => {
      const at = ['policies', i, 'allocations', j];
      if (!criteria.includes(a.criteria)) {
        issues.push({ path: [...at, 'criteria'], message: `unknown criteria "${a.criteria}" (defined under criteria: ${known(criteria)})` });
      }
      if (seen.has(a.criteria)) issues.push({ path: [...at, 'criteria'], message: `criteria "${a.criteria}" has two allocations in policy "${policy.name}"` });
      seen.add(a.criteria);
      shares += a.cpu_percent ?? 0;
      // Windows trims one process's working set directly (SetProcessWorkingSetSizeEx); Linux needs a cgroup.
      if (a.max_working_set?.action === 'trim' && a.cgroup === undefined && platform !== 'win32') {
        issues.push({
          path: [...at, 'max_working_set', 'action'],
          message:
            'action "trim" needs "cgroup": Linux has no per-process working-set cap, so the agent trims through a cgroup v2 memory.high; set cgroup to the directory holding these processes, or use action "log"',
        });
      }
    });
    if (shares > 100) {
      issues.push({ path: ['policies', i, 'allocations'], message: `CPU shares of policy "${policy.name}" add up to ${shares}%, more than 100%` });
    }
  });
  if (config.active_policy !== undefined && !policies.has(config.active_policy)) {
    issues.push({ path: ['active_policy'], message: `unknown policy "${config.active_policy}" (defined under policies: ${known(policies)})` });
  }
  config.calendar.forEach((entry, i) => {
    if (!policies.has(entry.policy)) {
      issues.push({ path: ['calendar', i, 'policy'], message: `unknown policy "${entry.policy}" (defined under policies: ${known(policies)})` });
    }
  });
  return issues;
}
