import { describe, expect, it } from 'vitest';
import { valueOf } from '../../agent/metrics/sample.js';
import { waitFor } from '../helpers/agent.js';
import { startEngine } from '../helpers/engine.js';

describe('policy calendar', () => {
  it('switches the managing policy on a seconds-resolution cron, logs and audits each switch', async () => {
    const running = await startEngine(`criteria:
  - { name: web, include: [{ name: "nginx*" }] }
policies:
  - { name: day, allocations: [{ criteria: web, cpu_percent: 60 }] }
  - { name: night, allocations: [{ criteria: web, cpu_percent: 20 }] }
active_policy: day
calendar:
  - { cron: "1-59/2 * * * * *", policy: night }
  - { cron: "*/2 * * * * *", policy: day, timezone: UTC }
enforcement: {}
`, '250ms');
    const switches = () => running.logs().filter((l) => l.msg === 'calendar switched the active policy');
    await waitFor(() => switches().some((l) => l.to === 'night') && switches().some((l) => l.to === 'day'), 10_000, 'a switch each way');
    const first = switches().find((l) => l.to === 'night')!;
    expect(first).toMatchObject({ from: 'day', cron: '1-59/2 * * * * *' });
    expect(running.audit().filter((a) => a.action === 'activate').map((a) => a.policy)).toEqual(expect.arrayContaining(['night', 'day']));

    // Each sample exports exactly one managing policy, and both took their turn.
    const active = (name: string) => running.samples().filter((s) => valueOf(s, 'contention_policy_active', { policy: name }) === 1).length;
    await waitFor(() => active('night') > 0 && active('day') > 0, 10_000, 'samples under each policy');
    for (const s of running.samples()) {
      expect((s.families.get('contention_policy_active') ?? []).reduce((n, x) => n + x.value, 0)).toBe(1);
    }
    expect(valueOf(running.samples().at(-1)!, 'contention_policy_cpu_share_ratio', { criteria: 'residual' })).toBeGreaterThan(0);
  });

  it('leaves the active policy alone without a calendar', async () => {
    const running = await startEngine(`criteria:
  - { name: web, include: [{ name: "nginx*" }] }
policies:
  - { name: day }
  - { name: night }
active_policy: night
enforcement: {}
`, '250ms');
    await waitFor(() => running.samples().length >= 3, 10_000, 'three samples');
    expect(running.engine.activePolicy()).toBe('night');
    expect(valueOf(running.samples().at(-1)!, 'contention_policy_active', { policy: 'day' })).toBe(0);
  });
});
