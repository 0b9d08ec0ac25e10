import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.js';
import type { Config } from '../../agent/config/schema.js';
import { compileSafetyRules, cpuWeightFor, decide, emptyState, type DecideInput, type PolicyState } from '../../agent/policy/decide.js';
import { noteOf } from '../../agent/policy/engine.js';
import type { ProcessRow } from '../../agent/process/table.js';
import { processRow } from '../helpers/builders.js';

const MiB = 2 ** 20;
const SELF = { pid: 5000, ppid: 4999 };

function configOf(yaml: string): Config {
  const result = parseConfigText(yaml, 'policy.yaml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

const BASE = `
criteria:
  - name: web
    include: [{ name: "web*" }]
  - name: rootjobs
    include: [{ name: "job*", user: root }]
  - name: batch
    include: [{ name: "batch*" }]
`;

const row = (over: Partial<ProcessRow> & { pid: number }): ProcessRow =>
  processRow({ comm: 'web', exe: '/usr/bin/web', cmdline: 'web', argv0: 'web', ppid: 300, criteria: ['web'], processGroup: 'web', ...over });

/** Runs the core over a sequence of (time, rows) and collects everything it decided. */
function run(config: Config, steps: Array<{ at: number; rows: ProcessRow[]; cpu?: number }>, state: PolicyState = emptyState()) {
  const rules = compileSafetyRules(config.enforcement, config.criteria, SELF);
  const policy = config.policies.find((p) => p.name === config.active_policy);
  const outs = [];
  for (const s of steps) {
    const input: DecideInput = { now: s.at, rows: s.rows, cpuUtilization: s.cpu, cpus: 2, policy, rules };
    const out = decide(input, state);
    state = out.state;
    outs.push(out);
  }
  return { outs, state, decisions: outs.flatMap((o) => o.decisions) };
}

const memoryPolicy = (action: string, extra = '') =>
  configOf(`${BASE}
policies:
  - name: day
    allocations:
      - criteria: web
        max_committed_memory: { limit: 100MiB, action: ${action}, for: 10s }
      - criteria: rootjobs
        max_committed_memory: { limit: 100MiB, action: stop }
active_policy: day
enforcement: { max_stops_per_hour: 2, max_stops_per_hour_total: 3${extra} }
`);

describe('policy decisions: memory limits', () => {
  it('stops only once the limit has been exceeded for the whole `for`, and once', () => {
    const config = memoryPolicy('stop');
    const over = row({ pid: 700, privateBytes: 150 * MiB });
    const { outs } = run(config, [0, 5_000, 9_999, 10_000, 15_000].map((at) => ({ at, rows: [over] })));
    expect(outs.map((o) => o.decisions.length)).toEqual([0, 0, 0, 1, 0]);
    expect(outs[3]!.decisions[0]).toMatchObject({ kind: 'limit', verdict: 'act', violation: { action: 'stop', measure: 'committed_memory', since: 0, subject: { pid: 700 } } });
    expect(outs[3]!.confirmed).toHaveLength(1);
  });

  it('restarts the clock when the process dips under the limit', () => {
    const config = memoryPolicy('stop');
    const over = row({ pid: 700, privateBytes: 150 * MiB });
    const under = row({ pid: 700, privateBytes: 50 * MiB });
    const { decisions } = run(config, [
      { at: 0, rows: [over] }, { at: 8_000, rows: [under] }, { at: 9_000, rows: [over] }, { at: 18_000, rows: [over] }, { at: 19_000, rows: [over] },
    ]);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ violation: { since: 9_000 } });
  });

  it('a new process on a reused pid starts its own clock', () => {
    const config = memoryPolicy('stop');
    const first = row({ pid: 700, privateBytes: 150 * MiB, startTime: 1 });
    const reused = row({ pid: 700, privateBytes: 150 * MiB, startTime: 2 });
    const { decisions } = run(config, [{ at: 0, rows: [first] }, { at: 9_000, rows: [reused] }, { at: 12_000, rows: [reused] }]);
    expect(decisions).toEqual([]);
  });

  it('log records the violation once per episode and keeps the alert note', () => {
    const config = memoryPolicy('log');
    const over = row({ pid: 700, privateBytes: 150 * MiB });
    const { outs } = run(config, [0, 10_000, 20_000].map((at) => ({ at, rows: [over] })));
    expect(outs[1]!.decisions).toMatchObject([{ verdict: 'act', violation: { action: 'log' } }]);
    expect(outs[2]!.decisions).toEqual([]);
    expect(outs[2]!.violations.map((v) => v.outcome)).toEqual([{ kind: 'logged' }]);
    expect(outs[2]!.violations.map((v) => noteOf(v.outcome))).toEqual(['logged (action log)']);
  });

  it('dry run decides but only says what it would do', () => {
    const config = memoryPolicy('stop', ', dry_run: true');
    const { decisions } = run(config, [0, 10_000].map((at) => ({ at, rows: [row({ pid: 700, privateBytes: 150 * MiB })] })));
    expect(decisions).toMatchObject([{ verdict: 'dry_run' }]);
  });
});

describe('policy decisions: working-set trim', () => {
  it('trims through the allocation\'s cgroup once per episode, never a protected process', () => {
    const config = configOf(`${BASE}
policies:
  - name: day
    allocations:
      - criteria: web
        cgroup: /sys/fs/cgroup/web
        max_working_set: { limit: 50MiB, action: trim }
active_policy: day
`);
    const big = row({ pid: 710, workingSetBytes: 80 * MiB });
    const sshd = row({ pid: 711, comm: 'sshd', workingSetBytes: 80 * MiB });
    const { outs } = run(config, [0, 1000].map((at) => ({ at, rows: [big, sshd] })));
    expect(outs[0]!.decisions).toMatchObject([
      { verdict: 'act', violation: { action: 'trim', measure: 'working_set', limit: 50 * MiB, subject: { pid: 710 } } },
      { verdict: 'refused', violation: { subject: { pid: 711 } } },
    ]);
    expect(outs[1]!.decisions).toEqual([]);
    expect(outs[1]!.violations.map((v) => v.outcome)).toEqual([
      { kind: 'acted', action: 'trim' },
      { kind: 'refused', action: 'trim', reason: 'protected: matches enforcement.protected "sshd"' },
    ]);
    expect(outs[1]!.violations.map((v) => noteOf(v.outcome))).toEqual(['trimmed to the limit through memory.high', 'not trimmed: protected: matches enforcement.protected "sshd"']);
  });
});

describe('policy decisions: safety rules', () => {
  const config = memoryPolicy('stop');
  const refusedFor = (r: ProcessRow): string | undefined => {
    const { decisions } = run(config, [0, 10_000].map((at) => ({ at, rows: [r] })));
    expect(decisions).toHaveLength(1);
    const d = decisions[0]!;
    return d.kind === 'limit' && d.verdict === 'refused' ? d.reason : undefined;
  };
  const big = { privateBytes: 150 * MiB };

  it('never stops pid 1, the agent, its parent or a kernel thread', () => {
    expect(refusedFor(row({ pid: 1, ...big }))).toMatch(/pid 1/);
    expect(refusedFor(row({ pid: SELF.pid, ...big }))).toMatch(/itself/);
    expect(refusedFor(row({ pid: SELF.ppid, ...big }))).toMatch(/parent/);
    expect(refusedFor(row({ pid: 800, ppid: 2, ...big }))).toMatch(/kernel thread/);
  });

  it('never stops a protected name, by its name, exe or title', () => {
    expect(refusedFor(row({ pid: 801, comm: 'sshd', ...big }))).toBe('protected: matches enforcement.protected "sshd"');
    expect(refusedFor(row({ pid: 802, comm: 'x', exe: '/lib/systemd/systemd-journald', ...big }))).toMatch(/"systemd\*"/);
  });

  it('stops root only when the criteria names user root', () => {
    expect(refusedFor(row({ pid: 803, uid: 0, user: 'root', ...big }))).toBe('runs as root and criteria "web" does not name user root');
    const job = row({ pid: 804, comm: 'job1', uid: 0, user: 'root', criteria: ['rootjobs'], ...big });
    const { decisions } = run(config, [{ at: 0, rows: [job] }]);
    expect(decisions).toMatchObject([{ verdict: 'act', violation: { criteria: 'rootjobs' } }]);
  });

  it('holds to the per-policy stop rate and retries when the hour has passed', () => {
    const rows = [701, 702, 703].map((pid) => row({ pid, privateBytes: 150 * MiB }));
    const { outs } = run(config, [
      { at: 0, rows },
      { at: 10_000, rows },
      { at: 20_000, rows },
      { at: 3_600_001 + 10_000, rows },
    ]);
    const verdicts = outs.map((o) => o.decisions.map((d) => (d.kind === 'limit' ? d.verdict : d.kind)));
    expect(verdicts).toEqual([[], ['act', 'act', 'rate_limited'], [], ['act']]);
    expect(outs[2]!.violations.find((v) => v.subject.pid === 703)!.outcome).toMatchObject({ kind: 'rate_limited', reason: expect.stringMatching(/^stop rate limit reached/) });
  });

  it('holds to the global stop rate across policies', () => {
    const two = configOf(`${BASE}
policies:
  - { name: a, allocations: [{ criteria: web, max_committed_memory: { limit: 1MiB, action: stop } }] }
  - { name: b, allocations: [{ criteria: web, max_committed_memory: { limit: 1MiB, action: stop } }] }
active_policy: a
enforcement: { max_stops_per_hour: 5, max_stops_per_hour_total: 2 }
`);
    const rules = compileSafetyRules(two.enforcement, two.criteria, SELF);
    const a = decide({ now: 0, rows: [row({ pid: 1001 }), row({ pid: 1002 })], policy: two.policies[0], rules }, emptyState());
    const b = decide({ now: 1000, rows: [row({ pid: 1003 })], policy: two.policies[1], rules }, a.state);
    expect(a.decisions.map((d) => d.kind === 'limit' && d.verdict)).toEqual(['act', 'act']);
    expect(b.decisions.map((d) => d.kind === 'limit' && d.verdict)).toEqual(['rate_limited']);
  });
});

describe('policy decisions: CPU shares', () => {
  const config = configOf(`${BASE}
policies:
  - name: day
    allocations:
      - { criteria: web, cpu_percent: 20 }
      - { criteria: batch, cpu_percent: 30, cgroup: /sys/fs/cgroup/batch }
active_policy: day
`);
  const web = (cpuSeconds: number) => row({ pid: 900, cpuSeconds });
  const idleWeb = (cpuSeconds: number) => row({ pid: 901, cpuSeconds });

  it('lowers a criteria above its share only at or above 70% total, and restores when contention ends', () => {
    // 2 CPUs, 1 s apart: 0.9 CPU-seconds is 45% of the host, above web's 20%.
    const { outs } = run(config, [
      { at: 0, rows: [web(0), idleWeb(0)], cpu: 0.9 },
      { at: 1000, rows: [web(0.9), idleWeb(0)], cpu: 0.69 },
      { at: 2000, rows: [web(1.8), idleWeb(0)], cpu: 0.7 },
      { at: 3000, rows: [web(2.7), idleWeb(0)], cpu: 0.95 },
      { at: 4000, rows: [web(2.8), idleWeb(0)], cpu: 0.3 },
    ]);
    const kinds = outs.map((o) => o.decisions.map((d) => `${d.kind}${'subject' in d ? `:${d.subject.pid}` : ''}`));
    expect(kinds).toEqual([[], [], ['lower_priority:900'], [], ['restore_priority:900']]);
    expect(outs[2]!.cpuUse.find((u) => u.criteria === 'web')!.used).toBeCloseTo(0.45);
  });

  it('keeps what it lowered through a sample without a CPU reading (the first after a reload)', () => {
    const { outs } = run(config, [
      { at: 0, rows: [web(0)], cpu: 1 },
      { at: 1000, rows: [web(1)], cpu: 1 },
      { at: 2000, rows: [web(2)] },
      { at: 3000, rows: [web(3)], cpu: 1 },
    ]);
    expect(outs.map((o) => o.decisions.map((d) => d.kind))).toEqual([[], ['lower_priority'], [], []]);
    expect(outs[3]!.state.lowered.size).toBe(1);
  });

  it('leaves a criteria within its share alone however busy the host', () => {
    const { decisions } = run(config, [
      { at: 0, rows: [web(0)], cpu: 1 },
      { at: 1000, rows: [web(0.3)], cpu: 1 },
      { at: 2000, rows: [web(0.6)], cpu: 1 },
    ]);
    expect(decisions).toEqual([]);
  });

  it('sets a configured cgroup\'s cpu.weight instead of nice, and restores it', () => {
    const batch = (cpuSeconds: number) => row({ pid: 950, comm: 'batch1', criteria: ['batch'], cpuSeconds });
    const { outs } = run(config, [
      { at: 0, rows: [batch(0)], cpu: 1 },
      { at: 1000, rows: [batch(1.5)], cpu: 1 },
      { at: 2000, rows: [batch(3)], cpu: 0.2 },
    ]);
    expect(outs[1]!.decisions).toMatchObject([{ kind: 'set_cpu_weight', cgroup: '/sys/fs/cgroup/batch', weight: cpuWeightFor(0.3) }]);
    expect(outs[2]!.decisions).toMatchObject([{ kind: 'restore_cpu_weight', cgroup: '/sys/fs/cgroup/batch' }]);
    expect(cpuWeightFor(0.3)).toBe(43);
    expect(cpuWeightFor(0.5)).toBe(100);
  });

  it('restores what a policy lowered when another policy takes over', () => {
    const two = configOf(`${BASE}
policies:
  - { name: day, allocations: [{ criteria: web, cpu_percent: 20 }] }
  - { name: night, allocations: [{ criteria: web, cpu_percent: 90 }] }
`);
    const rules = compileSafetyRules(two.enforcement, two.criteria, SELF);
    let state = emptyState();
    state = decide({ now: 0, rows: [web(0)], cpuUtilization: 1, cpus: 2, policy: two.policies[0], rules }, state).state;
    const lowered = decide({ now: 1000, rows: [web(1)], cpuUtilization: 1, cpus: 2, policy: two.policies[0], rules }, state);
    expect(lowered.decisions.map((d) => d.kind)).toEqual(['lower_priority']);
    const switched = decide({ now: 2000, rows: [web(2)], cpuUtilization: 1, cpus: 2, policy: two.policies[1], rules }, lowered.state);
    expect(switched.decisions.map((d) => d.kind)).toEqual(['restore_priority']);
  });

  it('never lowers a protected process or root outside an explicit criteria', () => {
    const sshd = (s: number) => row({ pid: 960, comm: 'sshd', cpuSeconds: s });
    const rootWeb = (s: number) => row({ pid: 961, uid: 0, user: 'root', cpuSeconds: s });
    const { decisions } = run(config, [
      { at: 0, rows: [sshd(0), rootWeb(0)], cpu: 1 },
      { at: 1000, rows: [sshd(1), rootWeb(1)], cpu: 1 },
    ]);
    expect(decisions).toEqual([]);
  });
});
